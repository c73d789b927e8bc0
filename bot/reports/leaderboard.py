"""Leaderboards (``/top``): followers now, growth over a period, posting activity.

An entry is one official: the sum over their accounts on the chosen platform (or on every
platform). Followers come from the latest-state table; growth's baselines from one range
read of the snapshots just before the period (``history.recent_followers``), with an
index probe only for accounts that had none there; posting activity from one range read
of the period's posts. Everything is summed and ranked per official inside the database,
in one statement that returns only the leaders and the first officials without a value.
Ties share a rank; officials with no value are listed apart, never ranked as zero, each
under why (``MISSING_KINDS``): no account there, could not be read, not polled yet, or read
but with no figure. When some account could not be read, one more grouped query counts
the reasons.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Date,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.history import (
    BASELINE_WINDOW,
    NARROW_MAX,
    followers_before,
    followers_probe,
    recent_followers,
)
from bot.reports.scope import OfficialRow, resolve_watchlist
from bot.reports.states import ABSENT, NEVER, UNREADABLE, reason_group
from bot.store.models import (
    Account,
    AccountState,
    Official,
    Post,
    WatchlistMember,
)
from bot.store.positions import in_office_clause, office_bounds

DEFAULT_PERIOD = timedelta(days=7)
MAX_LIMIT = 50
METRIC_NAMES = ("followers", "growth", "percent", "posts")
MISSING_LISTED = 25
_AGG_NAMES = (
    "oid", "n", "fsum", "fcnt", "stale", "gsum", "bsum", "gcnt", "late",
    "psum", "pread", "punread", "unk", "nev",
)  # fmt: skip
#: Why an official has no value: no live account in scope, every account failing or not
#: polled, or read with no figure (no follower count, no history, not read in the period).
NO_VALUE = "no_value"
MISSING_KINDS = (ABSENT, UNREADABLE, NEVER, NO_VALUE)
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
    #: ``MISSING_LISTED`` by name of each kind, and how many there are in all.
    missing: list[OfficialRow] = field(default_factory=list)
    missing_count: int = 0
    #: The listed ``missing`` by kind (``MISSING_KINDS``), and how many of each in all.
    missing_by: dict[str, list[OfficialRow]] = field(default_factory=dict)
    missing_counts: dict[str, int] = field(default_factory=dict)
    #: Accounts whose last fetch failed (values shown are their last known ones).
    unknown_accounts: int = 0
    #: Those accounts by reason group (``states.reason_group``).
    reasons: Counter[str] = field(default_factory=Counter)
    #: Entries before the ``limit`` cut.
    ranked: int = 0
    #: Watchlist members not in office during the period (left out of the ranking).
    not_in_office: int = 0

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
    limit = max(1, min(limit, MAX_LIMIT))
    shape = _Scope(
        platform=platform is not None,
        members=wl is not None,
        dialect=session.get_bind().dialect.name,
    )
    params = {
        "since": now - period,
        "until": now,
        "window_start": now - period - BASELINE_WINDOW,
        "platform": platform,
        "watchlist_id": wl.id if wl else None,
        "cut_offset": limit - 1,
        **office_bounds(now - period, now),
    }
    connection = await session.connection()
    if metric in ("growth", "percent") and not shape.everything:
        # Few accounts in scope: read their history account by account.
        count = select(func.count()).select_from(shape.accounts().subquery())
        size = (await connection.execute(count, params)).scalar_one()
        shape = replace(shape, narrow=size <= NARROW_MAX)
    rows = (await connection.execute(_statement(metric, shape), params)).all()
    reasons: Counter[str] = Counter()
    if rows and rows[0].unknown:
        for reason, accounts in (await connection.execute(_reasons(shape), params)).all():
            reasons[reason_group(reason)] += int(accounts)
    board = Leaderboard(
        metric=metric,
        platform=platform,
        period=period,
        watchlist=wl.name if wl else None,
        measured_at=now,
        members=0,
        reasons=reasons,
    )
    _fill(board, rows, limit=limit)
    if wl is not None:
        board.not_in_office = (await connection.execute(_not_in_office(), params)).scalar_one()
    return board


@cache
def _not_in_office() -> Select[int]:
    # How many of the watchlist's members the period leaves out: one count.
    held = in_office_clause(WatchlistMember.official_id, *_office_params())
    return (
        select(func.count())
        .select_from(WatchlistMember)
        .where(WatchlistMember.watchlist_id == bindparam("watchlist_id"), not_(held))
    )


def _office_params() -> tuple[BindParameter[date], BindParameter[date]]:
    return bindparam("office_first", type_=Date), bindparam("office_last", type_=Date)


def _fill(board: Leaderboard, rows: Sequence[Any], *, limit: int) -> None:
    # The totals ride on every row; no row at all means no official in scope.
    if rows:
        board.members = int(rows[0].members)
        board.unknown_accounts = int(rows[0].unknown or 0)
        board.ranked = int(rows[0].ranked or 0)
    board.missing_count = board.members - board.ranked
    missing = [r for r in rows if r.kind == _MISSING]
    missing.sort(key=lambda r: (r.name, r.oid))
    board.missing = [_official(r) for r in missing]
    for row in missing:
        kind = MISSING_KINDS[int(row.cat)]
        board.missing_by.setdefault(kind, []).append(_official(row))
        board.missing_counts[kind] = int(row.catn)
    leaders = [r for r in rows if r.kind == _LEADER]
    # Names decide the order of ties (the query returned every tie at the cut).
    leaders.sort(key=lambda r: (-float(r.value), r.name, r.oid))
    rank, previous = 0, None
    for position, row in enumerate(leaders[:limit], start=1):
        if row.value != previous:
            rank, previous = position, row.value
        board.entries.append(_entry(rank, row))


@dataclass(frozen=True, slots=True)
class _Scope:
    """Which accounts count (one platform? a watchlist? few enough to read one by one?)
    and the SQL dialect: together, the shape of the statement."""

    platform: bool
    members: bool
    dialect: str
    #: Few enough accounts to read their history account by account.
    narrow: bool = False

    @property
    def everything(self) -> bool:
        """Every enabled account is in scope."""
        return not self.platform and not self.members

    def member_ids(self) -> Select[Any]:
        """The watchlist's members (``:watchlist_id``) in office during the period
        (``:office_first`` to ``:office_last``)."""
        return select(WatchlistMember.official_id).where(
            WatchlistMember.watchlist_id == bindparam("watchlist_id"),
            in_office_clause(WatchlistMember.official_id, *_office_params()),
        )

    def accounts(self) -> Select[Any]:
        """Ids of the enabled accounts in scope (history reads are narrowed to them)."""
        stmt = select(Account.id).where(Account.enabled.is_(True))
        if self.platform:
            stmt = stmt.where(Account.platform == bindparam("platform"))
        if self.members:
            stmt = stmt.where(Account.official_id.in_(self.member_ids()))
        return stmt


_LEADER, _MISSING = 0, 1


@cache
def _statement(metric: str, scope: _Scope) -> CompoundSelect[Any]:
    # Built once per shape and run with bound values: building this statement costs
    # more Python time than PostgreSQL takes to run it.
    return _board_query(metric, _aggregate_query(metric, scope=scope), scope=scope)


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


def _board_query(metric: str, agg: Select[Any], *, scope: _Scope) -> CompoundSelect[Any]:
    # One statement, one round trip: the leaders down to the ``:cut_offset``+1-th value
    # (ties at the cut included) with their names, then the first officials by name
    # that have no value (no live account in scope, or no figure), with the scope's
    # totals on every row. The per-official sums are materialized once; the cut is a
    # top-N pick on the value alone, so the thousands of other rows are never sorted
    # or sent.
    g = agg.cte("g")
    scored = select(*g.c, _value_sql(metric, g.c).label("value")).cte("scored")
    scored = scored.prefix_with("MATERIALIZED")
    value = scored.c.value
    cut = (
        select(value).where(value.is_not(None)).order_by(value.desc())
        .offset(bindparam("cut_offset", type_=Integer)).limit(1).scalar_subquery()
    )  # fmt: skip
    members = select(func.count()).select_from(Official)
    if scope.members:
        members = members.where(Official.id.in_(scope.member_ids()))
    totals = [
        select(func.count(value)).select_from(scored).scalar_subquery().label("ranked"),
        select(func.sum(scored.c.unk)).select_from(scored).scalar_subquery().label("unknown"),
        members.scalar_subquery().label("members"),
    ]
    names = [Official.id.label("oid"), Official.name, Official.name_ru, Official.name_kk,
             Official.name_en]  # fmt: skip
    figures = [scored.c[n] for n in (*_AGG_NAMES[1:], "value")]
    no_kind = [cast(null(), Integer).label("cat"), cast(null(), Integer).label("catn")]
    leaders = (
        select(
            literal(_LEADER).label("kind"), *names, _platforms(scope), *figures, *no_kind, *totals
        )
        .join_from(scored, Official, Official.id == scored.c.oid)
        # Fewer values than the cut: everyone with a value is a leader.
        .where(value >= func.coalesce(cut, value))
    )
    nulls = [cast(null(), leaders.selected_columns[n].type).label(n)
             for n in ("platforms", *_AGG_NAMES[1:], "value")]  # fmt: skip
    # Why each official has no value (the index in MISSING_KINDS), the first ones of
    # each kind by name, and how many of that kind there are.
    c = scored.c
    kind = case(
        (c.oid.is_(None), MISSING_KINDS.index(ABSENT)),
        (c.nev == c.n, MISSING_KINDS.index(NEVER)),
        (c.unk > 0, MISSING_KINDS.index(UNREADABLE)),
        else_=MISSING_KINDS.index(NO_VALUE),
    )
    by_name = (Official.name, Official.id)
    unranked = (
        select(*names, kind.label("cat"), func.count().over(partition_by=kind).label("catn"),
               func.row_number().over(partition_by=kind, order_by=by_name).label("nth"))
        .outerjoin_from(Official, scored, c.oid == Official.id)
        .where(value.is_(None))
    )  # fmt: skip
    if scope.members:
        unranked = unranked.where(Official.id.in_(scope.member_ids()))
    u = unranked.subquery("unranked")
    missing = select(
        literal(_MISSING).label("kind"), u.c.oid, u.c.name, u.c.name_ru, u.c.name_kk,
        u.c.name_en, *nulls, u.c.cat, u.c.catn, *totals,
    ).where(u.c.nth <= MISSING_LISTED)  # fmt: skip
    return union_all(leaders, missing)


def _platforms(scope: _Scope) -> Any:
    # Which platforms an official is ranked on: read only for the rows returned.
    stmt = select(func.aggregate_strings(Account.platform, ",")).where(
        Account.official_id == Official.id
    )
    if scope.platform:
        stmt = stmt.where(Account.platform == bindparam("platform"))
    return stmt.scalar_subquery().label("platforms")


def _live_accounts(scope: _Scope) -> list[Any]:
    conditions: list[Any] = [
        Account.enabled.is_(True),
        func.coalesce(AccountState.missing, False).is_(False),
        func.coalesce(AccountState.status, "") != "absent",
    ]
    if scope.platform:
        conditions.append(Account.platform == bindparam("platform"))
    if scope.members:
        conditions.append(Account.official_id.in_(scope.member_ids()))
    return conditions


def _post_counts(scope: _Scope) -> Any:
    # A range read of the period's posts (ix_posts_published). For a narrower scope the
    # accounts are named too, and the planner picks: that range read, or an index range
    # per account when the scope is small.
    stmt = select(Post.account_id, func.count().label("n")).where(
        Post.published_at >= bindparam("since")
    )
    if not scope.everything:
        stmt = stmt.where(Post.account_id.in_(scope.accounts()))
    return stmt.group_by(Post.account_id).subquery("post_counts")


def _aggregate_query(metric: str, *, scope: _Scope) -> Select[Any]:
    # One pass in the database: each account's figures (in a materialized CTE when they
    # need index probes, so each probe runs once), summed per official.
    since: BindParameter[datetime] = bindparam("since")
    until: BindParameter[datetime] = bindparam("until")
    healthy = and_(AccountState.status == "ok", AccountState.degraded.is_(False))
    never = AccountState.status.is_(None)
    columns: list[Any] = [
        Account.id.label("aid"),
        Account.official_id.label("oid"),
        AccountState.followers.label("f"),
        # Failing on the last attempt; an account never polled is counted apart.
        case((healthy, 0), (never, 0), else_=1).label("stale"),
        case((never, 1), else_=0).label("nv"),
        case((AccountState.last_ok_at >= since, 1), else_=0).label("rd"),
    ]
    joined = Account.__table__.outerjoin(
        AccountState.__table__, AccountState.account_id == Account.id
    )
    growth = metric in ("growth", "percent")
    if growth:
        # The window is read for every account at once, unless the scope is small.
        narrow = scope.accounts() if scope.narrow else None
        recent = recent_followers(since, start=bindparam("window_start"),
                                  accounts=narrow, dialect=scope.dialect)  # fmt: skip
        joined = joined.outerjoin(recent, recent.c.account_id == Account.id)
        columns.append(followers_before(Account.id, recent, at=since).label("b0"))
    if metric == "posts":
        counts = _post_counts(scope)
        joined = joined.outerjoin(counts, counts.c.account_id == Account.id)
        columns.append(func.coalesce(counts.c.n, 0).label("p"))
    acct = select(*columns).select_from(joined).where(*_live_accounts(scope)).cte("acct")
    if growth:
        acct = acct.prefix_with("MATERIALIZED")
    c = acct.c
    null_ = literal(None, Integer)
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
        growth_cols = [null_, null_, zero, zero]
    if metric == "posts":
        posts_cols: list[Any] = [func.sum(case((c.rd == 1, c.p), else_=0)), func.max(c.rd),
                      func.sum(case((c.rd == 0, c.p), else_=0))]  # fmt: skip
    else:
        posts_cols = [zero, zero, zero]
    columns = [
        c.oid, func.count(), func.sum(c.f), func.count(c.f), func.max(c.stale),
        *growth_cols, *posts_cols, func.sum(c.stale), func.sum(c.nv),
    ]  # fmt: skip
    return select(
        *(col.label(name) for col, name in zip(columns, _AGG_NAMES, strict=True))
    ).group_by(c.oid)


@cache
def _reasons(scope: _Scope) -> Select[str | None, int]:
    # The reasons of the accounts in scope whose last fetch failed: a handful of groups.
    failing = not_(and_(AccountState.status == "ok", AccountState.degraded.is_(False)))
    return (
        select(AccountState.reason, func.count())
        .join_from(Account, AccountState, AccountState.account_id == Account.id)
        .where(*_live_accounts(scope), failing)
        .group_by(AccountState.reason)
    )


def _official(row: Any) -> OfficialRow:
    return OfficialRow(row.oid, row.name, row.name_ru, row.name_kk, row.name_en)


def _entry(rank: int, row: Any) -> Entry:
    agg = _Agg(row.oid, *(row._mapping[n] for n in _AGG_NAMES[1:_AGG_COLUMNS]))
    has_growth = agg.with_growth > 0 and agg.growth is not None
    return Entry(
        rank=rank,
        official=_official(row),
        value=float(row.value),
        followers=agg.followers if agg.with_followers else None,
        growth=agg.growth if has_growth else None,
        growth_percent=(agg.growth or 0) * 100.0 / agg.base if has_growth and agg.base else None,
        posts=(agg.posts or 0) if (agg.read or agg.unread_posts) else None,
        partial=agg.partial,
        stale=agg.stale,
        platforms=tuple(sorted(set((row.platforms or "").split(",")) - {""})),
    )
