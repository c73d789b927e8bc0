"""The atomic write of observations: health, state, snapshot, posts, events and outbox.

Everything one observation changes is written in a single transaction guarded by the
account's lease: the transaction first locks the account rows it may write and keeps
only those this worker still leases, so when another worker has taken an account over
(our lease expired) nothing of that observation is written. Events carry a unique
``dedup_key`` and are inserted with ``ON CONFLICT DO NOTHING``; delivery rows are created
only for events that were new. ``write_observations`` may be given several observations
(a write batch): each is still all-or-nothing, the statements just cover them together
with ``executemany`` so a busy worker pays a few round trips per batch, not per row.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert, Update

from bot.detect.state import Detection, State, iso, same_words, text_hash, trim
from bot.domain import EventKind, Observation, PostSeen, Status
from bot.failpoints import failpoint
from bot.store.fanout import Fanout
from bot.store.models import (
    Account,
    AccountState,
    Delivery,
    EventRow,
    Post,
    PostVersion,
    Snapshot,
)
from bot.store.sameness import Observed, SameText, coordinate

log = logging.getLogger(__name__)
STATE_COLUMNS = tuple(f.name for f in fields(State))
ERROR_LIMIT = 500
#: Texts of edited and deleted posts in event payloads are cut to this many characters
#: (the alert bounds what it shows; the evidence file has every version in full).
QUOTE_LIMIT = 4000
#: (account id, event kind, platform post id) -> payload keys the store adds.
Quotes = dict[tuple[int, str, str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """What the scheduler decided for the account row alongside the observation."""

    account_id: int
    official_id: int
    owner: str
    polled_at: datetime
    next_poll_at: datetime
    consecutive_failures: int
    validators: dict[str, Any]
    platform_id: str | None = None


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """One observation ready to store: its bookkeeping, detection and subscribers."""

    book: Bookkeeping
    obs: Observation
    detection: Detection
    fanout: Fanout


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one observation's writes stored."""

    events: int
    deliveries: int
    posts: int


def _fit(value: str | None, limit: int | None = None) -> str | None:
    """Text a column accepts: no NUL (PostgreSQL refuses it) and within the column's size."""
    if value is None:
        return None
    value = value.replace("\x00", "")
    return value[:limit] if limit else value


def _insert(dialect: str, table: Any) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def load_states(conn: AsyncConnection, account_ids: Sequence[int]) -> dict[int, State]:
    """The stored state of each account that has one (one query)."""
    if not account_ids:
        return {}
    cols = [getattr(AccountState, name) for name in STATE_COLUMNS]
    rows = await conn.execute(
        select(AccountState.account_id, *cols).where(AccountState.account_id.in_(account_ids))
    )
    states: dict[int, State] = {}
    for row in rows:
        values = dict(zip(STATE_COLUMNS, row[1:], strict=True))
        values["extra"] = dict(values["extra"] or {})
        values["followers_margin"] = values["followers_margin"] or 0
        states[row[0]] = State(**values)
    return states


# -- statements, built once per dialect (SQLAlchemy then reuses their compiled form) ---


@cache
def _lock_owned() -> Update:
    # Touching the rows locks them (PostgreSQL) or takes the write lock (SQLite) for the
    # rest of the transaction, so no claim can take them over before we commit.
    return (
        update(Account)
        .where(
            Account.id.in_(bindparam("ids", expanding=True)),
            Account.lease_owner == bindparam("owner"),
        )
        .values(lease_owner=bindparam("owner"))
        .returning(Account.id)
    )


@cache
def _account_update() -> Update:
    return (
        update(Account)
        .where(Account.id == bindparam("b_id"))
        .values(
            lease_until=None,
            lease_owner=None,
            next_poll_at=bindparam("b_next"),
            last_polled_at=bindparam("b_polled"),
            last_success_at=func.coalesce(
                bindparam("b_success", type_=Account.last_success_at.type), Account.last_success_at
            ),
            last_status=bindparam("b_status"),
            consecutive_failures=bindparam("b_failures"),
            last_error=bindparam("b_error"),
            http_validators=bindparam("b_validators", type_=Account.http_validators.type),
            platform_id=func.coalesce(
                bindparam("b_platform_id", type_=Account.platform_id.type), Account.platform_id
            ),
        )
    )


