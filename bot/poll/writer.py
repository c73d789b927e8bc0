"""Group commit: observations finished while a write is in flight are written together.

Each observation stays all-or-nothing (its transaction holds all of its rows); a batch
only shares the transaction and the round trips. ``batch=1`` gives one transaction per
observation. A batch that fails is retried one observation at a time, so one bad row
cannot take the others down with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.failpoints import failpoint
from bot.store.engine import Database
from bot.store.observations import PendingWrite, WriteResult, write_observations
from bot.store.sameness import SameText

log = logging.getLogger(__name__)

#: How long a write waits for more observations to share its transaction.
GATHER_S = 0.01


class BatchWriter:
    """Writes ``PendingWrite`` items through one flusher task, ``batch`` at a time."""

    def __init__(
        self,
        db: Database,
        *,
        batch: int,
        clock: Callable[[], datetime],
        same: SameText | None = None,
    ) -> None:
        self.db = db
        self.same = same or SameText()
        self.batch = max(1, batch)
        self.clock = clock
        self._queue: list[tuple[PendingWrite, asyncio.Future[WriteResult | None]]] = []
        self._task: asyncio.Task[None] | None = None
        #: Called after a commit that queued deliveries (the relay in this process wakes).
        self.on_queued: Callable[[], None] | None = None

    async def write(self, item: PendingWrite) -> WriteResult | None:
        """Store ``item``; None when its lease was lost. Raises if the write failed."""
        future: asyncio.Future[WriteResult | None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._queue:
            if len(self._queue) < self.batch:
                # a moment for polls finishing right now to join this transaction
                await asyncio.sleep(GATHER_S)
            group, self._queue = self._queue[: self.batch], self._queue[self.batch :]
            try:
                await self._commit(group)
            except Exception as exc:
                if len(group) == 1:
                    _settle(group[0][1], exc=exc)
                    continue
                log.warning("a write batch failed (%r); writing its items one by one", exc)
                for one in group:
                    try:
                        await self._commit([one])
                    except Exception as single:
                        _settle(one[1], exc=single)

    async def _commit(
        self, group: list[tuple[PendingWrite, asyncio.Future[WriteResult | None]]]
    ) -> None:
        async with self.db.engine.begin() as conn:
            results = await write_observations(
                conn, [item for item, _ in group], detected_at=self.clock(), same=self.same
            )
            failpoint("poll.before_commit")
        failpoint("poll.after_commit")
        if self.on_queued is not None and any(r.deliveries for r in results.values() if r):
            self.on_queued()
        for item, future in group:
            _settle(future, result=results.get(item.book.account_id))


def _settle(
    future: asyncio.Future[WriteResult | None],
    *,
    result: WriteResult | None = None,
    exc: BaseException | None = None,
) -> None:
    if future.done():
        return  # the poll that waited for it was cancelled
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
