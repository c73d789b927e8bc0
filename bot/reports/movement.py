"""Rank movement on ``/top``: each official's rank now against the previous period.

The previous period is the one of the same length just before (for ``/top 7d`` measured
at T: the 7 days ending at T − 7d). The previous ranking is computed from stored history
with the same metric and scope: followers at that moment (the last snapshot at or before
it), growth over that period (snapshots at both ends, or the first count inside it for
an account first seen during it) or posts published in it (counted for accounts read
during it, that is with a snapshot in it). Ties share a rank, as on the board.

An official ranked now has one of: a move (``up``/``down`` by so many places, ``same``),
``new`` (none of their accounts in scope had been seen by the bot by the end of the
previous period) or ``unknown`` (seen, but with no figure for then: not read, failing).
Truth first: an official missing from the previous ranking is never called new unless
the bot had not watched them yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.history import (
    BASELINE_WINDOW,
    followers_before,
    followers_probe,
    recent_followers,
)
from bot.reports.leaderboard import Leaderboard
from bot.reports.scope import core_rows, resolve_watchlist
from bot.store.models import Account, AccountState, Post, Snapshot, WatchlistMember

UP, DOWN, SAME, NEW, UNKNOWN = "up", "down", "same", "new", "unknown"


@dataclass(frozen=True, slots=True)
class Move:
    """How an official's rank changed since the previous period."""

    kind: str
    places: int = 0
    previous_rank: int | None = None


@dataclass(frozen=True, slots=True)
class PreviousPeriod:
    """The period the board is compared with: [start, end)."""

    start: datetime
    end: datetime


def previous_period(board: Leaderboard) -> PreviousPeriod:
    """The period of the same length just before the board's."""
    end = board.measured_at - board.period
    return PreviousPeriod(end - board.period, end)


def move_of(current: int, previous: int | None, known: bool) -> Move:
    """The move from ``previous`` to ``current`` rank (pure; ``known``: seen back then)."""
    if previous is None:
        return Move(UNKNOWN if known else NEW)
    if previous > current:
        return Move(UP, previous - current, previous)
    if previous < current:
        return Move(DOWN, current - previous, previous)
    return Move(SAME, 0, previous)


async def rank_moves(session: AsyncSession, board: Leaderboard) -> dict[int, Move]:
    """Official id -> move, for every entry of ``board``."""
    ids = [e.official.id for e in board.entries]
    if not ids:
        return {}
    watchlist_id = None
    if board.watchlist:
        watchlist_id = (await resolve_watchlist(session, board.watchlist)).id
    period = previous_period(board)
    dialect = session.get_bind().dialect.name
    stmt = _ranks(board.metric, board.platform, watchlist_id, period, ids, dialect)
    found = {int(r.oid): (r.rnk, bool(r.known)) for r in await core_rows(session, stmt)}
    out: dict[int, Move] = {}
    for entry in board.entries:
        rank, known = found.get(entry.official.id, (None, False))
        out[entry.official.id] = move_of(entry.rank, None if rank is None else int(rank), known)
    return out


def _accounts(
    metric: str, platform: str | None, watchlist_id: int | None, p: PreviousPeriod, dialect: str
) -> Any:
    # One row per account in scope (the board's live accounts): its figure back then.
    scope: list[Any] = [Account.enabled.is_(True)]
    if platform is not None:
        scope.append(Account.platform == platform)
    if watchlist_id is not None:
        members = select(WatchlistMember.official_id).where(
            WatchlistMember.watchlist_id == watchlist_id
        )
        scope.append(Account.official_id.in_(members))
    conditions = [
        *scope,
        func.coalesce(AccountState.missing, False).is_(False),
        func.coalesce(AccountState.status, "") != "absent",
    ]
    # A narrower scope reads only its own accounts' history (index ranges per account).
    narrow = select(Account.id).where(*scope) if len(scope) > 1 else None
    known = case((AccountState.first_seen_at <= p.end, 1), else_=0)
    columns: list[Any] = [Account.id.label("aid"), Account.official_id.label("oid"),
                          known.label("known")]  # fmt: skip
    joined = Account.__table__.outerjoin(
        AccountState.__table__, AccountState.account_id == Account.id
    )
    if metric in ("followers", "growth", "percent"):
        at_end = recent_followers(
            p.end, start=p.end - BASELINE_WINDOW, dialect=dialect, accounts=narrow
        )
        joined = joined.outerjoin(at_end, at_end.c.account_id == Account.id)
        columns.append(followers_before(Account.id, at_end, at=p.end).label("f"))
    if metric in ("growth", "percent"):
        at_start = recent_followers(
            p.start, start=p.start - BASELINE_WINDOW, dialect=dialect, accounts=narrow
        ).element.subquery("start_followers")
        joined = joined.outerjoin(at_start, at_start.c.account_id == Account.id)
        first = followers_probe(Account.id, at=p.start, until=p.end)
        columns.append(
            func.coalesce(followers_before(Account.id, at_start, at=p.start), first).label("b")
        )
    if metric == "posts":
        posts = (
            select(func.count())
            .where(
                Post.account_id == Account.id,
                Post.published_at >= p.start,
                Post.published_at < p.end,
            )
            .scalar_subquery()
        )
        read = exists().where(
            Snapshot.account_id == Account.id,
            Snapshot.observed_at > p.start,
            Snapshot.observed_at <= p.end,
        )
        columns.append(posts.label("p"))
        columns.append(case((read, 1), else_=0).label("rd"))
    return select(*columns).select_from(joined).where(*conditions).cte("prev_acct")


def _value(metric: str, c: Any) -> Any:
    if metric == "followers":
        return case((func.count(c.f) > 0, func.sum(c.f)))
    if metric == "growth":
        return case((func.count(c.f - c.b) > 0, func.sum(c.f - c.b)))
    if metric == "percent":
        gsum = func.sum(c.f - c.b)
        bsum = func.sum(case((c.f.is_not(None), c.b)))
        ok = and_(func.count(c.f - c.b) > 0, bsum != 0)
        return case((ok, cast(gsum, Float) * 100.0 / bsum))
    counted = func.sum(case((c.rd == 1, c.p), else_=literal(0, Integer)))
    return case((func.max(c.rd) > 0, counted))


def _ranks(
    metric: str,
    platform: str | None,
    watchlist_id: int | None,
    p: PreviousPeriod,
    ids: Sequence[int],
    dialect: str,
) -> Any:
    acct = _accounts(metric, platform, watchlist_id, p, dialect)
    c = acct.c
    per_official = (
        select(c.oid, _value(metric, c).label("value"), func.max(c.known).label("known"))
        .group_by(c.oid)
        .cte("prev_official")
    )
    v = per_official.c
    no_value = case((v.value.is_(None), 1), else_=0)
    ranked = select(
        v.oid,
        v.known,
        case((v.value.is_not(None), func.rank().over(order_by=(no_value, v.value.desc())))).label(
            "rnk"
        ),
    ).subquery("prev_ranked")
    # Officials without a value sort last (PostgreSQL would put NULLs first in a
    # descending order) and get no rank (the CASE), so they never push anyone down.
    return select(ranked.c.oid, ranked.c.rnk, ranked.c.known).where(ranked.c.oid.in_(list(ids)))
