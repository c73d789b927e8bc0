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

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert, Update

from bot.detect.state import Detection, State
from bot.domain import Observation, PostSeen, Status
from bot.failpoints import failpoint
from bot.store.fanout import Fanout
from bot.store.models import Account, AccountState, Delivery, EventRow, Post, Snapshot

STATE_COLUMNS = tuple(f.name for f in fields(State))
ERROR_LIMIT = 500


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
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[Post.account_id, Post.platform_post_id],
        set_={
            "url": stmt.excluded.url,
            "text": stmt.excluded.text,
            "views": stmt.excluded.views,
            "edited": or_(Post.edited, stmt.excluded.edited),
            "deleted": False,
            "deleted_at": None,
            "last_seen_at": stmt.excluded.last_seen_at,
        },
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
    conn: AsyncConnection, items: Sequence[PendingWrite], *, detected_at: datetime
) -> dict[int, WriteResult | None]:
    """Store observations in the caller's transaction; per account, None if the lease was lost."""
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
    posts = await _save_posts(conn, dialect, kept)
    events, deliveries = await _save_events(conn, dialect, kept, detected_at)
    for item in kept:
        account_id = item.book.account_id
        results[account_id] = WriteResult(
            events=events.get(account_id, 0),
            deliveries=deliveries.get(account_id, 0),
            posts=posts.get(account_id, 0),
        )
    return results


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
    return {
        "account_id": account_id,
        "platform_post_id": _fit(post.id, 200),
        "url": _fit(post.url, 2000),
        "published_at": post.published_at,
        "text": _fit(post.text),
        "views": post.views,
        "edited": post.edited or edited,
        "deleted": False,
        "forwarded_from": _fit(post.forwarded_from, 500),
        "is_reply": post.is_reply,
        "is_repost": post.is_repost,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "deleted_at": None,
    }


async def _save_posts(
    conn: AsyncConnection, dialect: str, items: Sequence[PendingWrite]
) -> dict[int, int]:
    rows: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    counts: dict[int, int] = {}
    for item in items:
        d, account_id, seen_at = item.detection, item.book.account_id, item.obs.fetched_at
        rows += [_post_row(account_id, p, p.id in d.edited, seen_at) for p in d.posts]
        gone += [
            {"b_account": account_id, "b_post": _fit(pid, 200), "b_at": seen_at}
            for pid in d.deleted
        ]
        counts[account_id] = len(d.posts)
    if rows:
        await conn.execute(_post_upsert(dialect), rows)
    if gone:
        await conn.execute(_post_deleted(), gone)
    return counts


async def _save_events(
    conn: AsyncConnection, dialect: str, items: Sequence[PendingWrite], detected_at: datetime
) -> tuple[dict[int, int], dict[int, int]]:
    rows: list[dict[str, Any]] = []
    fanouts: dict[int, tuple[int, Fanout]] = {}
    for item in items:
        book = item.book
        fanouts[book.account_id] = (book.official_id, item.fanout)
        rows += [
            {
                "account_id": book.account_id,
                "official_id": book.official_id,
                "kind": e.kind.value,
                "payload": dict(e.payload),
                "occurred_at": e.occurred_at,
                "detected_at": detected_at,
                "dedup_key": e.dedup_key,
            }
            for e in item.detection.events
        ]
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
