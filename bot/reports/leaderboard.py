"""Leaderboards (``/top``): followers now, growth over a period, posting activity.

An entry is one official: the sum over their accounts on the chosen platform (or on every
platform). Followers come from the latest-state table; growth needs one indexed snapshot
probe per account; posting activity one index range count per account. All of it is
summed per official inside the database in one statement, so Python only sorts a few
thousand sums. Ties share a rank; officials with no value are listed apart, never ranked
as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, Integer, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.history import followers_probe
from bot.reports.scope import OfficialRow, core_rows, resolve_watchlist
from bot.store.models import (
    Account,
    AccountState,
    Official,
    Post,
    WatchlistMember,
)

DEFAULT_PERIOD = timedelta(days=7)
MAX_LIMIT = 50
METRIC_NAMES = ("followers", "growth", "percent", "posts")
MISSING_LISTED = 25
_AGG_NAMES = (
    "oid", "n", "fsum", "fcnt", "stale", "gsum", "bsum", "gcnt", "late",
    "psum", "pread", "punread", "unk",
)  # fmt: skip
#: The aggregate's columns that make an _Agg (the rest are totals).
_AGG_COLUMNS = 12


@dataclass(frozen=True, slots=True)
class Entry:
    """One official's line in a leaderboard."""

    rank: int
    official: OfficialRow
    value: float
    followers: int | None
    growth: int | None = None
    growth_percent: float | None = None
    posts: int | None = None
    #: Some of the official's accounts gave no value (or only since first seen).
    partial: bool = False
    #: Some value comes from a source whose last fetch failed.
    stale: bool = False
    platforms: tuple[str, ...] = ()


@dataclass(slots=True)
class Leaderboard:
    """A ranked list, with the officials that could not be ranked and why."""

    metric: str
    platform: str | None
    period: timedelta
    watchlist: str | None
    measured_at: datetime
    members: int
    entries: list[Entry] = field(default_factory=list)
    #: Officials in scope with no value (no account there, or never read): the first
    #: ``MISSING_LISTED`` by name, and how many there are in all.
    missing: list[OfficialRow] = field(default_factory=list)
    missing_count: int = 0
    #: Accounts whose last fetch failed (values shown are their last known ones).
    unknown_accounts: int = 0
    #: Entries before the ``limit`` cut.
    ranked: int = 0

    @property
    def empty(self) -> bool:
        """Nothing could be ranked (no data yet)."""
        return not self.entries


@dataclass(frozen=True, slots=True)
class _Agg:
    """One official's sums, as the aggregate query returns them."""

    official_id: int
    accounts: int
    followers: int | None
    with_followers: int
    stale: bool
    growth: int | None
    base: int | None
    with_growth: int
    late: bool
    posts: int
    read: bool
    unread_posts: int

    @property
    def partial(self) -> bool:
        """Some account gave no figure, or growth only since the account was first seen."""
        missing = self.with_followers < self.accounts
        return (
            missing
            or self.late
            or self.unread_posts > 0
            or (self.growth is not None and self.with_growth < self.with_followers)
        )


async def top(
    session: AsyncSession,
    *,
    metric: str = "followers",
    platform: str | None = None,
    period: timedelta = DEFAULT_PERIOD,
    watchlist: str | None = None,
    limit: int = 10,
    now: datetime | None = None,
) -> Leaderboard:
    """Rank officials by ``metric`` (followers, growth, percent or posts) over ``period``."""
    if metric not in METRIC_NAMES:
        raise ValueError(f"unknown metric {metric!r}")
    now = now or datetime.now(UTC)
    wl = await resolve_watchlist(session, watchlist) if watchlist else None
    members = (
        select(WatchlistMember.official_id).where(WatchlistMember.watchlist_id == wl.id)
        if wl is not None
        else None
    )
    limit = max(1, min(limit, MAX_LIMIT))
    agg = _aggregate_query(metric, since=now - period, until=now, platform=platform,
                           members=members)  # fmt: skip
    rows = await core_rows(session, _ranked_query(metric, agg, limit=limit))
    board = Leaderboard(
        metric=metric,
        platform=platform,
        period=period,
        watchlist=wl.name if wl else None,
        measured_at=now,
        members=0,
        # Window totals ride on every row; no row at all means no live account in scope.
        unknown_accounts=int(rows[0].unknown or 0) if rows else 0,
        ranked=int(rows[0].ranked) if rows else 0,
    )
    scored = [(float(r.value), _Agg(*r[:_AGG_COLUMNS])) for r in rows if r.value is not None]
    unvalued = [r.oid for r in rows if r.value is None]
    await _rank(session, board, scored, unvalued, members, platform=platform, limit=limit)
    return board


