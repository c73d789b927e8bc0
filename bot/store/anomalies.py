"""The SQL of ``/anomalies``: follower alerts marked unusual, largest first.

The mark is decided once, when the event is detected (``bot.detect.unusual``), and kept
in the payload, so this reads only the follower events of the period (``ix_events_kind``
narrows to them) and orders them by the stored ratio in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Account, EventRow, Official, WatchlistMember

FOLLOWER_KINDS = ("followers_up", "followers_down")


@dataclass(frozen=True, slots=True)
class UnusualJump:
    """One unusual follower alert with the account and official it is about."""

    event: EventRow
    account: Account
    official: Official


@dataclass(frozen=True, slots=True)
class UnusualJumps:
    """The largest unusual jumps of a period (up to the limit) and how many there were."""

    jumps: list[UnusualJump]
    total: int


def _scope(
    since: datetime, until: datetime, watchlist_id: int | None, platform: str | None
) -> list[Any]:
    conditions: list[Any] = [
        EventRow.kind.in_(FOLLOWER_KINDS),
        EventRow.occurred_at >= since,
        EventRow.occurred_at <= until,
        EventRow.payload["unusual"].as_boolean().is_(True),
    ]
    if watchlist_id is not None:
        members = select(WatchlistMember.official_id).where(
            WatchlistMember.watchlist_id == watchlist_id
        )
        conditions.append(Account.official_id.in_(members))
    if platform is not None:
        conditions.append(Account.platform == platform)
    return conditions


def _joined(stmt: Any) -> Any:
    # Any: the stubs type each select's column tuple apart, and both selects join alike.
    return stmt.join(Account, Account.id == EventRow.account_id).join(
        Official, Official.id == Account.official_id
    )


async def unusual_jumps(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    watchlist_id: int | None = None,
    platform: str | None = None,
    limit: int = 20,
) -> UnusualJumps:
    """Follower alerts marked unusual in [``since``, ``until``], largest ratio first."""
    conditions = _scope(since, until, watchlist_id, platform)
    ratio = EventRow.payload["ratio"].as_float()
    stmt = (
        _joined(select(EventRow, Account, Official))
        .where(*conditions)
        .order_by(ratio.desc(), EventRow.occurred_at.desc(), EventRow.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    count = _joined(select(func.count(EventRow.id))).where(*conditions)
    total = int((await session.execute(count)).scalar_one())
    return UnusualJumps([UnusualJump(*row) for row in rows], total)
