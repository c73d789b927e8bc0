"""``govwatch demo``: the simulated world, the real app against it, and a console chat.

The demo starts the world on loopback, points every source at it, imports the 24 members
of the 2021 government into a scratch database (a temporary SQLite file unless
``--database`` names one), subscribes the console chat to everything, and runs the real
scheduler, detection and relay. Alerts stream to the terminal; typed lines are chat
commands, run exactly as a Telegram chat's would: ``--lang`` is only the hint for the new
console chat (as a Telegram user's language), then the chat's stored language (``/lang``)
wins; the local operator is an editor, as the operator of a real bot would be. Every time
shown is real time; the world only makes life faster (see ``bot.demo.world``). Buttons are
numbered choices, charts are saved in ``--output`` (see ``bot.chat.console``). With
``--no-input`` it prints alerts until ``--duration`` ends, then the report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import statistics
import sys
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.app import App
from bot.chat.console import ConsoleBackend
from bot.commands.local import console_caller
from bot.commands.service import CommandService
from bot.config import Settings
from bot.demo import script
from bot.demo.world import DEMO_TOKEN, World
from bot.domain import Platform
from bot.errors import UserInputError
from bot.i18n import format_duration, format_number, normalize_locale, t
from bot.logs import setup_logging
from bot.reply import Caller
from bot.reports.charts import ChartCache
from bot.roster import OfficialEntry, load_roster
from bot.roster.transfer import import_entries
from bot.store.migrate import open_database

ROSTER = Path(__file__).with_name("roster.toml")
WATCHLIST = "kz-government"
#: Over 30 days: the quiet minister falls silent for 7 days during the demo, and still
#: counts among the seven who used Facebook.
FINAL_REPORT = f"/report {WATCHLIST} facebook 7d"
SUBSCRIBE = "/subscribe all posts followers silence account sources"
#: Real seconds between polls of one account in the demo.
POLL_EVERY = timedelta(seconds=3)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What the user asked for on the command line."""

    duration: float | None = None
    speed: float = 60.0
    interactive: bool = True
    telegram_token: str | None = None
    database_url: str | None = None
    lang: str | None = None
    #: Where charts are saved (None: the current folder).
    output: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DemoOptions:
        """Options from the parsed ``govwatch demo`` arguments."""
        speed = float(args.speed)
        if not 1 <= speed <= 3600:
            raise UserInputError(
                "--speed must be between 1 and 3600 (world seconds per real second)"
            )
        duration = args.duration
        if duration is not None and duration <= 0:
            raise UserInputError("--duration must be a positive number of seconds")
        return cls(
            duration=duration,
            speed=speed,
            interactive=not args.no_input,
            telegram_token=args.telegram_token,
            database_url=getattr(args, "database", None),
            lang=getattr(args, "lang", None),
            output=Path(args.output) if getattr(args, "output", None) else None,
        )


def demo_settings(
    settings: Settings, world: World, *, database_url: str, telegram_token: str | None
) -> Settings:
    """``settings`` pointed at the world: loopback allowed, short intervals, demo thresholds."""
    urls = world.base_urls()
    sources = settings.sources
    section_updates = {
        platform.value: getattr(sources, platform.value).model_copy(
            update={"base_url": url, "enabled": True, "per_host_rate": None}
        )
        for platform, url in urls.items()
    }
    section_updates["facebook"] = section_updates["facebook"].model_copy(
        update={"access_token": SecretStr(DEMO_TOKEN)}
    )
    token = SecretStr(telegram_token) if telegram_token else settings.telegram.token
    return settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": database_url}),
            "http": settings.http.model_copy(
                update={
                    "allow_private_networks": True,
                    "per_host_rate": 200.0,
                    "per_host_concurrency": 16,
                    "timeout": timedelta(seconds=5),
                }
            ),
            "scheduler": settings.scheduler.model_copy(
                update={
                    "poll_interval": POLL_EVERY,
                    "jitter": timedelta(milliseconds=500),
                    "tick": timedelta(milliseconds=500),
                    "lease": timedelta(seconds=30),
                    "max_backoff": timedelta(seconds=6),
                    "degraded_after": 3,
                    "snapshot_every": timedelta(seconds=30),
                }
            ),
            "detect": settings.detect.model_copy(
                update={"silent_after": world.silent_after, "confirm_polls": 2}
            ),
            "relay": settings.relay.model_copy(
                update={"tick": timedelta(milliseconds=300), "per_chat_interval": timedelta(0)}
            ),
            "telegram": settings.telegram.model_copy(
                update={"token": token, "enabled": bool(telegram_token or settings.telegram.token)}
            ),
            "slack": settings.slack.model_copy(update={"enabled": False}),
            "sources": sources.model_copy(update=section_updates),
        }
    )


def demo_roster(world: World, path: Path = ROSTER) -> list[OfficialEntry]:
    """The demo roster with its placeholder feed URLs pointed at the running world."""
    entries = load_roster(path)
    out: list[OfficialEntry] = []
    for entry in entries:
        accounts = tuple(
            replace(a, handle=world.rss_url(a.handle), url=world.rss_url(a.url))
            if a.platform is Platform.RSS
            else a
            for a in entry.accounts
        )
        out.append(replace(entry, accounts=accounts))
    return out


