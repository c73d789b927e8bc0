"""Posts and their versions, and the stored text that edit and deletion events quote.

A post is upserted every time it is seen (views, last sighting); a version row is added
only when its text changed, so storage grows with edits, not polls. Edit and deletion
payloads quote the stored post before the upsert overwrites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.detect.state import iso, same_words, trim
from bot.domain import EventKind, PostSeen
from bot.store.models import Post
from bot.store.observe_items import PendingWrite, fit, post_row, version_row
from bot.store.observe_sql import post_deleted, post_upsert, version_insert, version_sighting

#: Texts of edited and deleted posts in event payloads are cut to this many characters
#: (the alert bounds what it shows; the evidence file has every version in full).
QUOTE_LIMIT = 4000
#: (account id, event kind, platform post id) -> payload keys the store adds.
Quotes = dict[tuple[int, str, str], dict[str, Any]]


async def save_posts(
    conn: AsyncConnection, dialect: str, items: Sequence[PendingWrite], quotes: Quotes
) -> tuple[dict[int, int], dict[tuple[int, str], int]]:
    """Upsert the posts and their new versions: (posts per account, post ids by platform id)."""
    ids: dict[tuple[int, str], int] = {}
    rows: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    counts: dict[int, int] = {}
    seen: dict[tuple[int, str], tuple[PostSeen, datetime]] = {}
    for item in items:
        d, account_id, seen_at = item.detection, item.book.account_id, item.obs.fetched_at
        rows += [
            post_row(account_id, p, p.id in d.edited and _real_edit(quotes, account_id, p.id),
                      seen_at, d)
            for p in d.posts
        ]  # fmt: skip
        seen.update({(account_id, fit(p.id, 200) or ""): (p, seen_at) for p in d.posts})
        gone += [
            {"b_account": account_id, "b_post": fit(pid, 200), "b_at": seen_at} for pid in d.deleted
        ]
        counts[account_id] = len(d.posts)
    if rows:
        stored: list[Any] = []
        for part in _rounds(rows):
            stored += (await conn.execute(post_upsert(dialect), part)).all()
        ids = {(account_id, platform_id): post_id for post_id, account_id, platform_id, _ in stored}
        versions = [
            version_row(post_id, version, post, at)
            for post_id, account_id, platform_id, version in stored
            for post, at in (seen[(account_id, platform_id)],)
            if not post.is_repost  # a repost is someone else's text: activity, not evidence
        ]
        if versions:
            await conn.execute(version_insert(dialect), versions)
    if gone:
        await conn.execute(post_deleted(), gone)
    return counts, ids


def _rounds(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The rows in statements that each touch a post once, in their order.

    One multi-row upsert may not update a row twice (PostgreSQL refuses it), so a post
    seen twice in a batch (a page listing it twice) goes in a second statement, after
    the first: the same outcome as writing the rows one by one.
    """
    rounds: list[list[dict[str, Any]]] = []
    seen: dict[tuple[Any, Any], int] = {}
    for row in rows:
        key = (row["account_id"], row["platform_post_id"])
        n = seen[key] = seen.get(key, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(row)
    return rounds


async def quote_posts(conn: AsyncConnection, items: Sequence[PendingWrite]) -> Quotes:
    """What edit and deletion payloads quote from the stored post, before it is overwritten.

    Also records the last sighting of the stored version being superseded or deleted.
    """
    wanted: dict[tuple[int, str], tuple[str, PendingWrite]] = {}
    for item in items:
        for event in item.detection.events:
            if event.kind in (EventKind.POST_EDITED, EventKind.POST_DELETED):
                key = (item.book.account_id, fit(str(event.payload["post_id"]), 200) or "")
                wanted[key] = (event.kind.value, item)
    if not wanted:
        return {}
    rows = await conn.execute(
        select(Post.id, Post.account_id, Post.platform_post_id, Post.text, Post.url,
               Post.published_at, Post.views, Post.versions)
        .where(tuple_(Post.account_id, Post.platform_post_id).in_(list(wanted)))
    )  # fmt: skip
    quotes: Quotes = {}
    sightings: list[dict[str, Any]] = []
    for post_id, account_id, platform_id, text, url, published, views, count in rows:
        kind, item = wanted[(account_id, platform_id)]
        at, seen_views = item.detection.sightings.get(platform_id, (None, None))
        sightings.append(
            {"b_post": post_id, "b_version": count, "b_seen": at, "b_views": seen_views}
        )
        quotes[(account_id, kind, platform_id)] = _quote(
            kind, item, platform_id, text, url, published, views, count
        )
    if sightings:
        await conn.execute(version_sighting(), sightings)
    return quotes


def _real_edit(quotes: Quotes, account_id: int, post_id: str) -> bool:
    """False for an edit the stored text shows to be spacing only (see ``_quote``)."""
    return not quotes.get((account_id, EventKind.POST_EDITED.value, post_id), {}).get(NO_EDIT)


#: Marks a ``post_edited`` whose stored text differs from the new one only in whitespace:
#: a window hashed before the hashing change, or a parser that now ends lines elsewhere.
NO_EDIT = "_no_edit"


def _quote(
    kind: str, item: PendingWrite, platform_id: str, text: str, url: str | None,
    published: datetime | None, views: int | None, count: int,
) -> dict[str, Any]:  # fmt: skip
    if kind == EventKind.POST_EDITED.value:
        post = next((p for p in item.detection.posts if p.id == platform_id), None)
        new = trim(post.text, QUOTE_LIMIT) if post is not None else None
        if post is not None and same_words(text, post.text):
            return {NO_EDIT: True}
        return {"old_text": trim(text, QUOTE_LIMIT), "version": count + 1} | (
            {"text": new} if new is not None else {}
        )
    event = next(
        e for e in item.detection.events
        if e.kind is EventKind.POST_DELETED and e.payload.get("post_id") == platform_id
    )  # fmt: skip
    return {
        "text": trim(text, QUOTE_LIMIT),
        "url": url or event.payload.get("url"),
        "published_at": event.payload.get("published_at") or iso(published),
        "views": event.payload.get("views") if event.payload.get("views") is not None else views,
        "versions": count,
    }
