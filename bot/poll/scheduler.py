"""The long-running poll loop: an APScheduler tick that keeps the pipeline full."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import metrics
from bot.poll.claim import release_accounts
from bot.poll.pipeline import Poller, PollStats
from bot.store.failures import note_database_error

log = logging.getLogger(__name__)

POLL_JOB = "poll-tick"


class PollScheduler:
    """Runs ``Poller.drain`` on every tick unless a drain is still running.

    A drain claims batches while accounts are due and capacity is free, so a slow tick
    never delays polling; the global concurrency limit lives in the poller.
    """

    def __init__(self, poller: Poller, scheduler: AsyncIOScheduler, *, tick: timedelta) -> None:
        self.poller = poller
        self.scheduler = scheduler
        self.tick_interval = tick
        self.stopping = asyncio.Event()
        self.total = PollStats()
        self._drain: asyncio.Task[PollStats] | None = None

    def start(self) -> None:
        """Add the tick job to the (already created) APScheduler."""
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_interval.total_seconds(),
            id=POLL_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )

    async def tick(self) -> None:
        """Start a drain unless one is running or we are stopping."""
        metrics.ticked()  # /healthz: the loop is alive even when every drain is busy
        if self.stopping.is_set() or (self._drain is not None and not self._drain.done()):
            return
        self._drain = asyncio.create_task(self.poller.drain(stopping=self.stopping))
        self._drain.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[PollStats]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            note_database_error(exc)
            log.error("polling pass failed: %r", exc)
            return
        stats = task.result()
        self.total.add(stats)
        if stats.claimed:
            log.info(
                "polled %d accounts (%d ok, %d absent, %d unknown): %d events, %d deliveries",
                stats.claimed,
                stats.ok,
                stats.absent,
                stats.unknown,
                stats.events,
                stats.deliveries,
            )
        if stats.unknown:
            # INFO, not WARNING: at scale some account always fails; degraded sources are
            # announced as source_degraded events, and this line carries the reasons.
            log.info(
                "could not read %d of %d accounts: %s",
                stats.unknown,
                stats.claimed,
                stats.failures_in_words(),
            )

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming, let in-flight polls finish for ``grace`` seconds, then abandon them."""
        self.stopping.set()
        with contextlib.suppress(Exception):
            self.scheduler.remove_job(POLL_JOB)
        drain = self._drain
        if drain is None or drain.done():
            return
        done, _ = await asyncio.wait({drain}, timeout=grace)
        if done:
            return
        abandoned = sorted(self.poller.inflight)
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await drain
        log.warning("abandoned %d in-flight polls; their leases are released", len(abandoned))
        with contextlib.suppress(Exception):
            await release_accounts(
                self.poller.db.engine, owner=self.poller.owner, account_ids=abandoned
            )
