"""Same text from several officials: sketches of new posts, candidates, ``coordinated_posts``.

Runs inside the poll's write transaction (``write_observations``), after the posts and
their events are stored. Each new post (one that raised ``new_post``; forwards are left
out: they name their origin) with enough words gets one ``post_sketches`` row and
``BANDS`` ``post_bands`` rows, written for the whole batch with ``executemany``. One
indexed query then reads the stored sketches sharing a band key with any new post of
the batch within the window (``ix_post_bands_key_published``), and
``bot.detect.sameness.decide`` says what each new post does:

- it matches a post of an announced group: it joins that group (the event's payload
  lists it, ``/same`` shows it) and no second alert is sent;
- with the posts it matches it covers ``officials`` (3) different officials: one
  ``coordinated_posts`` event (dedup key ``coordinated_posts:<first post's id>``), one
  delivery per chat that follows any of them, directly or through a watchlist (or all);
- otherwise nothing, until a later post completes the group.

Sketches older than the window are pruned every ``PRUNE_EVERY`` from a write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Insert

from bot.detect.sameness import SameRules, Sketch, Sketched, decide, sketch
from bot.detect.state import Detection, iso, trim
from bot.domain import EventKind
from bot.store.fanout import DIGEST, PENDING, load_fanout, outbox_row
from bot.store.models import (
    Account,
    Delivery,
    EventRow,
    Official,
    Post,
    PostBand,
    PostSketch,
)

#: One observation of the batch as seen here: account id, official id, detection, fetch time.
Observed = tuple[int, int, Detection, datetime]
KIND = EventKind.COORDINATED_POSTS.value
#: The text quoted in the event (the alert shows less).
TEXT_LIMIT = 1000
#: Band keys per candidate query (bound parameters stay far below the drivers' limits).
KEYS_PER_QUERY = 5000
#: How often a write also deletes the sketches older than the window.
PRUNE_EVERY = timedelta(minutes=10)


class SameText:
    """The rules of same-text detection and when this process last pruned old sketches."""

    def __init__(self, rules: SameRules | None = None, *, enabled: bool = True) -> None:
        self.rules = rules or SameRules()
        self.enabled = enabled
        self.pruned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewPost:
    """A new post of the batch with its sketch."""

    post_id: int
    account_id: int
    official_id: int
    published_at: datetime
    sketch: Sketch


def new_posts(
    items: Sequence[Observed], ids: Mapping[tuple[int, str], int], rules: SameRules
) -> list[NewPost]:
    """The batch's new posts (those with a ``new_post`` event) that have a sketch."""
    found: list[NewPost] = []
    for account_id, official_id, detection, fetched_at in items:
        posts = {p.id: p for p in detection.posts}
        for event in detection.events:
            if event.kind is not EventKind.NEW_POST:
                continue
            post = posts.get(str(event.payload.get("post_id")))
            if post is None or post.is_repost or post.forwarded_from:
                continue  # a forward or repost names its origin: not the official's own text
            post_id = ids.get((account_id, post.id[:200]))
            made = sketch(post.text, min_words=rules.min_words)
            if post_id is None or made is None:
                continue
            published = post.published_at or fetched_at
            found.append(NewPost(post_id, account_id, official_id, published, made))
    return found


def seconds(moment: datetime) -> int:
    """Whole seconds since the epoch: how ``post_bands`` stores a publication time."""
    return int(moment.timestamp())


def _insert(dialect: str, table: Any) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@cache
def _sketch_insert(dialect: str) -> Insert:
    # The dialects' insert() is typed per dialect; _insert returns Any to choose at run time.
    return (  # type: ignore[no-any-return]
        _insert(dialect, PostSketch)
        .on_conflict_do_nothing(index_elements=[PostSketch.post_id])
        .returning(PostSketch.post_id)
    )


@cache
def _band_insert(dialect: str) -> Insert:
    # As above: the dialect's insert, typed Any.
    return _insert(dialect, PostBand).on_conflict_do_nothing(  # type: ignore[no-any-return]
        index_elements=[PostBand.post_id, PostBand.band]
    )


@cache
def _candidates(dialect: str) -> Select[int, int, int, datetime, bytes, int | None]:
    # PostgreSQL gets the keys as one array (= ANY): one prepared statement whatever
    # their number; SQLite an expanded IN list.
    if dialect == "postgresql":
        keys = PostBand.band_key == any_(bindparam("keys", type_=postgresql.ARRAY(BigInteger)))
    else:
        keys = PostBand.band_key.in_(bindparam("keys", expanding=True))
    return (
        select(
            PostBand.band_key,
            PostSketch.post_id,
            PostSketch.official_id,
            PostSketch.published_at,
            PostSketch.signature,
            PostSketch.group_event_id,
        )
        .join(PostSketch, PostSketch.post_id == PostBand.post_id)
        .where(
            keys,
            PostBand.published_s >= bindparam("lo"),
            PostBand.published_s <= bindparam("hi"),
        )
    )


