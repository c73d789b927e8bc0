"""Retention: what ``govwatch db prune`` and the daily job remove, in bounded batches.

- **snapshots** are downsampled with age (``bot.store.downsample``): every one for
  ``snapshots_full``, then the last of each hour, then the last of each day; each
  account's first and latest snapshot always stay. The database decides (a window
  function ranks each bucket's rows; ``_thin``), a statement per few accounts and days,
  so no snapshot row is read into Python. A run remembers the cutoffs it reached, so the
  next looks only at the rows that have aged into a coarser tier since.
- **deliveries** (the outbox) that are done (sent, failed, skipped, digested) and older
  than ``deliveries_after``. Rows still to be sent (pending, claimed, sending, queued for a
  digest) never go, nor a sent ``new_post`` alert: follow-ups of its post reply to it
  (``bot.store.threads``).
- **events** older than ``events_after`` whose deliveries are all gone or going, except
  the post events (``new_post``, ``post_edited``, ``post_deleted``: evidence files read
  them) and milestones (their dedup keys stop a milestone being announced twice).
- **posts** (with their versions, post events and those events' alerts) only when asked
  (``full``): dated posts older than ``posts_after``, except each account's newest.

Each batch is one short transaction: for snapshots one statement over a few accounts and
days, for the rest at most ``batch`` rows chosen by a keyset read of ids; the same
queries with ``dry_run`` count what would go and delete nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from bot.config import RetentionSettings
from bot.domain import EventKind
from bot.store.downsample import DAY, HOUR
from bot.store.engine import Database
from bot.store.models import Account, Delivery, EventRow, Post, PostVersion, Snapshot

#: The settings row holding the job's lease and what it remembers.
JOB_KEY = "job:retention"
#: Outbox rows whose work is over.
DONE = ("sent", "failed", "skipped", "digested")
#: Events that are about one post: kept with their post (evidence reads them).
POST_EVENTS = (EventKind.NEW_POST.value, EventKind.POST_EDITED.value, EventKind.POST_DELETED.value)
#: Events never removed by age: post events and milestones.
KEPT_EVENTS = (*POST_EVENTS, EventKind.FOLLOWERS_MILESTONE.value)
#: The tables a prune reports on, in the order it reports them.
TABLES = ("snapshots", "deliveries", "events", "posts", "post_versions")
#: One thinning statement covers this many accounts and at most this many days: a
#: few thousand rows at a 15-minute poll interval (at most 96 a day per account), so
#: each transaction stays short however long the history is.
_ACCOUNTS_PER_STEP = 25
_DAYS_PER_STEP = 7

#: Called between batches (the job renews its lease there).
BatchHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Policy:
    """How long each kind of row is kept (``[retention]``)."""

    snapshots_full: timedelta = timedelta(days=30)
    snapshots_hourly: timedelta = timedelta(days=365)
    deliveries_after: timedelta = timedelta(days=30)
    events_after: timedelta = timedelta(days=180)
    posts_after: timedelta | None = None
    batch: int = 5000

    @classmethod
    def of(cls, settings: RetentionSettings) -> Policy:
        """The policy the configuration sets."""
        return cls(
            settings.snapshots_full, settings.snapshots_hourly, settings.deliveries_after,
            settings.events_after, settings.posts_after, settings.batch,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """The moments a prune at ``now`` compares against (whole seconds)."""

    full_before: datetime
    hourly_before: datetime
    deliveries_before: datetime
    events_before: datetime
    posts_before: datetime | None

    @classmethod
    def at(cls, now: datetime, policy: Policy) -> Cutoffs:
        """The cutoffs of ``policy`` at ``now``."""
        # Whole seconds: the snapshot rule compares POSIX seconds (bot.store.downsample).
        now = now.replace(microsecond=0)
        posts = now - policy.posts_after if policy.posts_after is not None else None
        return cls(now - policy.snapshots_full, now - policy.snapshots_hourly,
                   now - policy.deliveries_after, now - policy.events_after, posts)  # fmt: skip


@dataclass(slots=True)
class Report:
    """What a prune removed (or, dry, would remove), per table, and what to remember."""

    dry_run: bool
    cutoffs: Cutoffs
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    memo: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """``snapshots=12 deliveries=3 ...``: the counts on one line."""
        return " ".join(f"{name}={self.counts[name]}" for name in TABLES)


async def _noop() -> None:
    return None


async def prune(
    db: Database,
    policy: Policy,
    *,
    now: datetime,
    dry_run: bool = False,
    full: bool = False,
    memo: dict[str, Any] | None = None,
    between: BatchHook = _noop,
) -> Report:
    """Remove (or with ``dry_run`` count) what ``policy`` no longer keeps at ``now``.

    ``memo`` is what the last finished run returned in ``Report.memo``; ``full`` also
    removes old posts (``policy.posts_after`` must be set).
    """
    cut = Cutoffs.at(now, policy)
    if full and cut.posts_before is None:
        raise ValueError("full prune needs posts_after")
    report = Report(dry_run, cut)
    report.counts["snapshots"] = await _snapshots(
        db, cut, memo or {}, policy.batch, report, between
    )
    report.counts["deliveries"] = await _sweep(
        db, Delivery.id, _done_delivery(Delivery, cut.deliveries_before), policy.batch,
        dry_run, between,
    )  # fmt: skip
    report.counts["events"] = await _sweep(
        db, EventRow.id, _old_event(cut), policy.batch, dry_run, between
    )
    if full and cut.posts_before is not None:
        await _posts(db, cut.posts_before, policy.batch, report, between)
    report.memo = {"full_before": cut.full_before.isoformat(),
                   "hourly_before": cut.hourly_before.isoformat()}  # fmt: skip
    return report


# --- snapshots ---------------------------------------------------------------------------


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _ranges(cut: Cutoffs, memo: dict[str, Any]) -> list[tuple[datetime | None, datetime]]:
    """The (from, before) ranges of observed_at holding rows that may still go.

    Rows the last run already thinned stay thinned: only the buckets the cutoffs moved
    through since (from the start of the bucket holding the last cutoff) are read again.
    """
    full_seen, hourly_seen = memo.get("full_before"), memo.get("hourly_before")
    if not (isinstance(full_seen, str) and isinstance(hourly_seen, str)):
        return [(None, cut.full_before)]
    hourly_from = max(_hour(datetime.fromisoformat(full_seen)), cut.hourly_before)
    daily_from = _day(datetime.fromisoformat(hourly_seen))
    ranges: list[tuple[datetime | None, datetime]] = []
    if daily_from < cut.hourly_before:
        ranges.append((daily_from, cut.hourly_before))
    if hourly_from < cut.full_before:
        ranges.append((hourly_from, cut.full_before))
    return ranges


async def _snapshots(
    db: Database,
    cut: Cutoffs,
    memo: dict[str, Any],
    batch: int,
    report: Report,
    between: BatchHook,
) -> int:
    ranges = _ranges(cut, memo)
    if not ranges:
        return 0
    async with db.sessions() as session:
        accounts = list(await session.scalars(select(Account.id).order_by(Account.id)))
    removed = 0
    for lo in range(0, len(accounts), _ACCOUNTS_PER_STEP):
        chunk = accounts[lo : lo + _ACCOUNTS_PER_STEP]
        first_at, protected = await _ends(db, chunk)
        if first_at is None:
            continue
        for start, before in _steps(ranges, first_at):
            where = and_(
                # A list, not a range: each account's (account_id, observed_at) index
                # range is sought on its own.
                Snapshot.account_id.in_(chunk),
                Snapshot.observed_at >= start,
                Snapshot.observed_at < before,
            )
            removed += await _thin(db, cut, where, protected, dry_run=report.dry_run)
            if not report.dry_run:
                await between()
    return removed


def _steps(
    ranges: Sequence[tuple[datetime | None, datetime]], first_at: datetime
) -> list[tuple[datetime, datetime]]:
    """``ranges`` cut at UTC midnights into pieces of at most ``_DAYS_PER_STEP`` days.

    No hour or day bucket crosses a UTC midnight, and every range starts at the start of
    a bucket, so each piece is decided alone exactly as the whole range would be.
    """
    steps: list[tuple[datetime, datetime]] = []
    for start, before in ranges:
        at = max(start, _day(first_at)) if start is not None else _day(first_at)
        while at < before:
            end = min(_day(at) + timedelta(days=_DAYS_PER_STEP), before)
            steps.append((at, end))
            at = end
    return steps


async def _ends(db: Database, accounts: Sequence[int]) -> tuple[datetime | None, set[int]]:
    """The chunk's earliest snapshot time, and each account's first and latest ids."""
    snap = aliased(Snapshot)
    earliest = (
        select(snap.observed_at)
        .where(snap.account_id == Account.id)
        .order_by(snap.observed_at.asc(), snap.id.asc())
        .limit(1)
    ).scalar_subquery()
    stmt = select(earliest, _edge(ascending=True), _edge(ascending=False)).where(
        Account.id.in_(list(accounts))
    )
    async with db.sessions() as session:
        found = list((await session.execute(stmt)).all())
    times = [row[0] for row in found if row[0] is not None]
    protected = {i for row in found for i in row[1:] if i is not None}
    return (min(times) if times else None), protected


async def _thin(
    db: Database,
    cut: Cutoffs,
    where: ColumnElement[bool],
    protected: set[int],
    *,
    dry_run: bool,
) -> int:
    """Delete (or count) the rows of ``where`` the rule drops: one statement, one transaction.

    The rule of ``bot.store.downsample`` in SQL: rows older than ``full_before`` are
    ranked in their (account, bucket) by whole second then id, newest first; all but
    the first go, except the protected ones.
    """
    seconds = _seconds(db.dialect)
    hourly = seconds >= int(cut.hourly_before.timestamp())
    size = case((hourly, HOUR), else_=DAY)
    rank = func.row_number().over(
        partition_by=(Snapshot.account_id, size, seconds // size),
        # Whole seconds, then id, as the rule orders: a fraction of a second
        # does not decide between two rows of one second.
        order_by=(seconds.desc(), Snapshot.id.desc()),
    )
    ranked = (
        select(Snapshot.id.label("id"), rank.label("rank"))
        .where(where, Snapshot.observed_at < cut.full_before)
        .subquery("ranked")
    )
    losers = and_(ranked.c.rank > 1, ranked.c.id.not_in(sorted(protected)))
    async with db.engine.begin() as conn:
        if dry_run:
            count = await conn.scalar(select(func.count()).select_from(ranked).where(losers))
            return int(count or 0)
        result = await conn.execute(
            delete(Snapshot).where(Snapshot.id.in_(select(ranked.c.id).where(losers)))
        )
    return int(result.rowcount)


def _seconds(dialect: str) -> Any:
    """``observed_at`` as whole POSIX seconds, computed by the database.

    SQLite holds naive UTC text (``bot.store.types``): ``strftime('%s')`` reads it as UTC
    and drops the fraction; PostgreSQL's ``timestamptz`` epoch is floored to match.
    """
    if dialect == "postgresql":
        return func.floor(func.extract("epoch", Snapshot.observed_at)).cast(BigInteger)
    return func.strftime("%s", Snapshot.observed_at).cast(BigInteger)


def _edge(*, ascending: bool) -> Any:
    """A correlated probe: the account's first (or latest) snapshot id."""
    snap = aliased(Snapshot)
    order = (
        (snap.observed_at.asc(), snap.id.asc())
        if ascending
        else (snap.observed_at.desc(), snap.id.desc())
    )
    return (
        select(snap.id).where(snap.account_id == Account.id).order_by(*order).limit(1)
    ).scalar_subquery()


