"""Indexed history queries: followers at a past moment, post counts, posting rhythm.

"Followers at time T" is the last snapshot with a follower count at or before T. It is
one index probe per account on ``ix_snapshots_account_observed`` (a correlated subquery,
which SQLite and PostgreSQL both run as an index seek; no scan of the history). When an
account has no snapshot that old (it was added later), the earliest snapshot after T
stands in and the result says so, so growth is shown "since first seen", never invented.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.scope import core_rows
from bot.store.models import Account, Post, Snapshot

#: Bind-parameter lists are chunked: SQLite allows 32766 parameters, asyncpg 32767.
_CHUNK = 5000
#: Posts considered when measuring an official's usual rhythm.
RHYTHM_WINDOW = timedelta(days=180)
RHYTHM_MAX_POSTS = 400


@dataclass(frozen=True, slots=True)
class Baseline:
    """An account's follower count at the start of a period."""

    followers: int
    #: True when no snapshot was that old and the first one after the start was used.
    late: bool


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    return [list(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]


async def followers_at(
    session: AsyncSession,
    account_ids: Sequence[int],
    at: datetime,
    *,
    until: datetime | None = None,
) -> dict[int, Baseline]:
    """Each account's followers at ``at`` (or, when ``until`` is given, its first count
    after ``at`` and no later than ``until``)."""
    out: dict[int, Baseline] = {}
    for chunk in _chunks(account_ids):
        for account_id, followers in await _probe(session, chunk, at, None):
            out[account_id] = Baseline(followers, late=False)
    if until is None:
        return out
    missing = [a for a in account_ids if a not in out]
    for chunk in _chunks(missing):
        for account_id, followers in await _probe(session, chunk, at, until):
            out[account_id] = Baseline(followers, late=True)
    return out


def followers_probe(account: Any, *, at: datetime, until: datetime | None = None) -> Any:
    """A correlated scalar subquery: ``account``'s last follower count at or before ``at``
    (or, with ``until``, its first count after ``at`` and no later than ``until``)."""
    snap = Snapshot.__table__.alias("probe")
    if until is None:
        window, order = snap.c.observed_at <= at, snap.c.observed_at.desc()
    else:
        window = and_(snap.c.observed_at > at, snap.c.observed_at <= until)
        order = snap.c.observed_at.asc()
    return (
        select(snap.c.followers)
        .where(snap.c.account_id == account, window, snap.c.followers.is_not(None))
        .order_by(order)
        .limit(1)
        .scalar_subquery()
    )


async def _probe(
    session: AsyncSession, ids: list[int], at: datetime, until: datetime | None
) -> list[tuple[int, int]]:
    # Only integers come back: parsing thousands of timestamps would cost more than
    # the index probes themselves.
    value = followers_probe(Account.id, at=at, until=until)
    stmt = select(Account.id, value).where(Account.id.in_(ids))
    rows = await core_rows(session, stmt)
    return [(account_id, followers) for account_id, followers in rows if followers is not None]


async def post_counts(
    session: AsyncSession, account_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Posts published since ``since`` per account (accounts without posts are absent)."""
    out: dict[int, int] = {}
    for chunk in _chunks(account_ids):
        stmt = (
            select(Post.account_id, func.count())
            .where(Post.account_id.in_(chunk), Post.published_at >= since)
            .group_by(Post.account_id)
        )
        out.update({a: n for a, n in await core_rows(session, stmt)})
    return out


async def post_times(
    session: AsyncSession, account_ids: Sequence[int], *, since: datetime
) -> dict[int, list[datetime]]:
    """Publication times since ``since`` per account, newest first (bounded per account)."""
    out: dict[int, list[datetime]] = defaultdict(list)
    for chunk in _chunks(account_ids):
        stmt = (
            select(Post.account_id, Post.published_at)
            .where(Post.account_id.in_(chunk), Post.published_at >= since)
            .order_by(Post.account_id, Post.published_at.desc())
        )
        for account_id, published in await core_rows(session, stmt):
            if published is not None and len(out[account_id]) < RHYTHM_MAX_POSTS:
                out[account_id].append(published)
    return dict(out)


def median_gap(times: Sequence[datetime]) -> timedelta | None:
    """The median time between consecutive posts, or None with fewer than two posts."""
    ordered = sorted(set(times))
    if len(ordered) < 2:
        return None
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ordered)]
    return timedelta(seconds=statistics.median(gaps))