async def coordinate(
    conn: AsyncConnection,
    dialect: str,
    items: Sequence[Observed],
    ids: Mapping[tuple[int, str], int],
    *,
    detected_at: datetime,
    same: SameText,
) -> tuple[int, int]:
    """Sketch the batch's new posts and raise ``coordinated_posts``: (events, deliveries)."""
    if not same.enabled:
        return 0, 0
    await _prune(conn, same, detected_at)
    fresh = new_posts(items, ids, same.rules)
    if not fresh:
        return 0, 0
    stored = set(
        (
            await conn.execute(
                _sketch_insert(dialect),
                [
                    {
                        "post_id": p.post_id,
                        "account_id": p.account_id,
                        "official_id": p.official_id,
                        "published_at": p.published_at,
                        "signature": p.sketch.signature,
                        "group_event_id": None,
                    }
                    for p in fresh
                ],
            )
        ).scalars()
    )
    fresh = [p for p in fresh if p.post_id in stored]  # a replayed write: seen already
    if not fresh:
        return 0, 0
    await _insert_bands(conn, dialect, fresh)
    window = same.rules.window
    keys = sorted({key for p in fresh for key in p.sketch.bands})
    lo = seconds(min(p.published_at for p in fresh) - window)
    hi = seconds(max(p.published_at for p in fresh) + window) + 1
    known: dict[int, Sketched] = {}
    by_key: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(keys), KEYS_PER_QUERY):  # one query but for huge batches
        chunk = keys[start : start + KEYS_PER_QUERY]
        rows = await conn.execute(_candidates(dialect), {"keys": chunk, "lo": lo, "hi": hi})
        for key, post_id, official_id, published_at, signature, group in rows:
            by_key[key].add(post_id)
            if post_id not in known:
                known[post_id] = Sketched(
                    post_id, official_id, published_at, bytes(signature), group
                )
    return await _decide_all(conn, dialect, fresh, known, by_key, detected_at, same.rules)


#: PostgreSQL takes a batch's band rows as four arrays in one statement: 20 rows per new
#: post would otherwise cost as many parameter sets to build and send.
_PG_BANDS = text(
    "INSERT INTO post_bands (post_id, band, band_key, published_s) "
    "SELECT * FROM unnest(CAST(:posts AS bigint[]), CAST(:bands AS integer[]), "
    "CAST(:keys AS bigint[]), CAST(:times AS bigint[])) "
    "ON CONFLICT DO NOTHING"
)


async def _insert_bands(conn: AsyncConnection, dialect: str, fresh: Sequence[NewPost]) -> None:
    rows = [
        (p.post_id, n, key, at)
        for p in fresh
        for at in (seconds(p.published_at),)
        for n, key in enumerate(p.sketch.bands)
    ]
    if dialect == "postgresql":
        posts, bands, keys, times = (list(column) for column in zip(*rows, strict=True))
        await conn.execute(_PG_BANDS, {"posts": posts, "bands": bands, "keys": keys,
                                       "times": times})  # fmt: skip
        return
    await conn.execute(
        _band_insert(dialect),
        [{"post_id": a, "band": b, "band_key": c, "published_s": d} for a, b, c, d in rows],
    )


async def _decide_all(
    conn: AsyncConnection,
    dialect: str,
    fresh: Sequence[NewPost],
    known: dict[int, Sketched],
    by_key: Mapping[int, set[int]],
    detected_at: datetime,
    rules: SameRules,
) -> tuple[int, int]:
    events = deliveries = 0
    for post in sorted(fresh, key=lambda p: (p.published_at, p.post_id)):
        me = known.get(post.post_id)
        if me is None or me.group is not None:
            continue
        near = {pid for key in post.sketch.bands for pid in by_key.get(key, ())}
        decision = decide(me, [known[pid] for pid in sorted(near) if pid in known], rules)
        if decision.join is not None:
            me.group = decision.join
            await _join(conn, decision.join, me)
        elif decision.members:
            sent = await _announce(conn, dialect, decision.members, detected_at, rules)
            if sent is not None:
                events += 1
                deliveries += sent[1]
                for member in decision.members:
                    member.group = sent[0]
    return events, deliveries


async def _prune(conn: AsyncConnection, same: SameText, now: datetime) -> None:
    if same.pruned_at is not None and now - same.pruned_at < PRUNE_EVERY:
        return
    same.pruned_at = now
    cutoff = now - same.rules.window * 2
    old = select(PostSketch.post_id).where(PostSketch.published_at < cutoff)
    await conn.execute(delete(PostBand).where(PostBand.post_id.in_(old)))
    await conn.execute(delete(PostSketch).where(PostSketch.published_at < cutoff))