@cache
def _state_upsert(dialect: str) -> Insert:
    stmt = _insert(dialect, AccountState)
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[AccountState.account_id],
        set_={name: stmt.excluded[name] for name in STATE_COLUMNS},
    )


@cache
def _post_upsert(dialect: str) -> Insert:
    stmt = _insert(dialect, Post)
    changed = or_(Post.text_hash.is_(None), Post.text_hash != stmt.excluded.text_hash)
    # No bound parameter in the SET clause: with one, SQLAlchemy sends an upsert with
    # RETURNING one row at a time (sqlalchemy#13130); with none, in batches of rows.
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[Post.account_id, Post.platform_post_id],
        set_={
            "url": stmt.excluded.url,
            "text": stmt.excluded.text,
            "views": stmt.excluded.views,
            "edited": or_(Post.edited, stmt.excluded.edited),
            "deleted": false(),
            "deleted_at": null(),
            "last_seen_at": stmt.excluded.last_seen_at,
            "text_hash": stmt.excluded.text_hash,
            # A new version only when the text changed, not when a post is seen again.
            "versions": case((changed, Post.versions + literal_column("1")), else_=Post.versions),
        },
    ).returning(Post.id, Post.account_id, Post.platform_post_id, Post.versions)


@cache
def _version_insert(dialect: str) -> Insert:
    return _insert(dialect, PostVersion).on_conflict_do_nothing(  # type: ignore[no-any-return]
        index_elements=[PostVersion.post_id, PostVersion.version]
    )


@cache
def _version_sighting() -> Update:
    return (
        update(PostVersion)
        .where(
            PostVersion.post_id == bindparam("b_post"),
            PostVersion.version == bindparam("b_version"),
        )
        .values(
            last_seen_at=func.coalesce(
                bindparam("b_seen", type_=PostVersion.last_seen_at.type), PostVersion.last_seen_at
            ),
            views=func.coalesce(bindparam("b_views", type_=Integer()), PostVersion.views),
        )
    )


@cache
def _post_deleted() -> Update:
    return (
        update(Post)
        .where(
            Post.account_id == bindparam("b_account"), Post.platform_post_id == bindparam("b_post")
        )
        .values(deleted=True, deleted_at=bindparam("b_at"))
    )


@cache
def _event_insert(dialect: str) -> Insert:
    return (  # type: ignore[no-any-return]
        _insert(dialect, EventRow)
        .on_conflict_do_nothing(index_elements=[EventRow.dedup_key])
        .returning(EventRow.id, EventRow.account_id, EventRow.kind, EventRow.dedup_key)
    )


@cache
def _delivery_insert(dialect: str) -> Insert:
    return _insert(dialect, Delivery).on_conflict_do_nothing(  # type: ignore[no-any-return]
        index_elements=[Delivery.event_id, Delivery.chat_id]
    )


# -- the write ----------------------------------------------------------------------


async def write_observations(
    conn: AsyncConnection,
    items: Sequence[PendingWrite],
    *,
    detected_at: datetime,
    same: SameText | None = None,
) -> dict[int, WriteResult | None]:
    """Store observations in the caller's transaction; per account, None if the lease was lost.

    ``same`` decides same-text groups (``bot.store.sameness``); None: the default rules.
    """
    owners = {item.book.owner for item in items}
    if not items:
        return {}
    if len(owners) != 1:
        raise ValueError("one write batch belongs to one lease owner")
    ids = [item.book.account_id for item in items]
    owned = set((await conn.execute(_lock_owned(), {"ids": ids, "owner": owners.pop()})).scalars())
    kept = [item for item in items if item.book.account_id in owned]
    results: dict[int, WriteResult | None] = {account_id: None for account_id in ids}
    if not kept:
        return results
    dialect = conn.dialect.name
    await conn.execute(_account_update(), [_account_params(i.book, i.obs) for i in kept])
    await conn.execute(_state_upsert(dialect), [_state_row(i) for i in kept])
    snapshots = [_snapshot_row(i) for i in kept if i.detection.snapshot]
    if snapshots:
        await conn.execute(Snapshot.__table__.insert(), snapshots)  # type: ignore[attr-defined]
    failpoint("store.mid_transaction")  # crash suite: state and snapshots written, posts not yet
    quotes = await _quote_posts(conn, kept)
    posts, post_ids = await _save_posts(conn, dialect, kept, quotes)
    events, deliveries = await _save_events(conn, dialect, kept, detected_at, quotes)
    observed = [
        (i.book.account_id, i.book.official_id, i.detection, i.obs.fetched_at) for i in kept
    ]
    await _coordinate(conn, dialect, observed, post_ids, detected_at, same or _DEFAULT_SAME)
    for item in kept:
        account_id = item.book.account_id
        results[account_id] = WriteResult(
            events=events.get(account_id, 0),
            deliveries=deliveries.get(account_id, 0),
            posts=posts.get(account_id, 0),
        )
    return results


