"""The per-account pipeline: claim, fetch, detect, write; and whole polling passes.

``Poller.run_once()`` polls every due account once and returns ``PollStats``; it is what
``govwatch poll-once`` and the benchmark call. ``Poller.drain()`` is the same loop used by
the long-running scheduler. Claims, state loads and subscription loads are batched; each
observation is still written in its own transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from bot import metrics
from bot.config import Settings
from bot.detect import Rules, State, detect
from bot.detect.sameness import SameRules
from bot.detect.state import Detection
from bot.domain import Observation, Platform, Status
from bot.failpoints import failpoint
from bot.poll.claim import ClaimedAccount, claim_accounts
from bot.poll.writer import BatchWriter
from bot.sources.base import Source
from bot.sources.reasons import reason_in_words
from bot.store.engine import Database
from bot.store.failures import note_database_error
from bot.store.fanout import Fanout, load_fanout
from bot.store.models import utcnow
from bot.store.observations import Bookkeeping, PendingWrite, load_states
from bot.store.sameness import SameText

log = logging.getLogger(__name__)

#: Upper bound of one claim; a claim is one UPDATE, so bigger batches mean fewer trips.
MAX_BATCH = 500


@dataclass(slots=True)
class PollStats:
    """Counts of one or more polling passes."""

    claimed: int = 0
    ok: int = 0
    absent: int = 0
    unknown: int = 0
    events: int = 0
    deliveries: int = 0
    lost_lease: int = 0
    failed: int = 0
    seconds: float = 0.0
    #: Why accounts stayed unknown (reason -> count), and one cause in words per reason.
    reasons: Counter[str] = field(default_factory=Counter)
    details: dict[str, str] = field(default_factory=dict)

    def add(self, other: PollStats) -> None:
        """Add ``other``'s counts to these."""
        for f in fields(self):
            if f.name != "details":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        for reason, words in other.details.items():
            self.details.setdefault(reason, words)

    def note_unknown(self, obs: Observation) -> None:
        """Count why ``obs`` could not be read."""
        reason = obs.reason or "unknown"
        self.reasons[reason] += 1
        if obs.detail:
            self.details.setdefault(reason, obs.detail)

    def failures_in_words(self) -> str:
        """ "3 network failure (could not resolve host t.me), 1 timed out", most first."""
        parts = []
        for reason, count in sorted(self.reasons.items(), key=lambda item: (-item[1], item[0])):
            words = f"{count} {reason_in_words(reason)}"
            if reason in self.details:
                words += f" ({self.details[reason]})"
            parts.append(words)
        return ", ".join(parts)

    @property
    def per_second(self) -> float:
        """Accounts polled per second."""
        return self.claimed / self.seconds if self.seconds > 0 else 0.0


@dataclass(slots=True)
class BatchContext:
    """What a claimed batch needs from the database, loaded with a few queries."""

    states: dict[int, State]
    fanout: Fanout
    rules: dict[int, Rules] = field(default_factory=dict)


def rules_from_settings(settings: Settings) -> Rules:
    """The configured detection thresholds."""
    d = settings.detect
    return Rules(
        silent_after=d.silent_after,
        change_percent=d.follower_change_percent,
        change_min=d.follower_change_min,
        milestones=tuple(sorted(set(d.follower_milestones))),
        confirm_polls=d.confirm_polls,
        degraded_after=settings.scheduler.degraded_after,
        snapshot_every=settings.scheduler.snapshot_every,
        unusual_window_days=max(1, d.unusual_window.days),
        unusual_min_days=d.unusual_min_days,
        unusual_ratio=d.unusual_ratio,
        unusual_floor=d.unusual_floor,
        unusual_floor_percent=d.unusual_floor_percent,
    )


def same_text_from_settings(settings: Settings) -> SameText:
    """Same-text detection (``coordinated_posts``) with the configured ``[detect]`` rules."""
    d = settings.detect
    return SameText(
        SameRules(
            officials=d.same_text_officials,
            window=d.same_text_window,
            min_words=d.same_text_min_words,
            threshold=d.same_text_similarity,
        )
    )


def next_poll_at(
    now: datetime,
    *,
    interval: timedelta,
    jitter: timedelta,
    failures: int,
    max_backoff: timedelta,
    retry_after: float | None,
    rng: random.Random,
) -> datetime:
    """When to poll next: interval +- jitter, doubled per failure up to ``max_backoff``."""
    delay = interval
    if failures > 0:
        delay = min(interval * (2 ** min(failures - 1, 30)), max(max_backoff, interval))
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    spread = jitter.total_seconds()
    if spread > 0:
        delay += timedelta(seconds=rng.uniform(-spread, spread))
    return now + max(delay, timedelta(0))


