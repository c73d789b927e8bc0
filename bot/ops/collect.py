"""Gauges computed from the database when Prometheus scrapes: backlog, degraded, outbox.

Two statements per scrape (``bot.store.health``), each reading an index range as long as
the backlog. When the database does not answer in time, ``govwatch_database_up`` is 0
and these gauges are left out: a number we could not read is unknown, never 0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric

from bot import metrics
from bot.store.engine import Database
from bot.store.failures import note_database_error
from bot.store.health import OutboxHealth, PlatformHealth, outbox_health, platform_health
from bot.store.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoreReading:
    """What one scrape read from the database (``ok`` False: nothing could be read)."""

    at: datetime
    ok: bool
    platforms: dict[str, PlatformHealth] = field(default_factory=dict)
    outbox: dict[str, OutboxHealth] = field(default_factory=dict)


class StoreGauges:
    """Reads the store's backlog and shapes it as gauges, zero-filled for what we poll and send."""

    def __init__(
        self,
        db: Database,
        *,
        platforms: Collection[str],
        backends: Collection[str],
        timeout_s: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.platforms = sorted(platforms)
        self.backends = sorted(backends)
        self.timeout_s = timeout_s
        self.clock = clock

    async def read(self) -> StoreReading:
        """One reading; a failing or slow database gives ``ok=False`` (and counts an error)."""
        now = self.clock()
        try:
            async with asyncio.timeout(self.timeout_s), self.db.engine.connect() as conn:
                platforms = await platform_health(conn, now)
                outbox = await outbox_health(conn, now)
        except Exception as exc:
            if not note_database_error(exc):
                raise
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            return StoreReading(at=now, ok=False)
        return StoreReading(at=now, ok=True, platforms=platforms, outbox=outbox)

    def families(self, reading: StoreReading) -> list[Metric]:
        """The gauges of ``reading``."""
        up = GaugeMetricFamily(
            "govwatch_database_up",
            "1 when the scrape-time queries answered within ops.db_timeout, else 0.",
            value=1.0 if reading.ok else 0.0,
        )
        if not reading.ok:
            return [up]
        return [up, *self._polling(reading), *self._outbox(reading)]

    def _polling(self, reading: StoreReading) -> Iterator[Metric]:
        overdue, oldest, degraded = _Family(), _Family(), _Family()
        # Accounts of a disabled source wait for it by design: not overdue.
        for name in self.platforms:
            health = reading.platforms.get(name, PlatformHealth())
            overdue.add(metrics.platform_label(name), health.due)
            oldest.add(metrics.platform_label(name), _age(reading.at, health.oldest_due_at))
        for name in sorted({*self.platforms, *reading.platforms}):
            health = reading.platforms.get(name, PlatformHealth())
            degraded.add(metrics.platform_label(name), health.degraded)
        yield overdue.gauge(
            "govwatch_accounts_overdue",
            "Enabled accounts due and not yet polled, by platform.",
            "platform",
        )
        yield oldest.gauge(
            "govwatch_oldest_overdue_seconds",
            "How long the longest-waiting due account has waited, by platform.",
            "platform",
            combine=max,
        )
        yield degraded.gauge(
            "govwatch_sources_degraded",
            "Accounts whose source is degraded (repeated unknown reads), by platform.",
            "platform",
        )

    def _outbox(self, reading: StoreReading) -> Iterator[Metric]:
        pending, oldest, lag = _Family(), _Family(), _Family()
        for name in sorted({*self.backends, *reading.outbox}):
            health = reading.outbox.get(name, OutboxHealth())
            label = metrics.backend_label(name)
            pending.add(label, health.unsent)
            oldest.add(label, _age(reading.at, health.oldest_created_at))
            lag.add(label, _age(reading.at, health.oldest_due_at))
        yield pending.gauge(
            "govwatch_outbox_pending",
            "Deliveries not yet sent (pending, claimed or sending), by chat backend.",
            "backend",
        )
        yield oldest.gauge(
            "govwatch_outbox_oldest_pending_seconds",
            "Age of the oldest delivery not yet sent, by chat backend.",
            "backend",
            combine=max,
        )
        yield lag.gauge(
            "govwatch_outbox_oldest_due_seconds",
            "How long the oldest due delivery has waited past its due time (the "
            "relay's lag), by chat backend.",
            "backend",
            combine=max,
        )


class _Family:
    """Values by label; names that map to one label (``other``) are combined."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}

    def add(self, label: str, value: float) -> None:
        self.values.setdefault(label, []).append(float(value))

    def gauge(
        self,
        name: str,
        documentation: str,
        label: str,
        *,
        combine: Callable[[list[float]], float] = sum,
    ) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, documentation, labels=[label])
        for value, values in sorted(self.values.items()):
            family.add_metric([value], combine(values))
        return family


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


class Snapshot:
    """A collector over fixed families, for one exposition."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        """The families given at construction."""
        return self._families