class LineReader:
    """Reads stdin lines in a daemon thread and hands them to the event loop."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    def start(self) -> None:
        """Begin reading (a daemon thread, so a blocked read never delays exit)."""
        threading.Thread(target=self._read, name="demo-stdin", daemon=True).start()

    def _read(self) -> None:
        for line in self.stream:
            self._loop.call_soon_threadsafe(self.lines.put_nowait, line)
        self._loop.call_soon_threadsafe(self.lines.put_nowait, None)


class Demo:
    """One demo session: world, database, app, console; ``run`` returns an exit status."""

    def __init__(
        self,
        settings: Settings,
        options: DemoOptions,
        *,
        out: TextIO,
        inp: TextIO | None = None,
    ) -> None:
        self.base_settings = settings
        self.options = options
        self.out = out
        self.inp = inp
        self.world = World(speed=options.speed)
        # The language is only the new chat's hint, exactly as a Telegram user's is.
        self.caller: Caller = console_caller("demo", editor=True, lang=options.lang)
        self.locale = normalize_locale(options.lang or settings.i18n.default_locale)
        self.console = ConsoleBackend(
            stream=out, output=options.output, caller=self.caller, interactive=options.interactive
        )
        self._stop = asyncio.Event()

    def say(self, text: str) -> None:
        """Print one line of the demo's own narration."""
        self.out.write(text + "\n")
        self.out.flush()

    async def run(self) -> int:
        """Start everything, stream alerts and answer commands until done, then clean up."""
        with tempfile.TemporaryDirectory(prefix="govwatch-demo-") as tmp:
            url = self.options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
            # The plot starts once the first poll has set the baselines (see _run).
            await self.world.start(evolve=False)
            try:
                return await self._run(url)
            finally:
                await self.world.stop()

    async def _run(self, url: str) -> int:
        settings = demo_settings(
            self.base_settings,
            self.world,
            database_url=url,
            telegram_token=self.options.telegram_token,
        )
        async with open_database(settings) as db:
            entries = demo_roster(self.world)
            await import_entries(db, entries)
            commands = CommandService(
                db=db, settings=settings, services={"chart_cache": ChartCache()}
            )
            self.console.commands = commands
            if settings.telegram.active:
                self.say(t(self.locale, "demo.telegram"))
            # The app adds the Telegram backend (when a token is set), the relay and digests.
            app = App(settings, db=db, commands=commands, backends={"console": self.console})
            self._intro(len(entries))
            await self._command(SUBSCRIBE)
            # History relative to this moment: the start-up time must not eat into the
            # quiet minister's lead before the silence threshold.
            self.world.populate()
            try:
                await app.start()
                self.world.begin(delay=POLL_EVERY.total_seconds() + 1)
                await self._session()
            finally:
                await app.stop()
            if not self.options.interactive:
                await self._command(FINAL_REPORT)
        return 0

    def _intro(self, officials: int) -> None:
        loc, speed = self.locale, self.options.speed
        every = statistics.median(p.post_every for p in script.PLANS.values() if p.post_every)
        last_turn = max((h.at for h in script.PLOT), default=0.0)
        self.say(
            t(loc, "demo.intro", officials=officials, watchlist=WATCHLIST, url=self.world.base_url)
        )
        self.say(
            t(
                loc,
                "demo.pace",
                speed=format_number(speed, loc),
                post_every=_duration(every / speed, loc, up=False),
                plot=_duration(last_turn / speed, loc),
                poll=format_duration(POLL_EVERY, loc),
            )
        )
        self.say(
            t(
                loc,
                "demo.silence",
                silent_after=format_duration(self.world.silent_after, loc),
                lead=_duration(self.world.silence_lead.total_seconds(), loc),
            )
        )
        if self.options.interactive:
            self.say(t(loc, "demo.commands"))
            folder = self.options.output or Path.cwd()
            self.say(t(loc, "demo.charts", folder=str(folder)))

    async def _command(self, text: str) -> None:
        """Narrate and run one command of the demo's own (the subscription, the report)."""
        self.say(f"> {text}")
        await self.console.ask(self.caller, text)

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._stop.set)
        waiters: list[asyncio.Task[None]] = []
        if self.options.duration is not None:
            waiters.append(asyncio.create_task(self._sleep(self.options.duration)))
        if self.options.interactive:
            waiters.append(asyncio.create_task(self._read_commands()))
        waiters.append(asyncio.create_task(self._stopped()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiters:
                task.cancel()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _stopped(self) -> None:
        await self._stop.wait()

    async def _read_commands(self) -> None:
        reader = LineReader(self.inp or sys.stdin)
        reader.start()
        self.console.show_prompt()
        while (line := await reader.lines.get()) is not None:
            self.console.input_ended()
            text = line.strip()
            if text in ("/quit", "/exit", "quit", "exit"):
                return
            if text:
                await self.console.handle_line(self.caller, text)
            self.console.show_prompt()
        self.console.input_ended()


def _duration(seconds: float, locale: str, *, up: bool = True) -> str:
    """``seconds`` to a whole minute (or second): rounded up ("within"), or to the nearest."""
    unit = 60 if seconds >= 60 else 1
    whole = math.ceil(seconds / unit) if up else max(round(seconds / unit), 1)
    return format_duration(timedelta(seconds=whole * unit), locale)


async def run_demo(
    settings: Settings,
    options: DemoOptions,
    *,
    out: TextIO | None = None,
    inp: TextIO | None = None,
) -> int:
    """Run one demo session (typed lines from ``inp``, default stdin); returns the exit status."""
    return await Demo(settings, options, out=out or sys.stdout, inp=inp).run()


def main(settings: Settings, args: argparse.Namespace) -> int:
    """``govwatch demo``: the simulated world with a console chat, no tokens needed."""
    options = DemoOptions.from_args(args)
    # Warnings only: the console is the demo's chat and should read like one.
    setup_logging("WARNING", secrets=settings.secrets())
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    return asyncio.run(run_demo(settings, options))