def make_owner() -> str:
    """A lease owner name unique to this process run."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _crash(acc: ClaimedAccount, reason: str, detail: str | None = None) -> Observation:
    return Observation(
        platform=acc.platform,
        handle=acc.handle,
        status=Status.UNKNOWN,
        fetched_at=utcnow(),
        reason=reason,
        detail=detail,
    )


class Poller:
    """Polls accounts: the pipeline shared by ``run``, ``poll-once`` and the benchmark."""

    def __init__(
        self,
        db: Database,
        sources: Mapping[Platform, Source],
        settings: Settings,
        *,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.sources = sources
        self.settings = settings
        self.owner = owner or make_owner()
        self.clock = clock
        self.rng = rng or random.Random()
        self.rules = rules_from_settings(settings)
        sched = settings.scheduler
        self.capacity = sched.max_concurrency * 2
        self.inflight: set[int] = set()
        self._fetch_slots = asyncio.Semaphore(sched.max_concurrency)
        self._changed = asyncio.Condition()
        self.writer = BatchWriter(
            db, batch=sched.write_batch, clock=clock, same=same_text_from_settings(settings)
        )

    async def claim(
        self,
        limit: int,
        *,
        due: bool = True,
        account_id: int | None = None,
        not_polled_since: datetime | None = None,
    ) -> list[ClaimedAccount]:
        """Lease up to ``limit`` accounts to this poller."""
        claimed = await claim_accounts(
            self.db.engine,
            owner=self.owner,
            limit=limit,
            lease=self.settings.scheduler.lease,
            now=self.clock(),
            due=due,
            account_id=account_id,
            not_polled_since=not_polled_since,
            platforms=list(self.sources),
        )
        self.inflight.update(a.id for a in claimed)
        return claimed

    async def run_once(
        self, *, due: bool = True, account_id: int | None = None, since: datetime | None = None
    ) -> PollStats:
        """Poll every claimable account once (due ones, or all with ``due=False``).

        ``since``: the pass's start, shared by several processes polling one pass; an
        account polled after it is not polled again (default: now).
        """
        return await self.drain(due=due, account_id=account_id, once=True, since=since)

    async def drain(
        self,
        *,
        due: bool = True,
        account_id: int | None = None,
        once: bool = False,
        stopping: asyncio.Event | None = None,
        since: datetime | None = None,
    ) -> PollStats:
        """Claim and poll until nothing is claimable, keeping the pipeline full."""
        started, t0 = since or self.clock(), time.perf_counter()
        stats = PollStats()
        running: set[asyncio.Task[PollStats]] = set()

        def collect(task: asyncio.Task[PollStats]) -> None:
            running.discard(task)
            if not task.cancelled() and task.exception() is None:
                stats.add(task.result())

        try:
            while stopping is None or not stopping.is_set():
                free = await self._wait_for_capacity()
                claimed = await self.claim(
                    min(free, MAX_BATCH),
                    due=due,
                    account_id=account_id,
                    not_polled_since=started if once else None,
                )
                if not claimed:
                    break
                task = asyncio.create_task(self.poll_batch(claimed))
                running.add(task)
                task.add_done_callback(collect)
                if account_id is not None:
                    break
            # a failed batch (say, the database went away) is raised here
            await asyncio.gather(*running)
        finally:
            for task in running:
                task.cancel()
        stats.seconds = time.perf_counter() - t0
        return stats

    async def _wait_for_capacity(self) -> int:
        async with self._changed:
            # claim in reasonably sized batches rather than one account at a time
            need = min(self.capacity, max(1, self.capacity // 4))
            await self._changed.wait_for(lambda: self.capacity - len(self.inflight) >= need)
            return self.capacity - len(self.inflight)

    async def load_context(self, claimed: list[ClaimedAccount]) -> BatchContext:
        """Previous states, subscriptions and watchlist rules of a batch."""
        officials = {a.official_id for a in claimed}
        async with self.db.engine.connect() as conn:
            states = await load_states(conn, [a.id for a in claimed])
            fanout = await load_fanout(conn, officials, now=self.clock(), deferred=True)
        ctx = BatchContext(states=states, fanout=fanout)
        for official_id in officials:
            rules = self.rules
            for w in fanout.watchlists_of.get(official_id, ()):
                rules = rules.narrowed(
                    silent_after_s=w.silent_after_s,
                    change_percent=w.follower_change_percent,
                    change_min=w.follower_change_min,
                )
            ctx.rules[official_id] = rules
        return ctx

    async def poll_batch(self, claimed: list[ClaimedAccount]) -> PollStats:
        """Fetch, detect and store every account of a claimed batch."""
        try:
            ctx = await self.load_context(claimed)
            results = await asyncio.gather(*(self._poll_and_free(a, ctx) for a in claimed))
        finally:
            await self._done([a.id for a in claimed])
        stats = PollStats()
        for result in results:
            stats.add(result)
        return stats

    async def _poll_and_free(self, acc: ClaimedAccount, ctx: BatchContext) -> PollStats:
        try:
            return await self.poll_one(acc, ctx)
        finally:
            # a slow account must not hold the capacity of its whole batch
            await self._done([acc.id])

    async def _done(self, ids: list[int]) -> None:
        async with self._changed:
            self.inflight.difference_update(ids)
            self._changed.notify_all()

    async def fetch(self, acc: ClaimedAccount) -> Observation:
        """The source's observation; never raises for a source's own failure."""
        source = self.sources.get(acc.platform)
        if source is None:
            return _crash(acc, "source_disabled", f"sources.{acc.platform.value}.enabled is false")
        # finish well inside the lease, so the write still holds it
        limit = self.settings.scheduler.lease.total_seconds() / 2
        try:
            async with self._fetch_slots, asyncio.timeout(limit):
                with metrics.fetch_timer(acc.platform.value).time():
                    obs = await source.fetch(acc.ref())
                failpoint("poll.mid_fetch")  # crash suite: answered, nothing stored yet
                return obs
        except TimeoutError:
            return _crash(acc, "timeout", f"no answer within {limit:g} s")
        except Exception:
            log.exception("fetching %s %s failed", acc.platform.value, acc.handle)
            return _crash(acc, "internal_error")

    async def poll_one(self, acc: ClaimedAccount, ctx: BatchContext) -> PollStats:
        """Poll one claimed account and store the outcome in one transaction."""
        stats = PollStats(claimed=1)
        obs = await self.fetch(acc)
        failpoint("poll.after_fetch")
        setattr(stats, obs.status.value, 1)
        metrics.poll_done(acc.platform.value, obs.status.value, obs.reason)
        if obs.status is Status.UNKNOWN:
            stats.note_unknown(obs)
        rules = ctx.rules.get(acc.official_id, self.rules)
        try:
            detection = detect(ctx.states.get(acc.id), obs, info=acc.info(), rules=rules)
        except Exception:
            # a detector bug on one odd observation must not stop the others; the
            # account's lease expires and it is tried again later
            log.exception("detecting changes of account %s failed", acc.id)
            stats.failed = 1
            return stats
        book = self._bookkeeping(acc, obs)
        pending = PendingWrite(book=book, obs=obs, detection=detection, fanout=ctx.fanout)
        try:
            result = await self.writer.write(pending)
        except Exception as exc:
            note_database_error(exc)
            log.exception("storing the observation of account %s failed", acc.id)
            stats.failed = 1
            return stats
        if result is None:
            log.warning("lease of account %s was lost; its observation is dropped", acc.id)
            stats.lost_lease = 1
        else:
            stats.events, stats.deliveries = result.events, result.deliveries
            _log_events(acc, detection)
        return stats

    def _bookkeeping(self, acc: ClaimedAccount, obs: Observation) -> Bookkeeping:
        # our own clock: sources round fetched_at to the second
        now = self.clock()
        failures = acc.consecutive_failures + 1 if obs.status is Status.UNKNOWN else 0
        sched = self.settings.scheduler
        interval = (
            timedelta(seconds=acc.poll_interval_s) if acc.poll_interval_s else sched.poll_interval
        )
        validators = {**acc.validators, **obs.validators}
        platform_id = (
            obs.platform_id if obs.platform_id and obs.platform_id != acc.platform_id else None
        )
        return Bookkeeping(
            account_id=acc.id,
            official_id=acc.official_id,
            owner=self.owner,
            polled_at=now,
            next_poll_at=next_poll_at(
                now,
                interval=interval,
                jitter=sched.jitter,
                failures=failures,
                max_backoff=sched.max_backoff,
                retry_after=obs.retry_after,
                rng=self.rng,
            ),
            consecutive_failures=failures,
            validators=validators,
            platform_id=platform_id,
        )


def _log_events(acc: ClaimedAccount, detection: Detection) -> None:
    for event in detection.events:
        log.info("%s %s/%s: %s", event.kind.value, acc.platform.value, acc.handle, event.dedup_key)