# --- deliveries and events ---------------------------------------------------------------


def _done_delivery(d: Any, before: datetime) -> ColumnElement[bool]:
    """``d`` (Delivery or an alias) is done, older than ``before`` and no thread's anchor."""
    anchor = and_(
        d.status == "sent",
        exists().where(EventRow.id == d.event_id, EventRow.kind == EventKind.NEW_POST.value),
    )
    return and_(
        d.status.in_(DONE),
        d.created_at < before,
        or_(d.sent_at.is_(None), d.sent_at < before),
        not_(anchor),
    )


def _old_event(cut: Cutoffs) -> ColumnElement[bool]:
    """An event past ``events_after`` whose every delivery is gone or going too."""
    other = aliased(Delivery)
    kept = exists().where(
        other.event_id == EventRow.id, not_(_done_delivery(other, cut.deliveries_before))
    )
    return and_(
        EventRow.kind.not_in(KEPT_EVENTS),
        EventRow.occurred_at < cut.events_before,
        EventRow.detected_at < cut.events_before,
        not_(kept),
    )


async def _sweep(
    db: Database,
    key: Any,
    where: ColumnElement[bool],
    batch: int,
    dry_run: bool,
    between: BatchHook,
) -> int:
    """Delete (or count) the rows matching ``where``, ``batch`` ids at a time by keyset."""
    removed, after = 0, 0
    while True:
        async with db.sessions() as session:
            stmt = select(key).where(key > after, where).order_by(key).limit(batch)
            ids = list(await session.scalars(stmt))
        if not ids:
            return removed
        after = ids[-1]
        if dry_run:
            removed += len(ids)
        else:
            async with db.engine.begin() as conn:
                # The condition again: a row that changed since the read stays.
                result = await conn.execute(delete(key.table).where(key.in_(ids), where))
            removed += int(result.rowcount)
            await between()
        if len(ids) < batch:
            return removed


