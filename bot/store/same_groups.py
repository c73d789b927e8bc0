"""The ``coordinated_posts`` groups of a period, for ``/same``: newest first, one query each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import EventRow, Watchlist, WatchlistMember

#: Events read per /same; a period with more lists the newest and counts the rest.
READ_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Group:
    """One announced group: its event id, when it was complete, and its payload."""

    event_id: int
    occurred_at: datetime
    payload: dict[str, Any]


async def recent_groups(
    session: AsyncSession, *, since: datetime, watchlist: str | None = None
) -> list[Group]:
    """Groups announced since ``since``, newest first; with ``watchlist``, those naming a
    member of it."""
    rows = await session.execute(
        select(EventRow.id, EventRow.occurred_at, EventRow.payload)
        .where(EventRow.kind == "coordinated_posts", EventRow.occurred_at >= since)
        .order_by(EventRow.occurred_at.desc(), EventRow.id.desc())
        .limit(READ_LIMIT)
    )
    groups = [Group(r.id, r.occurred_at, dict(r.payload or {})) for r in rows]
    if watchlist is None:
        return groups
    members = set(
        (
            await session.scalars(
                select(WatchlistMember.official_id)
                .join(Watchlist, Watchlist.id == WatchlistMember.watchlist_id)
                .where(Watchlist.name == watchlist)
            )
        ).all()
    )
    return [g for g in groups if members & _officials(g.payload)]


def _officials(payload: dict[str, Any]) -> set[int]:
    return {
        int(p["official_id"])
        for p in payload.get("posts") or ()
        if isinstance(p, dict) and isinstance(p.get("official_id"), int)
    }
