"""Indexed history queries: followers at a past moment, post counts, posting rhythm.

"Followers at time T" is the last snapshot with a follower count at or before T. The
pipeline stores a snapshot at least every ``snapshot_every`` (6 h) while an account is
read, so for almost every account that snapshot lies in the few hours before T: one
range read of ``ix_snapshots_observed`` (BRIN on PostgreSQL) finds them all at once.
Accounts with nothing in that window (a source that was failing, a longer interval) fall
back to one index probe each on ``ix_snapshots_account_observed``. When an account has
no snapshot that old (it was added later), the earliest snapshot after T stands in and
the result says so, so growth is shown "since first seen", never invented.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Subquery, and_, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.scope import core_rows
from bot.store.models import Account, Post, Snapshot

#: Bind-parameter lists are chunked: SQLite allows 32766 parameters, asyncpg 32767.
_CHUNK = 5000
#: How far before T the range read looks: the default ``snapshot_every`` (6 h) plus an
#: hour for the poll interval and jitter. Wider costs rows; narrower costs probes.
BASELINE_WINDOW = timedelta(hours=7)
#: Up to this many accounts, history is read account by account (index ranges); beyond
#: it, one range read over every account's rows of the period is cheaper.
NARROW_MAX = 1000
#: Posts considered when measuring an account's usual rhythm: its latest ones.
RHYTHM_POSTS = 30


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


def followers_probe(account: Any, *, at: Any, until: Any = None) -> Any:
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


def recent_followers(at: Any, *, start: Any, dialect: str, accounts: Any = None) -> Subquery:
    """Each account's last follower count among its snapshots taken in (``start``, ``at``].

    ``start`` is ``at`` minus ``BASELINE_WINDOW``; both may be values or bound parameters.
    Columns ``account_id`` and ``followers``; ``accounts`` (ids, or a select of them)
    narrows the read to those accounts.
    """
    snap = Snapshot.__table__.alias("recent")
    conditions = [
        snap.c.observed_at > start,
        snap.c.observed_at <= at,
        snap.c.followers.is_not(None),
    ]
    if accounts is not None:
        conditions.append(snap.c.account_id.in_(accounts))
    if dialect == "postgresql":
        stmt = (
            select(snap.c.account_id, snap.c.followers)
            .where(*conditions)
            .ext(distinct_on(snap.c.account_id))
            .order_by(snap.c.account_id, snap.c.observed_at.desc())
        )
    else:
        # SQLite documents that a bare column next to max() comes from the row holding
        # the maximum: the newest snapshot's count, in one pass without sorting.
        stmt = (
            select(snap.c.account_id, snap.c.followers, func.max(snap.c.observed_at))
            .where(*conditions)
            .group_by(snap.c.account_id)
        )
    return stmt.subquery("recent_followers")


def followers_before(account: Any, recent: Subquery, *, at: Any) -> Any:
    """``account``'s followers at ``at``: from ``recent`` (outer-joined by the caller),
    else one index probe (COALESCE runs it only when the window had nothing)."""
    return func.coalesce(recent.c.followers, followers_probe(account, at=at))


async def _probe(
    session: AsyncSession, ids: list[int], at: datetime, until: datetime | None
) -> list[tuple[int, int]]:
    # Only integers come back: parsing thousands of timestamps would cost more than
    # the index probes themselves.
    if until is not None:
        value = followers_probe(Account.id, at=at, until=until)
        stmt = select(Account.id, value).where(Account.id.in_(ids))
    else:
        dialect = session.get_bind().dialect.name
        narrow = ids if len(ids) <= NARROW_MAX else None
        recent = recent_followers(at, start=at - BASELINE_WINDOW, accounts=narrow, dialect=dialect)
        value = followers_before(Account.id, recent, at=at)
        stmt = (
            select(Account.id, value)
            .outerjoin(recent, recent.c.account_id == Account.id)
            .where(Account.id.in_(ids))
        )
    rows = await core_rows(session, stmt)
    return [(account_id, followers) for account_id, followers in rows if followers is not None]


async def post_counts(
    session: AsyncSession, account_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Posts published since ``since`` per account (accounts without posts are absent)."""
    out: dict[int, int] = {}
    if len(account_ids) > NARROW_MAX:
        # Many accounts: one range read of the period's posts (ix_posts_published).
        wanted = set(account_ids)
        stmt = (
            select(Post.account_id, func.count())
            .where(Post.published_at >= since)
            .group_by(Post.account_id)
        )
        return {a: n for a, n in await core_rows(session, stmt) if a in wanted}
    for chunk in _chunks(account_ids):
        stmt = (
            select(Post.account_id, func.count())
            .where(Post.account_id.in_(chunk), Post.published_at >= since)
            .group_by(Post.account_id)
        )
        out.update({a: n for a, n in await core_rows(session, stmt)})
    return out


async def post_times(
    session: AsyncSession,
    account_ids: Sequence[int],
    *,
    since: datetime,
    latest: int = RHYTHM_POSTS,
) -> dict[int, list[datetime]]:
    """Each account's ``latest`` publication times since ``since``, newest first."""
    out: dict[int, list[datetime]] = defaultdict(list)
    for chunk in _chunks(account_ids):
        # Per account: the ``latest``-th newest time (one index probe), then the posts
        # from there on (one index range): ``latest`` rows each, however long the
        # history, on both databases.
        nth = (
            select(Post.published_at)
            .where(Post.account_id == Account.id, Post.published_at >= since)
            .order_by(Post.published_at.desc())
            .offset(latest - 1)
            .limit(1)
            .scalar_subquery()
        )
        floors = select(Account.id.label("aid"), nth.label("floor")).where(Account.id.in_(chunk))
        f = floors.cte("floors")
        stmt = (
            select(Post.account_id, Post.published_at)
            .join(f, f.c.aid == Post.account_id)
            .where(Post.published_at >= func.coalesce(f.c.floor, since))
            .order_by(Post.account_id, Post.published_at.desc())
        )
        for account_id, published in await core_rows(session, stmt):
            if published is not None:
                out[account_id].append(published)
    return dict(out)


def median_gap(times: Sequence[datetime]) -> timedelta | None:
    """The median time between consecutive posts, or None with fewer than two posts."""
    ordered = sorted(set(times))
    if len(ordered) < 2:
        return None
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ordered)]
    return timedelta(seconds=statistics.median(gaps))
