"""Watchlists, their members and their per-list detection thresholds."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import KeywordSubscription, Official, Subscription, Watchlist, WatchlistMember

#: The columns an editor may override per watchlist.
THRESHOLD_COLUMNS = frozenset({"silent_after_s", "follower_change_percent", "follower_change_min"})


async def find_watchlist(session: AsyncSession, name: str) -> Watchlist | None:
    """The watchlist called ``name`` (case-insensitive)."""
    if not name:
        return None
    stmt = select(Watchlist).where(func.lower(Watchlist.name) == name.lower())
    return (await session.scalars(stmt.limit(1))).first()


async def all_watchlists(session: AsyncSession) -> list[Watchlist]:
    """Every watchlist, by name."""
    return list((await session.scalars(select(Watchlist).order_by(Watchlist.name))).all())


async def member_names(session: AsyncSession, watchlist_id: int) -> list[str]:
    """The names of a watchlist's members, sorted."""
    stmt = (
        select(Official.name)
        .join(WatchlistMember, WatchlistMember.official_id == Official.id)
        .where(WatchlistMember.watchlist_id == watchlist_id)
        .order_by(Official.name)
    )
    return list((await session.scalars(stmt)).all())


async def member_counts(session: AsyncSession) -> list[tuple[str, str | None, int]]:
    """(name, title, number of members) of every watchlist, by name."""
    stmt = (
        select(Watchlist.name, Watchlist.title, func.count(WatchlistMember.official_id))
        .outerjoin(WatchlistMember, WatchlistMember.watchlist_id == Watchlist.id)
        .group_by(Watchlist.id, Watchlist.name, Watchlist.title)
        .order_by(Watchlist.name)
    )
    return [(str(r[0]), r[1], int(r[2])) for r in (await session.execute(stmt)).all()]


def create_watchlist(session: AsyncSession, name: str, title: str | None) -> None:
    """Add a new, empty watchlist."""
    session.add(Watchlist(name=name, title=title))


async def delete_watchlist(session: AsyncSession, watchlist: Watchlist) -> None:
    """Delete a watchlist and every subscription to it (plain and by keywords)."""
    for model in (Subscription, KeywordSubscription):
        await session.execute(
            delete(model).where(model.target_type == "watchlist", model.target_id == watchlist.id)
        )
    await session.delete(watchlist)


async def set_member(
    session: AsyncSession, watchlist_id: int, official_id: int, *, present: bool
) -> None:
    """Add (``present``) or remove an official; repeating either is harmless."""
    member = await session.get(WatchlistMember, (watchlist_id, official_id))
    if present and member is None:
        session.add(WatchlistMember(watchlist_id=watchlist_id, official_id=official_id))
    elif not present and member is not None:
        await session.delete(member)


def set_threshold(watchlist: Watchlist, column: str, value: float | None) -> float | None:
    """Override (or, with None, reset) one threshold column; returns the old value."""
    if column not in THRESHOLD_COLUMNS:
        raise ValueError(column)
    old: float | None = getattr(watchlist, column)
    setattr(watchlist, column, value)
    return old
