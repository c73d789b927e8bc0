"""The ops HTTP server: ``GET /metrics`` (Prometheus) and ``GET /healthz`` (JSON).

One process serves. Alone, it serves its own counters (``bot.metrics``) with the
process collectors; with several processes sharing ``PROMETHEUS_MULTIPROC_DIR``, it serves
the sum of every process's files instead (``prometheus_client.multiprocess``). Either
way the database gauges are read at scrape time (``collect.StoreGauges``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from bot import metrics
from bot.config import OpsSettings, Settings
from bot.errors import UserInputError
from bot.ops.collect import Snapshot, StoreGauges
from bot.ops.health import HealthCheck, tick_times
from bot.store.engine import Database, probe_engine

log = logging.getLogger(__name__)


def process_metrics(multiprocess_dir: str | None) -> CollectorRegistry:
    """The counters to serve: this process's, or every process's in ``multiprocess_dir``."""
    registry = CollectorRegistry()
    if multiprocess_dir:
        MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    else:
        registry.register(REGISTRY)
    return registry


def where_of(settings: OpsSettings) -> str:
    """``host:port`` of the ops server (IPv6 literals in brackets)."""
    host = f"[{settings.listen}]" if ":" in settings.listen else settings.listen
    return f"{host}:{settings.port}"


class OpsServer:
    """Serves /metrics and /healthz on ``[ops] listen:port`` between start and stop."""

    name = "ops"

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database,
        platforms: Collection[str],
        backends: Collection[str],
        multiprocess_dir: str | None = metrics.MULTIPROCESS_DIR,
    ) -> None:
        self.settings = settings.ops
        timeout = self.settings.db_timeout.total_seconds()
        self.counters = process_metrics(multiprocess_dir)
        self.gauges = StoreGauges(db, platforms=platforms, backends=backends, timeout_s=timeout)
        self._probe = probe_engine(db.url, timeout_s=timeout)
        self.health = HealthCheck(
            self.settings,
            probe=self._probe,
            backends=backends,
            ticks=lambda: tick_times(self.counters.collect()),
        )
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The aiohttp application (routes only; ``start`` serves it)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        return app

    async def start(self) -> None:
        """Listen; a taken port or a wrong address is one clear line."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.listen, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise UserInputError(
                f"cannot serve ops.listen/ops.port {where_of(self.settings)}: {exc.strerror or exc}"
            ) from None
        self._runner = runner
        log.info("ops: /metrics and /healthz on http://%s", where_of(self.settings))

    async def stop(self) -> None:
        """Stop listening and close the health probe."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._probe.dispose()

    async def _metrics(self, request: web.Request) -> web.Response:
        reading = await self.gauges.read()
        families: Iterable[Metric] = [*self.counters.collect(), *self.gauges.families(reading)]
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encoder(Snapshot(families))
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self.health.run()
        return web.json_response(report.to_json(), status=200 if report.ok else 503)