def _value_sql(metric: str, c: Any) -> Any:
    # Who gets a value at all: in SQL, so only the leaders leave the database.
    if metric == "followers":
        return case((c.fcnt > 0, c.fsum))
    if metric == "growth":
        return case((c.gcnt > 0, c.gsum))
    if metric == "percent":
        ok = and_(c.gcnt > 0, c.bsum != 0, c.gsum.is_not(None))
        return case((ok, cast(c.gsum, Float) * 100.0 / c.bsum))
    return case((or_(c.pread > 0, c.punread > 0), func.coalesce(c.psum, 0)))


def _ranked_query(metric: str, agg: Select[Any], *, limit: int) -> Select[Any]:
    # Every official with no value comes back too (they are listed apart), plus the
    # leaders down to the ``limit``-th value (ties at the cut included). The per-official
    # sums are materialized once; the cut is a top-N pick on the value alone, so the
    # thousands of other rows are never sorted or sent.
    g = agg.cte("g")
    scored = select(*g.c, _value_sql(metric, g.c).label("value")).cte("scored")
    scored = scored.prefix_with("MATERIALIZED")
    value = scored.c.value
    cut = (
        select(value).where(value.is_not(None)).order_by(value.desc())
        .offset(limit - 1).limit(1).scalar_subquery()
    )  # fmt: skip
    ranked = select(func.count(value)).select_from(scored).scalar_subquery()
    unknown = select(func.sum(scored.c.unk)).select_from(scored).scalar_subquery()
    return select(*scored.c, ranked.label("ranked"), unknown.label("unknown")).where(
        or_(value.is_(None), cut.is_(None), value >= cut)
    )


def _live_accounts(platform: str | None, members: Select[int] | None) -> list[Any]:
    conditions: list[Any] = [
        Account.enabled.is_(True),
        func.coalesce(AccountState.missing, False).is_(False),
        func.coalesce(AccountState.status, "") != "absent",
    ]
    if platform:
        conditions.append(Account.platform == platform)
    if members is not None:
        conditions.append(Account.official_id.in_(members))
    return conditions


def _aggregate_query(
    metric: str,
    *,
    since: datetime,
    until: datetime,
    platform: str | None,
    members: Select[int] | None,
) -> Select[Any]:
    # One pass in the database: each account's figures in a materialized CTE (so every
    # snapshot probe runs once), summed per official. Python only sorts the sums.
    healthy = and_(AccountState.status == "ok", AccountState.degraded.is_(False))
    columns: list[Any] = [
        Account.id.label("aid"),
        Account.official_id.label("oid"),
        AccountState.followers.label("f"),
        case((healthy, 0), else_=1).label("stale"),
        case((AccountState.last_ok_at >= since, 1), else_=0).label("rd"),
    ]
    growth = metric in ("growth", "percent")
    if growth:
        columns.append(followers_probe(Account.id, at=since).label("b0"))
    if metric == "posts":
        posts = (
            select(func.count())
            .where(Post.account_id == Account.id, Post.published_at >= since)
            .scalar_subquery()
        )
        columns.append(posts.label("p"))
    acct = (
        select(*columns)
        .select_from(Account)
        .outerjoin(AccountState, AccountState.account_id == Account.id)
        .where(*_live_accounts(platform, members))
        .cte("acct")
        .prefix_with("MATERIALIZED")
    )
    c = acct.c
    null = literal(None, Integer)
    zero = literal(0, Integer)
    if growth:
        # The fallback probe (first count inside the period) only runs for accounts
        # with no snapshot older than the period: new accounts.
        base = func.coalesce(c.b0, followers_probe(c.aid, at=since, until=until))
        late = func.max(case((and_(c.b0.is_(None), base.is_not(None), c.f.is_not(None)), 1),
                             else_=0))  # fmt: skip
        growth_cols: list[Any] = [func.sum(c.f - base), func.sum(case((c.f.is_not(None), base))),
                       func.count(c.f - base), late]  # fmt: skip
    else:
        growth_cols = [null, null, zero, zero]
    if metric == "posts":
        posts_cols: list[Any] = [func.sum(case((c.rd == 1, c.p), else_=0)), func.max(c.rd),
                      func.sum(case((c.rd == 0, c.p), else_=0))]  # fmt: skip
    else:
        posts_cols = [zero, zero, zero]
    columns = [
        c.oid, func.count(), func.sum(c.f), func.count(c.f), func.max(c.stale),
        *growth_cols, *posts_cols, func.sum(c.stale),
    ]  # fmt: skip
    # Named, in _Agg's order (the first _AGG_COLUMNS), so a subquery can rank them.
    return select(
        *(col.label(name) for col, name in zip(columns, _AGG_NAMES, strict=True))
    ).group_by(c.oid)