# --- posts (only when asked) -------------------------------------------------------------


def _old_post(before: datetime) -> ColumnElement[bool]:
    """A dated post older than ``before``, seen last before it, not its account's newest."""
    newer = aliased(Post)
    newest = select(func.max(newer.published_at)).where(newer.account_id == Post.account_id)
    return and_(
        Post.published_at.is_not(None),
        Post.published_at < before,
        Post.last_seen_at < before,
        Post.published_at < newest.scalar_subquery(),
    )


async def _posts(
    db: Database, before: datetime, batch: int, report: Report, between: BatchHook
) -> None:
    where = _old_post(before)
    after = 0
    while True:
        async with db.sessions() as session:
            stmt = select(Post.id).where(Post.id > after, where).order_by(Post.id).limit(batch)
            ids = list(await session.scalars(stmt))
            if not ids:
                break
            versions = await session.scalar(
                select(func.count()).select_from(PostVersion).where(PostVersion.post_id.in_(ids))
            )
        after = ids[-1]
        report.counts["posts"] += len(ids)
        report.counts["post_versions"] += int(versions or 0)
        if not report.dry_run:
            async with db.engine.begin() as conn:
                # Versions go with their post (ON DELETE CASCADE), and the search index
                # rows with their versions (triggers).
                await conn.execute(delete(Post).where(Post.id.in_(ids)))
            await between()
        if len(ids) < batch:
            break
    await _post_events(db, before, batch, report, between)


