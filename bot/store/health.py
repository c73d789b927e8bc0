"""The queries behind /metrics and /healthz: polling backlog, degraded accounts, outbox lag.

Each runs on every scrape, so each reads an index range whose size is the backlog, not
the table: ``ix_accounts_due`` for accounts due and not yet polled,
``ix_account_state_degraded`` (partial: degraded rows only) for degraded accounts, and
``ix_deliveries_due`` for deliveries not yet sent. ``tests/test_ops_queries.py`` checks
the plans on both databases.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.models import Account, AccountState, Chat, Delivery
from bot.store.types import UTCDateTime

#: Statuses of a delivery that has not reached its chat yet.
UNSENT = ("pending", "claimed", "sending")


@dataclass(frozen=True, slots=True)
class PlatformHealth:
    """One platform's polling backlog and its degraded accounts."""

    #: Enabled accounts whose next poll time has passed (being polled or waiting).
    due: int = 0
    #: The earliest next poll time among them.
    oldest_due_at: datetime | None = None
    #: Enabled accounts whose source is degraded (``source_degraded`` and no recovery yet).
    degraded: int = 0


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    """One chat backend's deliveries not yet sent."""

    unsent: int = 0
    #: When the oldest unsent delivery was queued.
    oldest_created_at: datetime | None = None
    #: The earliest due time among pending deliveries already due (how far the relay lags).
    oldest_due_at: datetime | None = None


async def ping(conn: AsyncConnection) -> None:
    """One round trip: the database answers."""
    await conn.execute(text("SELECT 1"))


async def platform_health(conn: AsyncConnection, now: datetime) -> dict[str, PlatformHealth]:
    """Due and degraded accounts per platform, in one statement (platforms with none omitted)."""
    # Grouping by an expression keeps SQLite from walking the (platform, handle) index
    # over the whole table just to avoid sorting a handful of due rows.
    platform = Account.platform.concat(literal_column("''"))
    due = (
        select(literal("due").label("part"), platform, func.count().label("n"),
               func.min(Account.next_poll_at).label("at"))
        .where(Account.enabled.is_(True), Account.next_poll_at <= now)
        .group_by(platform)
    )  # fmt: skip
    # A lookup per degraded row (few), not a join PostgreSQL may answer by scanning accounts.
    platform_of = (
        select(Account.platform)
        .where(Account.id == AccountState.account_id, Account.enabled.is_(True))
        .scalar_subquery()
    )
    flagged = (
        select(platform_of.label("platform"))
        .where(AccountState.degraded == True)  # noqa: E712  # the partial index's own predicate
        .subquery()
    )
    degraded = select(
        literal("degraded"), flagged.c.platform, func.count(), cast(null(), UTCDateTime)
    ).group_by(flagged.c.platform)
    due_of: dict[str, tuple[int, datetime | None]] = {}
    degraded_of: dict[str, int] = {}
    for part, name, n, at in (await conn.execute(union_all(due, degraded))).all():
        if part == "due":
            due_of[str(name)] = (int(n), at)
        elif name is not None:  # None: degraded accounts since disabled
            degraded_of[str(name)] = int(n)
    return {
        name: PlatformHealth(
            due=due_of.get(name, (0, None))[0],
            oldest_due_at=due_of.get(name, (0, None))[1],
            degraded=degraded_of.get(name, 0),
        )
        for name in due_of.keys() | degraded_of.keys()
    }


async def outbox_health(
    conn: AsyncConnection, now: datetime, *, backends: Collection[str] | None = None
) -> dict[str, OutboxHealth]:
    """Unsent deliveries per chat backend (of ``backends`` if given; none: left out)."""
    due_at = case(
        (and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
         Delivery.next_attempt_at),
    )  # fmt: skip
    stmt = (
        select(Chat.backend, func.count(), func.min(Delivery.created_at), func.min(due_at))
        .select_from(Delivery)
        # "+ 0": the unsent rows are found by status (a short range of ix_deliveries_due),
        # not by walking every delivery each chat ever had (SQLite's choice otherwise).
        .join(Chat, Chat.id == Delivery.chat_id + literal_column("0"))
        .where(_rare(conn, Delivery.status.in_(UNSENT)))
        .group_by(Chat.backend)
    )
    if backends is not None:
        stmt = stmt.where(Chat.backend.in_(sorted(backends)))
    rows = (await conn.execute(stmt)).all()
    return {
        str(backend): OutboxHealth(unsent=int(n), oldest_created_at=created, oldest_due_at=due)
        for backend, n, created, due in rows
    }


def _rare(conn: AsyncConnection, cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """``cond``, marked as true for few rows where the planner cannot know it (SQLite)."""
    # SQLite's ANALYZE keeps only the average rows per status, and almost every row is
    # "sent": without the hint it scans the whole outbox instead of its unsent range.
    if conn.dialect.name == "sqlite":
        return func.unlikely(cond)
    return cond
