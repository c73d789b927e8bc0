"""Retention: what ``govwatch db prune`` and the daily job remove, in bounded batches.

- **snapshots** are downsampled with age (``bot.store.downsample``): every one for
  ``snapshots_full``, then the last of each hour, then the last of each day; each
  account's first and latest snapshot always stay. A run remembers the cutoffs it
  reached, so the next reads only the rows that have aged into a coarser tier since.
- **deliveries** (the outbox) that are done (sent, failed, skipped, digested) and older
  than ``deliveries_after``. Rows still to be sent (pending, claimed, sending, queued for a
  digest) never go, nor a sent ``new_post`` alert: follow-ups of its post reply to it
  (``bot.store.threads``).
- **events** older than ``events_after`` whose deliveries are all gone or going, except
  the post events (``new_post``, ``post_edited``, ``post_deleted``: evidence files read
  them) and milestones (their dedup keys stop a milestone being announced twice).
- **posts** (with their versions, post events and those events' alerts) only when asked
  (``full``): dated posts older than ``posts_after``, except each account's newest.

Each batch is one short transaction of at most ``batch`` rows, chosen by a keyset read
of ids; the same reads with ``dry_run`` count what would go and delete nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, delete, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from bot.config import RetentionSettings
from bot.domain import EventKind
from bot.store.downsample import Row, snapshots_to_drop
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
#: Accounts whose snapshots are read at once: a first prune reads up to a year of rows
#: each (tens of thousands at a 15-minute poll interval), a daily one a few dozen.
_ACCOUNTS_PER_READ = 25

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
    for lo in range(0, len(accounts), _ACCOUNTS_PER_READ):
        chunk = accounts[lo : lo + _ACCOUNTS_PER_READ]
        rows, protected = await _snapshot_rows(db, chunk, ranges)
        # In a thread: a first prune decides on a year of rows per account, and the
        # relay and chat share this event loop.
        drop = await asyncio.to_thread(
            snapshots_to_drop,
            rows,
            full_before=int(cut.full_before.timestamp()),
            hourly_before=int(cut.hourly_before.timestamp()),
            protected=protected,
        )
        removed += len(drop)
        if not report.dry_run:
            for start in range(0, len(drop), batch):
                async with db.engine.begin() as conn:
                    await conn.execute(
                        delete(Snapshot).where(Snapshot.id.in_(drop[start : start + batch]))
                    )
                await between()
            await between()
    return removed


async def _snapshot_rows(
    db: Database, accounts: Sequence[int], ranges: Sequence[tuple[datetime | None, datetime]]
) -> tuple[list[Row], set[int]]:
    """The chunk's snapshots in ``ranges`` (account, time order) and its protected ids."""
    windows = [
        and_(Snapshot.observed_at < before, *([Snapshot.observed_at >= start] if start else []))
        for start, before in ranges
    ]
    stmt = (
        select(Snapshot.id, Snapshot.account_id, _seconds(db.dialect))
        .where(Snapshot.account_id.in_(list(accounts)), or_(*windows))
        .order_by(Snapshot.account_id, Snapshot.observed_at, Snapshot.id)
    )
    ends = select(_edge(ascending=True), _edge(ascending=False)).where(
        Account.id.in_(list(accounts))
    )
    async with db.engine.connect() as conn:
        # Plain integers back: parsing a timestamp per row would cost more than the rule.
        rows: list[Row] = [(r[0], r[1], int(r[2])) for r in await conn.execute(stmt)]
        protected = {i for pair in await conn.execute(ends) for i in pair if i is not None}
    return rows, protected


def _seconds(dialect: str) -> Any:
    """``observed_at`` as whole POSIX seconds, computed by the database."""
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