async def _rank(
    session: AsyncSession,
    board: Leaderboard,
    scored: list[tuple[float, _Agg]],
    unvalued: list[int],
    members: Select[int] | None,
    *,
    platform: str | None,
    limit: int,
) -> None:
    count = select(func.count()).select_from(Official)
    if members is not None:
        count = count.where(Official.id.in_(members))
    board.members = int((await core_rows(session, count))[0][0])
    board.missing_count = board.members - board.ranked
    rows = await _officials(session, [a.official_id for _, a in scored])
    platforms = await _platforms(session, [a.official_id for _, a in scored], board.platform)
    # Names decide the order of ties (the query returned every tie at the cut).
    scored.sort(key=lambda item: (-item[0], rows[item[1].official_id].name, item[1].official_id))
    rank, previous = 0, None
    for position, (value, agg) in enumerate(scored[:limit], start=1):
        if value != previous:
            rank, previous = position, value
        board.entries.append(_entry(rank, value, rows[agg.official_id], agg,
                                    platforms.get(agg.official_id, ())))  # fmt: skip
    board.missing = await _missing(session, unvalued, members, platform=platform)


async def _missing(
    session: AsyncSession, unvalued: list[int], members: Select[int] | None, *, platform: str | None
) -> list[OfficialRow]:
    # Missing = no live account in scope at all, or accounts that gave no value.
    live = (
        select(Account.official_id)
        .outerjoin(AccountState, AccountState.account_id == Account.id)
        .where(*_live_accounts(platform, members))
    )
    stmt = select(
        Official.id, Official.name, Official.name_ru, Official.name_kk, Official.name_en
    ).where(~Official.id.in_(live))
    if members is not None:
        stmt = stmt.where(Official.id.in_(members))
    stmt = stmt.order_by(Official.name, Official.id).limit(MISSING_LISTED)
    found = [OfficialRow(*row) for row in await core_rows(session, stmt)]
    found.extend(await _first_by_name(session, unvalued, MISSING_LISTED))
    found.sort(key=lambda o: (o.name, o.id))
    return found[:MISSING_LISTED]


async def _officials(session: AsyncSession, ids: list[int]) -> dict[int, OfficialRow]:
    if not ids:
        return {}
    stmt = select(
        Official.id, Official.name, Official.name_ru, Official.name_kk, Official.name_en
    ).where(Official.id.in_(ids))
    return {row[0]: OfficialRow(*row) for row in await core_rows(session, stmt)}


async def _first_by_name(session: AsyncSession, ids: list[int], count: int) -> list[OfficialRow]:
    if not ids:
        return []
    found: list[OfficialRow] = []
    for chunk in range(0, len(ids), 5000):
        rows = await _officials(session, ids[chunk : chunk + 5000])
        found.extend(rows.values())
    found.sort(key=lambda o: (o.name, o.id))
    return found[:count]


async def _platforms(
    session: AsyncSession, ids: list[int], platform: str | None
) -> dict[int, tuple[str, ...]]:
    if not ids:
        return {}
    stmt = select(Account.official_id, Account.platform).where(Account.official_id.in_(ids))
    if platform:
        stmt = stmt.where(Account.platform == platform)
    out: dict[int, set[str]] = {}
    for official_id, name in await core_rows(session, stmt):
        out.setdefault(official_id, set()).add(name)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _entry(
    rank: int, value: float, official: OfficialRow, agg: _Agg, platforms: tuple[str, ...]
) -> Entry:
    has_growth = agg.with_growth > 0 and agg.growth is not None
    return Entry(
        rank=rank,
        official=official,
        value=value,
        followers=agg.followers if agg.with_followers else None,
        growth=agg.growth if has_growth else None,
        growth_percent=(agg.growth or 0) * 100.0 / agg.base if has_growth and agg.base else None,
        posts=(agg.posts or 0) if (agg.read or agg.unread_posts) else None,
        partial=agg.partial,
        stale=agg.stale,
        platforms=platforms,
    )