async def _post_events(
    db: Database, before: datetime, batch: int, report: Report, between: BatchHook
) -> None:
    """Remove the post events (and their alerts) of posts that are gone or going."""
    going = aliased(Delivery)
    active = exists().where(going.event_id == EventRow.id, going.status.not_in(DONE))
    where = and_(EventRow.kind.in_(POST_EVENTS), EventRow.occurred_at < before, not_(active))
    after = 0
    while True:
        async with db.sessions() as session:
            stmt = (
                select(EventRow.id, EventRow.account_id, EventRow.payload)
                .where(EventRow.id > after, where)
                .order_by(EventRow.id)
                .limit(batch)
            )
            found = list((await session.execute(stmt)).all())
            orphans = await _orphans(session, found, before)
            alerts = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.event_id.in_(orphans))
            )
        if not found:
            return
        after = found[-1][0]
        report.counts["events"] += len(orphans)
        report.counts["deliveries"] += int(alerts or 0)
        if orphans and not report.dry_run:
            async with db.engine.begin() as conn:
                await conn.execute(delete(EventRow).where(EventRow.id.in_(orphans), where))
            await between()
        if len(found) < batch:
            return


async def _orphans(session: Any, found: Sequence[Any], before: datetime) -> list[int]:
    """The ids among ``found`` events whose post is not kept (gone, or old enough to go)."""
    named = [
        ((row[1], str((row[2] or {}).get("post_id"))), row[0])
        for row in found
        if row[1] is not None and (row[2] or {}).get("post_id") is not None
    ]
    if not named:
        return []
    accounts = sorted({a for (a, _), _ in named})
    post_ids = sorted({p for (_, p), _ in named})
    stmt = select(Post.account_id, Post.platform_post_id).where(
        Post.account_id.in_(accounts), Post.platform_post_id.in_(post_ids), not_(_old_post(before))
    )
    kept = {(a, p) for a, p in await session.execute(stmt)}
    return sorted(event_id for key, event_id in named if key not in kept)
