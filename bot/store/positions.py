"""Positions held: who is in office on which days, as SQL and as plain rows.

A position's ``start`` and ``end`` are inclusive days (None: open). An official is in
office during a period when one of their positions overlaps it, or when they have no
positions at all (rosters from before tenure was kept: always in office).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import BindParameter

from bot.store.models import Official, Position


@dataclass(frozen=True, slots=True)
class Tenure:
    """One position: its title and its first and last day (None: open)."""

    title: str
    start: date | None = None
    end: date | None = None

    def overlaps(self, first: date, last: date) -> bool:
        """Held on at least one day from ``first`` to ``last``."""
        started = self.start is None or self.start <= last
        return started and (self.end is None or self.end >= first)

    def key(self) -> tuple[date, date, str]:
        """Sort key: by start (open starts first), end, title."""
        return (self.start or date.min, self.end or date.max, self.title)


def in_office_clause(
    official_id: ColumnElement[int] | InstrumentedAttribute[int],
    first: date | BindParameter[date],
    last: date | BindParameter[date],
) -> ColumnElement[bool]:
    """SQL: ``official_id`` held a position on a day from ``first`` to ``last``, or holds none."""
    # Put as "not among those whose every position misses the period": one uncorrelated
    # subquery the database runs once, not a probe per member.
    overlaps = and_(
        or_(Position.start.is_(None), Position.start <= last),
        or_(Position.end.is_(None), Position.end >= first),
    )
    out_of_office = (
        select(Position.official_id)
        .group_by(Position.official_id)
        .having(func.max(case((overlaps, 1), else_=0)) == 0)
    )
    return official_id.not_in(out_of_office)


def period_days(since: datetime, until: datetime) -> tuple[date, date]:
    """The days (UTC) a period touches, first and last."""
    return since.date(), until.date()


def office_bounds(since: datetime, until: datetime) -> dict[str, date]:
    """Bound values for the ``office_first`` / ``office_last`` parameters."""
    first, last = period_days(since, until)
    return {"office_first": first, "office_last": last}


def is_former(tenures: Sequence[Tenure], today: date) -> bool:
    """Has positions, and every one ended before ``today``."""
    return bool(tenures) and all(t.end is not None and t.end < today for t in tenures)


def last_held(tenures: Sequence[Tenure]) -> Tenure | None:
    """The position that ended last (None for no positions)."""
    ended = [t for t in tenures if t.end is not None]
    return max(ended, key=lambda t: (t.end or date.min, t.title)) if ended else None


def current_title(tenures: Sequence[Tenure], today: date) -> str | None:
    """The title to show: the latest-started position held ``today``, else the last held."""
    held = [t for t in tenures if t.overlaps(today, today)]
    if held:
        return max(held, key=lambda t: (t.start or date.min, t.title)).title
    last = last_held(tenures)
    if last is not None:
        return last.title
    return tenures[0].title if tenures else None


async def tenures_of(session: AsyncSession, official_ids: Iterable[int]) -> dict[int, list[Tenure]]:
    """Each official's positions, oldest first."""
    ids = list(official_ids)
    if not ids:
        return {}
    stmt = select(Position.official_id, Position.title, Position.start, Position.end).where(
        Position.official_id.in_(ids)
    )
    out: dict[int, list[Tenure]] = {}
    for official_id, title, start, end in (await session.execute(stmt)).all():
        out.setdefault(official_id, []).append(Tenure(title, start, end))
    for tenures in out.values():
        tenures.sort(key=Tenure.key)
    return out


async def set_tenures(session: AsyncSession, official_id: int, old: Sequence[Position],
                      new: Sequence[Tenure]) -> None:  # fmt: skip
    """Replace ``old`` (the official's position rows) by ``new``."""
    for row in old:
        await session.delete(row)
    for item in new:
        session.add(Position(official_id=official_id, title=item.title, start=item.start,
                             end=item.end))  # fmt: skip


async def position_rows(
    session: AsyncSession, official_ids: Iterable[int]
) -> dict[int, list[Position]]:
    """The position rows of these officials (to compare and replace on import)."""
    ids = list(official_ids)
    out: dict[int, list[Position]] = {}
    if not ids:
        return out
    for row in await session.scalars(select(Position).where(Position.official_id.in_(ids))):
        out.setdefault(row.official_id, []).append(row)
    return out


def official_in_office(first: date, last: date) -> ColumnElement[bool]:
    """SQL on ``officials``: in office on a day from ``first`` to ``last``."""
    return in_office_clause(Official.id, first, last)
