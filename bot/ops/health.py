"""What ``/healthz`` checks: the database answers, the scheduler ticks, the relay keeps up.

Each check is ``"ok"``, ``"skipped: ..."`` (nothing to check in this process) or a
failure in words; the whole is healthy when none failed. The database is asked over a
fresh connection (``store.engine.probe_engine``), within ``ops.db_timeout``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import Metric
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.config import OpsSettings
from bot.store.failures import note_database_error
from bot.store.health import outbox_health, ping
from bot.store.models import utcnow

OK = "ok"


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The verdict and every check's word on it."""

    checks: dict[str, str]

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return all(v == OK or v.startswith("skipped") for v in self.checks.values())

    def to_json(self) -> dict[str, object]:
        """The body of /healthz."""
        return {"ok": self.ok, "checks": self.checks}


def tick_times(collected: Iterable[Metric]) -> list[float]:
    """The scheduler's last tick per process (0, a process without a scheduler, left out)."""
    return [
        sample.value
        for family in collected
        if family.name == metrics.LAST_TICK_NAME
        for sample in family.samples
        if sample.value > 0
    ]


class HealthCheck:
    """Runs the three checks of /healthz."""

    def __init__(
        self,
        settings: OpsSettings,
        *,
        probe: AsyncEngine,
        backends: Collection[str],
        ticks: Callable[[], list[float]],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.probe = probe
        self.backends = sorted(backends)
        self.ticks = ticks
        self.clock = clock

    async def run(self) -> HealthReport:
        """Check everything once."""
        database, relay = await self._database_and_relay()
        return HealthReport({"database": database, "scheduler": self._scheduler(), "relay": relay})

    def _scheduler(self) -> str:
        ticks = self.ticks()
        if not ticks:
            return "stale: no tick yet"
        # With several processes the stalest one decides: each must be ticking.
        age = max(0.0, time.time() - min(ticks))
        limit = self.settings.max_tick_age.total_seconds()
        if age > limit:
            return f"stale: last tick {age:.0f} s ago (limit {limit:g} s)"
        return OK

    async def _database_and_relay(self) -> tuple[str, str]:
        timeout = self.settings.db_timeout.total_seconds()
        now = self.clock()
        try:
            async with asyncio.timeout(timeout), self.probe.connect() as conn:
                await ping(conn)
                outbox = (
                    await outbox_health(conn, now, backends=self.backends) if self.backends else {}
                )
        except TimeoutError:
            metrics.db_error()
            return f"unavailable: no answer within {timeout:g} s", self._relay_unknown()
        except Exception as exc:
            if not note_database_error(exc):
                raise
            # The class only: a driver's message may quote the address and the user.
            return f"unavailable: {type(exc).__name__}", self._relay_unknown()
        return OK, self._relay(now, [h.oldest_due_at for h in outbox.values()])

    def _relay_unknown(self) -> str:
        return "unknown: the database did not answer" if self.backends else _NO_RELAY

    def _relay(self, now: datetime, due_since: list[datetime | None]) -> str:
        if not self.backends:
            return _NO_RELAY
        waits = [now - at for at in due_since if at is not None]
        lag = max(waits, default=timedelta(0)).total_seconds()
        limit = self.settings.max_outbox_age.total_seconds()
        if lag > limit:
            return f"behind: a due alert has waited {lag:.0f} s (limit {limit:g} s)"
        return OK


_NO_RELAY = "skipped: no chat backend in this process"
