"""The weekly leaderboard digest's SQL: a chat's setting, the due candidates, the slot.

The slot is taken as for the event digest (``bot.store.digests.take_slot``): a
conditional update of ``last_sent_at`` from the value read, so of two workers only one
queues a week's leaderboard, and a crash before the commit leaves the week untaken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Chat, LeaderboardDigest, Watchlist


@dataclass(frozen=True, slots=True)
class LeaderboardPlan:
    """A chat's weekly leaderboard as stored, with its chat and watchlist name."""

    digest: LeaderboardDigest
    chat: Chat
    watchlist: str | None


async def set_leaderboard_digest(
    session: AsyncSession,
    chat_id: int,
    *,
    watchlist_id: int | None,
    platform: str | None,
    metric: str,
    at: str | None,
    now: datetime,
) -> LeaderboardDigest:
    """Create or change the chat's weekly leaderboard; the first one comes at the next slot."""
    row = await session.get(LeaderboardDigest, chat_id)
    if row is None:
        row = LeaderboardDigest(chat_id=chat_id, created_at=now)
        session.add(row)
    row.watchlist_id, row.platform, row.metric = watchlist_id, platform, metric
    row.digest_time = at or row.digest_time or "09:00"
    # Only slots after this moment count (as for the event digest).
    row.last_sent_at = now
    await session.flush()
    return row


async def remove_leaderboard_digest(session: AsyncSession, chat_id: int) -> bool:
    """Turn the chat's weekly leaderboard off; False when it had none."""
    result = await session.execute(
        delete(LeaderboardDigest).where(LeaderboardDigest.chat_id == chat_id)
    )
    # A DELETE returns a CursorResult; the stubs type execute() as a plain Result.
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def leaderboard_plan(session: AsyncSession, chat_id: int) -> LeaderboardPlan | None:
    """The chat's weekly leaderboard, or None."""
    plans = await _plans(session, [LeaderboardDigest.chat_id == chat_id])
    return plans[0] if plans else None


async def leaderboard_plans(
    session: AsyncSession, backends: Sequence[str] | None = None
) -> list[LeaderboardPlan]:
    """Every active chat's weekly leaderboard (on ``backends``, when given)."""
    conditions = [Chat.active.is_(True)]
    if backends is not None:
        conditions.append(Chat.backend.in_(sorted(backends)))
    return await _plans(session, conditions)


async def _plans(session: AsyncSession, conditions: Sequence[object]) -> list[LeaderboardPlan]:
    stmt = (
        select(LeaderboardDigest, Chat, Watchlist.name)
        .join(Chat, Chat.id == LeaderboardDigest.chat_id)
        .outerjoin(Watchlist, Watchlist.id == LeaderboardDigest.watchlist_id)
        # The conditions are SQL expressions; the signature says object to keep callers plain.
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(LeaderboardDigest.chat_id)
    )
    return [LeaderboardPlan(d, c, w) for d, c, w in (await session.execute(stmt)).all()]


async def take_leaderboard_slot(
    session: AsyncSession, chat_id: int, *, seen: datetime | None, now: datetime
) -> bool:
    """Record ``now`` as the chat's leaderboard time unless another worker already moved it."""
    result = await session.execute(
        update(LeaderboardDigest)
        .where(
            LeaderboardDigest.chat_id == chat_id,
            LeaderboardDigest.last_sent_at.is_not_distinct_from(seen),
        )
        .values(last_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE returns a CursorResult; the stubs type execute() as a plain Result.
    return bool(result.rowcount)  # type: ignore[attr-defined]