async def _coordinate(
    conn: AsyncConnection,
    dialect: str,
    observed: Sequence[Observed],
    post_ids: dict[tuple[int, str], int],
    detected_at: datetime,
    same: SameText,
) -> None:
    # In a savepoint: a failure of same-text detection is logged and undone, and the
    # observations themselves (posts, events, alerts) are still stored.
    try:
        async with conn.begin_nested():
            await coordinate(conn, dialect, observed, post_ids, detected_at=detected_at,
                             same=same)  # fmt: skip
    except Exception:
        log.exception("same-text detection failed for a write batch; stored without it")


#: Same-text detection with the default rules, for callers that do not configure it.
_DEFAULT_SAME = SameText()


def _account_params(book: Bookkeeping, obs: Observation) -> dict[str, Any]:
    unknown = obs.status is Status.UNKNOWN
    return {
        "b_id": book.account_id,
        "b_next": book.next_poll_at,
        "b_polled": book.polled_at,
        "b_success": None if unknown else book.polled_at,
        "b_status": obs.status.value,
        "b_failures": book.consecutive_failures,
        "b_error": _fit(obs.reason, ERROR_LIMIT) if unknown else None,
        "b_validators": book.validators,
        "b_platform_id": book.platform_id,
    }


def _state_row(item: PendingWrite) -> dict[str, Any]:
    state = item.detection.state
    row = {name: getattr(state, name) for name in STATE_COLUMNS}
    row["reason"] = _fit(row["reason"], 100)
    row["display_name"] = _fit(row["display_name"], 500)
    row["description"] = _fit(row["description"])
    row["avatar_url"] = _fit(row["avatar_url"], 2000)
    row["account_id"] = item.book.account_id
    return row


def _snapshot_row(item: PendingWrite) -> dict[str, Any]:
    state = item.detection.state
    return {
        "account_id": item.book.account_id,
        "observed_at": item.obs.fetched_at,
        "followers": state.followers,
        "followers_exact": state.followers_exact,
        "posts_count": state.posts_count,
        "display_name": _fit(state.display_name, 500),
        "description": _fit(state.description),
        "avatar_url": _fit(state.avatar_url, 2000),
    }


def _post_row(account_id: int, post: PostSeen, edited: bool, seen_at: datetime) -> dict[str, Any]:
    text = _fit(post.text) or ""
    return {
        "account_id": account_id,
        "platform_post_id": _fit(post.id, 200),
        "url": _fit(post.url, 2000),
        "published_at": post.published_at,
        "text": text,
        "views": post.views,
        "edited": post.edited or edited,
        "deleted": False,
        "forwarded_from": _fit(post.forwarded_from, 500),
        "is_reply": post.is_reply,
        "is_repost": post.is_repost,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "deleted_at": None,
        "text_hash": text_hash(text),
        "versions": 1,
    }


def _version_row(post_id: int, version: int, post: PostSeen, seen_at: datetime) -> dict[str, Any]:
    raw = _fit(post.raw)
    return {
        "post_id": post_id,
        "version": version,
        "text": _fit(post.text) or "",
        "raw": raw,
        # The hash of the fragment as stored, so an evidence file can be checked against it.
        "raw_sha256": None if raw is None else hashlib.sha256(raw.encode()).hexdigest(),
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "views": post.views,
    }