async def _details(conn: AsyncConnection, post_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Who posted each post, where, when and with which text (one query)."""
    rows = await conn.execute(
        select(
            Post.id,
            Post.url,
            Post.text,
            Post.published_at,
            Post.first_seen_at,
            Post.platform_post_id,
            Account.id,
            Account.platform,
            Account.handle,
            Account.url,
            Official.id,
            Official.name,
            Official.name_ru,
            Official.name_kk,
            Official.name_en,
        )
        .join(Account, Account.id == Post.account_id)
        .join(Official, Official.id == Account.official_id)
        .where(Post.id.in_(list(post_ids)))
    )
    found: dict[int, dict[str, Any]] = {}
    for r in rows:
        found[r[0]] = {
            "post": r[0],
            "post_id": r[5],
            "url": r[1],
            "published_at": iso(r[3] or r[4]),
            "account_id": r[6],
            "platform": r[7],
            "handle": r[8],
            "profile_url": r[9],
            "official_id": r[10],
            "name": r[11],
            "names": {k: v for k, v in (("ru", r[12]), ("kk", r[13]), ("en", r[14])) if v},
            "_text": r[2] or "",
        }
    return found


def _entry(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in detail.items() if not k.startswith("_")}


async def _announce(
    conn: AsyncConnection,
    dialect: str,
    members: Sequence[Sketched],
    detected_at: datetime,
    rules: SameRules,
) -> tuple[int, int] | None:
    """Store the group's event and its deliveries: (event id, deliveries), None if known."""
    details = await _details(conn, [m.post_id for m in members])
    posts = [details[m.post_id] for m in members if m.post_id in details]
    if len({p["official_id"] for p in posts}) < rules.officials:
        return None  # an official or post vanished meanwhile
    first, last = members[0], members[-1]
    payload = {
        "text": trim(posts[0]["_text"], TEXT_LIMIT),
        "officials": len({p["official_id"] for p in posts}),
        "posts": [_entry(p) for p in posts],
        "first_at": iso(first.published_at),
        "last_at": iso(last.published_at),
        "window_s": int(rules.window.total_seconds()),
        "threshold": rules.threshold,
    }
    row = {
        "account_id": None,
        "official_id": None,
        "kind": KIND,
        "payload": payload,
        "occurred_at": last.published_at,
        "detected_at": detected_at,
        "dedup_key": f"{KIND}:{first.post_id}",
    }
    stmt = (
        _insert(dialect, EventRow)
        .on_conflict_do_nothing(index_elements=[EventRow.dedup_key])
        .returning(EventRow.id)
    )
    event_id = (await conn.execute(stmt, [row])).scalar()
    if event_id is None:
        return None  # another worker announced it first
    officials = sorted({int(p["official_id"]) for p in posts})
    fanout = await load_fanout(conn, officials, now=detected_at)
    chosen: dict[int, str] = {}
    for official_id in officials:
        for chat_id, status in fanout.targets(official_id, KIND):
            if chosen.get(chat_id) != PENDING:  # one delivery per chat; immediate wins
                chosen[chat_id] = PENDING if status == PENDING else DIGEST
    if chosen:
        await conn.execute(
            _insert(dialect, Delivery).on_conflict_do_nothing(
                index_elements=[Delivery.event_id, Delivery.chat_id]
            ),
            [
                outbox_row(event_id, chat_id, status, detected_at)
                for chat_id, status in sorted(chosen.items())
            ],
        )
    await conn.execute(
        update(PostSketch)
        .where(PostSketch.post_id.in_([m.post_id for m in members]))
        .values(group_event_id=event_id)
    )
    return event_id, len(chosen)


async def _join(conn: AsyncConnection, event_id: int, member: Sketched) -> None:
    """Add ``member`` to the announced group ``event_id``: listed, not alerted again."""
    await conn.execute(
        update(PostSketch)
        .where(PostSketch.post_id == member.post_id)
        .values(group_event_id=event_id)
    )
    payload = (await conn.execute(select(EventRow.payload).where(EventRow.id == event_id))).scalar()
    details = await _details(conn, [member.post_id])
    if not isinstance(payload, dict) or member.post_id not in details:
        return
    entry = _entry(details[member.post_id])
    posts = [*payload.get("posts", []), entry]
    payload = payload | {
        "posts": posts,
        "officials": len({p.get("official_id") for p in posts}),
        "last_at": max(str(payload.get("last_at") or ""), str(entry["published_at"] or "")),
        "joined": int(payload.get("joined", 0)) + 1,
    }
    await conn.execute(update(EventRow).where(EventRow.id == event_id).values(payload=payload))
