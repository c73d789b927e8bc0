"""The composition root: builds every part from Settings and owns their lifecycles.

``govwatch run`` is ``main(settings, args)``: migrate the database, start every enabled
chat backend (Telegram, Slack, plus any passed in, such as the demo's console), the
outbox relay, the digest queue and the poll scheduler, run until SIGINT or SIGTERM,
then stop in reverse order. In-flight polls get a short grace period; polls still
running after it are abandoned and their leases released (a crash leaves them to expire
instead). With no backend enabled it still polls, detects and queues alerts. With
``[ops] enabled`` it serves /metrics and /healthz (``bot.ops``) while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, timedelta
from pathlib import Path
from typing import ClassVar, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import metrics
from bot.commands.service import CommandService
from bot.config import Settings
from bot.domain import Platform
from bot.errors import LeaseHeld, UserInputError
from bot.logs import quiet_libraries, setup_logging
from bot.net.client import HttpClient
from bot.notify.digest import DigestQueue
from bot.notify.leaderboard_digest import LeaderboardDigests
from bot.notify.relay import Relay
from bot.ops.server import OpsServer
from bot.poll.languages import LanguageJob
from bot.poll.pipeline import Poller
from bot.poll.scheduler import PollScheduler
from bot.reply import ChatAddress, ChatBackend, Reply, SendResult
from bot.reports.charts import ChartCache
from bot.sources import build_sources
from bot.sources.base import Source
from bot.store.engine import Database
from bot.store.migrate import open_database, upgrade_database
from bot.store.overview import Overview, overview
from bot.store.retention import Policy
from bot.store.retention_job import run_retention
from bot.web.server import WebServer

log = logging.getLogger(__name__)

#: Seconds in-flight polls may take to finish once a stop was asked for.
STOP_GRACE_S = 10.0
#: How often chats' digest times are checked.
DIGEST_EVERY_S = 60.0
#: How often the retention job asks whether it is due (a one-row read when it is not).
RETENTION_CHECK_S = 600.0


class Service(Protocol):
    """Anything with an async start and stop (chat backends, the relay...)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class RelayService:
    """Runs the outbox relay in the background between start and stop."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start draining the outbox."""
        self._stop.clear()
        self._task = asyncio.create_task(self.relay.run(self._stop), name="relay")

    async def stop(self) -> None:
        """Finish the current pass, then stop."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class GuardedBackend:
    """A chat backend whose failure to connect becomes one clear line (never the token)."""

    name: ClassVar[str] = "guarded"

    def __init__(self, backend: ChatBackend) -> None:
        self.backend = backend
        self.name = backend.name  # type: ignore[misc]

    async def start(self) -> None:
        """Start the backend; a failure names the platform, not the credentials."""
        try:
            await self.backend.start()
        except Exception as exc:
            # Only the class name: some client errors quote the rejected token.
            raise UserInputError(
                f"could not connect to {self.backend.name} ({type(exc).__name__}); "
                "check the token and the network"
            ) from None

    async def stop(self) -> None:
        """Stop the backend."""
        await self.backend.stop()

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        """Send through the backend."""
        return await self.backend.send(address, reply, plain=plain)


def configured_backends(settings: Settings, commands: CommandService) -> dict[str, ChatBackend]:
    """The chat backends the configuration enables (Telegram, Slack)."""
    backends: dict[str, ChatBackend] = {}
    if settings.telegram.active:
        from bot.chat.telegram import TelegramBackend

        backends["telegram"] = TelegramBackend(settings=settings, commands=commands)
    if settings.slack.active:
        from bot.chat.slack import SlackBackend

        backends["slack"] = SlackBackend(settings=settings, commands=commands)
    return backends


class App:
    """govwatch's running parts on an open ``db``; pass ``http``/``sources`` to inject your own.

    With ``[ops] enabled`` it also serves /metrics and /healthz; a process that only polls
    for a parent serving them (several workers) passes ``serve_ops=False``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database,
        http: HttpClient | None = None,
        sources: Mapping[Platform, Source] | None = None,
        owner: str | None = None,
        commands: CommandService | None = None,
        backends: Mapping[str, ChatBackend] | None = None,
        chat: bool = True,
        serve_ops: bool = True,
    ) -> None:
        self.settings = settings
        self._own_http = http is None
        self.db = db
        self.http = http or HttpClient(settings.http)
        self.sources = sources if sources is not None else build_sources(settings, self.http)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.poller = Poller(self.db, self.sources, settings, owner=owner)
        self.polling = PollScheduler(self.poller, self.scheduler, tick=settings.scheduler.tick)
        self.services: list[Service] = []
        self._started: list[Service] = []
        self._stop_requested = asyncio.Event()
        self.running = False
        self.commands = commands or CommandService(
            db=self.db, settings=settings, services={"chart_cache": ChartCache()}
        )
        self.backends: dict[str, ChatBackend] = dict(backends or {})
        if chat:
            self._add_chat()
        self.web: WebServer | None = None
        if settings.web.enabled and serve_ops:
            # The public site reads the same database; a worker (serve_ops=False) never serves it.
            self.web = WebServer(settings, db=self.db)
            self.add_service(self.web)
        self.ops: OpsServer | None = None
        if settings.ops.enabled and serve_ops:
            # Last: it starts once everything it reports on runs, and stops first.
            self.ops = OpsServer(
                settings,
                db=self.db,
                platforms=[p.value for p in self.sources],
                backends=list(self.backends),
            )
            self.add_service(self.ops)
        self.add_periodic("metrics", self._sample_metrics, settings.scheduler.tick)
        if settings.retention.enabled:
            self.add_periodic("retention", self.prune_if_due, RETENTION_CHECK_S)
        if settings.languages.enabled and serve_ops:
            # Off the polling path: versions are stored without a language and filled here,
            # by one process of ``run --workers N`` (each would load lingua's models).
            self.languages = LanguageJob.from_settings(self.db, settings)
            self.add_periodic("languages", self.languages.run, settings.languages.every)
        if settings.scheduler.heartbeat_file:
            self._heartbeat = Path(settings.scheduler.heartbeat_file)
            self.add_periodic("heartbeat", self._beat, settings.scheduler.tick)

    def _add_chat(self) -> None:
        # Backends first, then the relay and digests that send through them.
        configured = configured_backends(self.settings, self.commands)
        self.backends.update({name: GuardedBackend(b) for name, b in configured.items()})
        for backend in self.backends.values():
            self.add_service(backend)
        self.relay = Relay(db=self.db, backends=self.backends, settings=self.settings)
        self.add_service(RelayService(self.relay))
        # An alert this process queued is sent at once, not at the relay's next tick.
        self.poller.writer.on_queued = self.relay.wake
        # Due digests are queued in the outbox; the relay sends them with the alerts.
        self.digests = DigestQueue(db=self.db, settings=self.settings, backends=self.backends)
        self.add_periodic("digests", self.digests.run_due, DIGEST_EVERY_S)
        # The weekly leaderboard digest (/digest top) goes the same way.
        self.leaderboards = LeaderboardDigests(
            db=self.db, settings=self.settings, backends=self.backends
        )
        self.add_periodic("leaderboards", self.leaderboards.run_due, DIGEST_EVERY_S)

    async def _sample_metrics(self) -> None:
        # Only this process knows its hosts' 429 cooldowns; the others are counted as they
        # happen or read from the database at scrape time.
        metrics.host_cooldowns(self.http.cooling_hosts())

    async def prune_if_due(self) -> None:
        """Run the retention job when it is due and no other process holds it."""
        retention = self.settings.retention
        try:
            report = await run_retention(
                self.db,
                Policy.of(retention),
                owner=self.poller.owner,
                hold=retention.lease,
                every=retention.every,
                full=retention.prune_posts,
            )
        except LeaseHeld as exc:
            log.info("retention: %s", exc)
            return
        except Exception:
            # The next check tries again; polling and delivery go on either way.
            log.exception("retention job failed")
            return
        if report is not None:
            log.info("retention: removed %s", report.line())

    async def _beat(self) -> None:
        # Health checks read the file's age: the loop is alive while it keeps changing.
        await asyncio.to_thread(self._heartbeat.touch)

    def add_service(self, service: Service) -> None:
        """Start ``service`` with the app and stop it (in reverse order) on shutdown."""
        self.services.append(service)

    def add_periodic(
        self, name: str, coro_fn: Callable[[], Awaitable[object]], interval: timedelta | float
    ) -> None:
        """Run ``coro_fn()`` every ``interval``; a run still going makes the next one skip."""
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else float(interval)
        self.scheduler.add_job(
            coro_fn, "interval", seconds=seconds, id=name, name=name, max_instances=1, coalesce=True
        )

    async def start(self) -> None:
        """Migrate the database, start services, then polling."""
        # APScheduler logs every run of every job at INFO: several lines a second.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        await upgrade_database(self.db.engine)
        for service in self.services:
            await service.start()
            self._started.append(service)
        await self.announce()
        self.polling.start()
        self.scheduler.start()
        self.running = True
        log.info("govwatch running as %s", self.poller.owner)

    async def announce(self) -> None:
        """Log which backends, sources, chats and subscriptions are active (at start)."""
        async with self.db.sessions() as session:
            seen = await overview(session)
        for level, line in startup_report(self.backends, self.sources, seen):
            log.log(level, "%s", line)

    async def stop(self) -> None:
        """Stop polling and periodic jobs, then services, then HTTP (``db`` stays open)."""
        if self.running:
            self.running = False
            await self.polling.stop(grace=STOP_GRACE_S)
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
        for service in reversed(self._started):
            try:
                await service.stop()
            except Exception:
                log.exception("stopping %r failed", service)
        self._started.clear()
        if self._own_http:
            await self.http.aclose()

    def request_stop(self) -> None:
        """Ask ``run_until_signal`` to return (what SIGINT and SIGTERM do)."""
        self._stop_requested.set()

    async def run_until_signal(self) -> None:
        """Start, run until SIGINT/SIGTERM (or ``request_stop``), then stop cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.start()
            await self._stop_requested.wait()
            log.info("stopping")
        finally:
            await self.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)


def startup_report(
    backends: Mapping[str, object], sources: Mapping[Platform, Source], seen: Overview
) -> list[tuple[int, str]]:
    """(log level, line) pairs saying what this run will read, where it sends, and to whom."""
    lines = [_backends_line(backends)]
    lines += _sources_lines(sources, seen.accounts)
    lines.append((logging.INFO, f"chats: {seen.chats} active, {seen.subscriptions} subscriptions"))
    return lines


def _backends_line(backends: Mapping[str, object]) -> tuple[int, str]:
    if backends:
        return logging.INFO, f"chat backends: {', '.join(sorted(backends))}"
    return logging.WARNING, (
        "no chat backend is enabled: alerts are queued in the outbox until one is "
        "(set telegram.token or slack.bot_token)"
    )


def _sources_lines(
    sources: Mapping[Platform, Source], accounts: Mapping[str, int]
) -> list[tuple[int, str]]:
    read, unread = [], []
    for platform in Platform:
        n = accounts.get(platform.value, 0)
        why = _not_read(sources, platform)
        if why is None and n:
            read.append(f"{platform.value} ({_accounts(n)})")
        elif why is not None and n:
            unread.append(f"{platform.value} ({_accounts(n)}): {why}")
    lines = [(logging.INFO, f"reading: {', '.join(read) or 'no accounts (import a roster)'}")]
    if unread:
        lines.append((logging.WARNING, f"not read: {'; '.join(unread)}"))
    tokenless = [p.value for p, s in sources.items() if not s.has_token()]
    if tokenless:
        lines.append((logging.INFO, f"disabled until a token is set: {', '.join(tokenless)}"))
    return lines


def _accounts(n: int) -> str:
    return f"{n} account" if n == 1 else f"{n} accounts"


def _not_read(sources: Mapping[Platform, Source], platform: Platform) -> str | None:
    source = sources.get(platform)
    if source is None:
        return f"sources.{platform.value}.enabled is false"
    if not source.has_token():
        return f"no token, set sources.{platform.value}.{source.credential}"
    return None


def main(settings: Settings, args: argparse.Namespace) -> int:
    """``govwatch run``: poll, detect, deliver and chat until stopped."""
    setup_logging(
        settings.logging.level,
        secrets=settings.secrets(),
        json_format=settings.logging.json_format,
    )
    quiet_libraries()  # the start-up lines below must not drown in migration chatter

    index = getattr(args, "worker_index", None)
    # Of several workers (``run --workers N``) only worker 0 chats, relays and serves ops.
    whole = index is None or index == 0

    async def run() -> None:
        async with open_database(settings) as db:
            app = App(settings, db=db, chat=whole, serve_ops=whole)
            if index is not None:
                app.add_periodic("parent", _parent_watch(app, os.getppid()), 1.0)
            await app.run_until_signal()

    asyncio.run(run())
    return 0


def _parent_watch(app: App, parent: int) -> Callable[[], Awaitable[None]]:
    """A job that stops a worker whose supervisor is gone (where the kernel would not)."""

    async def check() -> None:
        if os.getppid() != parent:
            log.warning("the supervising process is gone; stopping")
            app.request_stop()

    return check