async def _save_posts(
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
            _post_row(account_id, p, p.id in d.edited and _real_edit(quotes, account_id, p.id),
                      seen_at)
            for p in d.posts
        ]  # fmt: skip
        seen.update({(account_id, _fit(p.id, 200) or ""): (p, seen_at) for p in d.posts})
        gone += [
            {"b_account": account_id, "b_post": _fit(pid, 200), "b_at": seen_at}
            for pid in d.deleted
        ]
        counts[account_id] = len(d.posts)
    if rows:
        stored = []
        for part in _rounds(rows):
            stored += (await conn.execute(_post_upsert(dialect), part)).all()
        ids = {(account_id, platform_id): post_id for post_id, account_id, platform_id, _ in stored}
        versions = [
            _version_row(post_id, version, post, at)
            for post_id, account_id, platform_id, version in stored
            for post, at in (seen[(account_id, platform_id)],)
            if not post.is_repost  # a repost is someone else's text: activity, not evidence
        ]
        if versions:
            await conn.execute(_version_insert(dialect), versions)
    if gone:
        await conn.execute(_post_deleted(), gone)
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


async def _quote_posts(conn: AsyncConnection, items: Sequence[PendingWrite]) -> Quotes:
    """What edit and deletion payloads quote from the stored post, before it is overwritten.

    Also records the last sighting of the stored version being superseded or deleted.
    """
    wanted: dict[tuple[int, str], tuple[str, PendingWrite]] = {}
    for item in items:
        for event in item.detection.events:
            if event.kind in (EventKind.POST_EDITED, EventKind.POST_DELETED):
                key = (item.book.account_id, _fit(str(event.payload["post_id"]), 200) or "")
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
        await conn.execute(_version_sighting(), sightings)
    return quotes


def _real_edit(quotes: Quotes, account_id: int, post_id: str) -> bool:
    """False for an edit the stored text shows to be spacing only (see ``_quote``)."""
    return not quotes.get((account_id, EventKind.POST_EDITED.value, post_id), {}).get(_NO_EDIT)


#: Marks a ``post_edited`` whose stored text differs from the new one only in whitespace:
#: a window hashed before the hashing change, or a parser that now ends lines elsewhere.
_NO_EDIT = "_no_edit"


def _quote(
    kind: str, item: PendingWrite, platform_id: str, text: str, url: str | None,
    published: datetime | None, views: int | None, count: int,
) -> dict[str, Any]:  # fmt: skip
    if kind == EventKind.POST_EDITED.value:
        post = next((p for p in item.detection.posts if p.id == platform_id), None)
        new = trim(post.text, QUOTE_LIMIT) if post is not None else None
        if post is not None and same_words(text, post.text):
            return {_NO_EDIT: True}
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


async def _save_events(
    conn: AsyncConnection,
    dialect: str,
    items: Sequence[PendingWrite],
    detected_at: datetime,
    quotes: Quotes,
) -> tuple[dict[int, int], dict[int, int]]:
    rows: list[dict[str, Any]] = []
    fanouts: dict[int, tuple[int, Fanout]] = {}
    for item in items:
        book = item.book
        fanouts[book.account_id] = (book.official_id, item.fanout)
        for e in item.detection.events:
            quote = quotes.get((book.account_id, e.kind.value, str(e.payload.get("post_id"))), {})
            if quote.get(_NO_EDIT):
                continue  # the words are the same: not an edit, whatever the hash said
            rows.append(
                {
                    "account_id": book.account_id,
                    "official_id": book.official_id,
                    "kind": e.kind.value,
                    "payload": dict(e.payload) | quote,
                    "occurred_at": e.occurred_at,
                    "detected_at": detected_at,
                    "dedup_key": e.dedup_key,
                }
            )
    events: dict[int, int] = {}
    deliveries: dict[int, int] = {}
    if not rows:
        return events, deliveries
    # the post's (new) text, by dedup key: keyword subscriptions are decided from it
    texts = {row["dedup_key"]: row["payload"].get("text") for row in rows}
    outbox: list[dict[str, Any]] = []
    for event_id, account_id, kind, key in await conn.execute(_event_insert(dialect), rows):
        events[account_id] = events.get(account_id, 0) + 1
        official_id, fanout = fanouts[account_id]
        text = texts.get(key)
        targets = fanout.targets(official_id, kind, text if isinstance(text, str) else None)
        deliveries[account_id] = deliveries.get(account_id, 0) + len(targets)
        outbox += [
            {
                "event_id": event_id,
                "chat_id": chat_id,
                "status": status,
                "attempts": 0,
                "next_attempt_at": detected_at,
                "created_at": detected_at,
            }
            for chat_id, status in targets
        ]
    if outbox:
        await conn.execute(_delivery_insert(dialect), outbox)
    return events, deliveries
