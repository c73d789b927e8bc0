"""SIGKILL the real ``govwatch run`` at random points; after restarts nothing is lost or doubled.

A loopback world of RSS feeds, the fake Telegram Bot API and a real ``python -m bot run``
process with a config file (SQLite file, or PostgreSQL with GOVWATCH_TEST_DATABASE_URL).
One Telegram chat is subscribed to everything. Each iteration publishes new posts, then
starts a worker that is killed with SIGKILL either at a random moment or by a failpoint
(mid-fetch, mid-transaction, after the 'sending' mark and before the send, after the send
and before the 'sent' mark). A last clean worker runs until the outbox is quiet.

Then: every post published after the baseline reached the chat (the fake Bot API's log);
none twice, except a delivery whose outcome was unknowable (a worker died after claiming
it), which may arrive at most once more; no other alert was sent; the store is complete
and consistent (events, posts, deliveries, account state). The workers log at DEBUG and
no token appears in any of their output.

Until ``govwatch run`` starts the Telegram backend and the relay (the lead wires them
into bot/app.py), the scenario notices it (no getMe reaches the fake Bot API), skips the
relay kill points and checks the outbox instead of the chat: every post queued exactly
once. The summary then names the scenario ``crash.govwatch_run.outbox_only``.

``run_crash_scenario`` is shared with ``bench/soak.py`` (more iterations, more feeds).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.domain import Platform
from bot.store.engine import Database
from bot.store.models import (
    Account,
    AccountState,
    Chat,
    Delivery,
    EventRow,
    Official,
    Post,
    Snapshot,
    Subscription,
)
from tests.crash_summary import Tally
from tests.fakes.faulty_world import FaultPlan, FaultyWorld
from tests.fakes.telegram_api import FakeTelegramAPI

ROOT = Path(__file__).resolve().parent.parent
CHAT_ID = 4242
GUID = re.compile(r"\bfeed\d+-\d+\b")
FAILPOINTS = ("poll.mid_fetch", "store.mid_transaction", "relay.before_send", "relay.after_send")
KILL_MODES = ("random", *FAILPOINTS)
#: The command under test (``govwatch run``).
RUN = (sys.executable, "-m", "bot", "run")


def write_config(path: Path, *, db_url: str, api: FakeTelegramAPI, level: str = "DEBUG") -> Path:
    """A config for fast polling and delivery against the loopback world and fake Bot API."""
    path.write_text(
        f"""
[database]
url = "{db_url}"

[http]
allow_private_networks = true
per_host_rate = 1000.0
per_host_concurrency = 8
timeout = "2s"

[scheduler]
# one process: these tests kill it and count on what that one process did
workers = 1
tick = "200ms"
poll_interval = "1s"
jitter = "0s"
lease = "3s"
max_concurrency = 8

[relay]
tick = "200ms"
lease = "2s"
per_chat_interval = "20ms"
max_attempts = 50

[telegram]
token = "{api.token}"
base_url = "{api.base_url}"
base_file_url = "{api.base_file_url}"
mode = "polling"

[logging]
level = "{level}"
""",
        encoding="utf-8",
    )
    return path


class Worker:
    """One ``govwatch run`` process, its output captured."""

    def __init__(self, config: Path, *, failpoints: str | None = None) -> None:
        self.config = config
        self.failpoints = failpoints
        self.proc: asyncio.subprocess.Process | None = None
        self.output = bytearray()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Spawn the process (without any GOVWATCH_* variable of the test run)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
        if self.failpoints:
            env["GOVWATCH_FAILPOINTS"] = self.failpoints
        self.proc = await asyncio.create_subprocess_exec(
            *RUN,
            "--config",
            str(self.config),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self.output += chunk

    async def ready(self, timeout: float = 90.0) -> None:
        """Wait until the worker logs that it runs."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while b"govwatch running" not in self.output:
            assert self.proc is not None
            if self.proc.returncode is not None:
                return  # died early (a failpoint may fire during start-up)
            assert loop.time() < end, "the worker did not start in time"
            await asyncio.sleep(0.05)

    async def wait(self, timeout: float) -> int | None:
        """The exit status, or None if still running after ``timeout``."""
        assert self.proc is not None
        try:
            await asyncio.wait_for(asyncio.shield(self.proc.wait()), timeout)
        except TimeoutError:
            return None
        return self.proc.returncode

    async def finish(self, sig: int | None = None, *, timeout: float = 60.0) -> int:
        """Send ``sig`` (if any), wait for the exit and the end of its output."""
        assert self.proc is not None
        if sig is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)
        await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await self._reader
        assert self.proc.returncode is not None
        return self.proc.returncode

    @property
    def fired(self) -> str | None:
        """The failpoint that killed this worker, if one did."""
        found = re.search(rb"govwatch failpoint (\S+) fired", bytes(self.output))
        return found.group(1).decode() if found else None


@dataclass
class CrashReport:
    """What one crash scenario did and found."""

    kills: Counter[str] = field(default_factory=Counter)
    expected: set[str] = field(default_factory=set)
    sent: Counter[str] = field(default_factory=Counter)
    unknowable: set[str] = field(default_factory=set)
    false_alerts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    leaked_tokens: int = 0
    log_bytes: int = 0
    #: False while ``govwatch run`` starts no Telegram backend and relay (the lead wires
    #: them): then "sent" counts alerts queued in the outbox, and relay kills are skipped.
    relay: bool = True

    @property
    def lost(self) -> set[str]:
        """Posts that never reached the chat."""
        return self.expected - set(self.sent)

    @property
    def duplicated(self) -> dict[str, int]:
        """Posts sent more than once, with their count."""
        return {guid: n for guid, n in self.sent.items() if n > 1}

    def record(self, tally: Tally, name: str) -> None:
        """Add this scenario to the suite summary."""
        tally.scenario(name if self.relay else f"{name}.outbox_only")
        for how, n in self.kills.items():
            tally.fault(f"kill.{how}", n)
        dupes = self.duplicated
        tally.alerts(
            expected=len(self.expected),
            delivered=len(self.expected & set(self.sent)),
            duplicated=sum(n - 1 for n in dupes.values()),
            duplicated_unknowable=sum(n - 1 for g, n in dupes.items() if g in self.unknowable),
            lost=len(self.lost),
            false_alerts=len(self.false_alerts),
        )

    def failures(self) -> list[str]:
        """Everything that breaks the promise (empty when all is well)."""
        out = list(self.problems)
        if self.lost:
            out.append(f"lost: {sorted(self.lost)}")
        for guid, n in sorted(self.duplicated.items()):
            if guid not in self.unknowable or n > 2:
                out.append(f"{guid} sent {n} times (unknowable outcome: {guid in self.unknowable})")
        if self.false_alerts:
            out.append(f"false alerts: {self.false_alerts[:5]}")
        if self.leaked_tokens:
            out.append(f"the bot token appears {self.leaked_tokens} times in worker logs")
        return out


async def seed(db: Database, world: FaultyWorld, feeds: int) -> None:
    """Officials with one feed each and one Telegram chat subscribed to everything."""
    async with db.sessions() as session:
        for n in range(feeds):
            name = f"feed{n}"
            url = world.add_feed(name, posts=2)
            official = Official(slug=name, name=f"Press office {n}", search_key=f"press office {n}")
            official.accounts.append(Account(platform=Platform.RSS.value, handle=url, url=url))
            session.add(official)
        chat = Chat(backend="telegram", external_id=str(CHAT_ID), kind="private", locale="en")
        session.add(chat)
        await session.flush()
        session.add(Subscription(chat_id=chat.id, target_type="all", target_id=0))
        await session.commit()


async def _scalar(db: Database, stmt: object) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(stmt) or 0)  # type: ignore[call-overload]


async def _wait(check: object, *, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if await check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.2)
    return False


def _failpoint_spec(mode: str, rng: random.Random, feeds: int) -> str:
    if mode == "store.mid_transaction" or mode == "poll.mid_fetch":
        return f"{mode}=kill@{rng.randint(1, feeds)}"
    return f"{mode}=kill@{rng.randint(1, 2)}"


async def _one_kill(
    config: Path, mode: str, rng: random.Random, feeds: int, report: CrashReport
) -> Worker:
    spec = None if mode == "random" else _failpoint_spec(mode, rng, feeds)
    worker = Worker(config, failpoints=spec)
    await worker.start()
    await worker.ready()
    if spec is None:
        await asyncio.sleep(rng.uniform(0.3, 2.5))
        code = await worker.finish(signal.SIGKILL)
    else:
        code = await worker.wait(8.0)
        if code is None:  # the point was not reached in time: kill from outside
            code = await worker.finish(signal.SIGKILL)
        else:
            await worker.finish()
    assert code == -signal.SIGKILL, bytes(worker.output[-3000:]).decode(errors="replace")
    report.kills[worker.fired or "random"] += 1
    return worker


async def run_crash_scenario(
    *,
    db: Database,
    db_url: str,
    tmp_path: Path,
    seed_value: int,
    iterations: int,
    feeds: int = 3,
    modes: tuple[str, ...] = KILL_MODES,
) -> CrashReport:
    """Publish, kill, restart ``iterations`` times, then drain and check (see module doc)."""
    rng = random.Random(seed_value)
    report = CrashReport()
    api = FakeTelegramAPI()
    await api.start()
    world = FaultyWorld(FaultPlan(fault_rate=0.0), hosts=2)
    await world.start()
    workers: list[Worker] = []
    try:
        await seed(db, world, feeds)
        config = write_config(tmp_path / "crash.toml", db_url=db_url, api=api)
        # Baseline: the first sight of every feed alerts nothing.
        first = Worker(config)
        await first.start()
        workers.append(first)
        await first.ready()
        # The Telegram backend says getMe while starting, before "govwatch running".
        report.relay = await _wait(lambda: _asked(api), timeout=3)
        if not report.relay:
            modes = tuple(m for m in modes if not m.startswith("relay.")) or ("random",)
        states = select(func.count()).select_from(AccountState)
        assert await _wait(lambda: _equals(db, states, feeds), timeout=90), "no baseline"
        await first.finish(signal.SIGKILL)
        plan = [*rng.sample(modes, len(modes)), *(rng.choice(modes) for _ in range(iterations))]
        for mode in plan[:iterations]:
            for name in rng.sample(sorted(world.feeds), k=rng.randint(1, min(2, feeds))):
                report.expected.add(world.add_post(name).guid)
            workers.append(await _one_kill(config, mode, rng, feeds, report))
        last = Worker(config)
        await last.start()
        workers.append(last)
        await last.ready()
        await _wait(lambda: _settled(db, api, report), timeout=60)
        await asyncio.sleep(1.5)  # a few more polls and relay passes: nothing more may come
        assert await last.finish(signal.SIGTERM) == 0, bytes(last.output[-3000:]).decode()
    finally:
        for worker in workers:
            if worker.proc is not None and worker.proc.returncode is None:
                await worker.finish(signal.SIGKILL)
        await world.stop()
        await api.close()
    await _tally(db, api, report)
    report.problems.extend(await _check_store(db, report, feeds))
    for worker in workers:
        report.log_bytes += len(worker.output)
        report.leaked_tokens += bytes(worker.output).count(api.token.encode())
        report.leaked_tokens += bytes(worker.output).count(api.token.split(":")[1].encode())
    return report


async def _equals(db: Database, stmt: object, value: int) -> bool:
    return await _scalar(db, stmt) == value


async def _asked(api: FakeTelegramAPI) -> bool:
    return bool(api.requests)


async def _settled(db: Database, api: FakeTelegramAPI, report: CrashReport) -> bool:
    """Delivered and quiet (or, with no relay in ``govwatch run``, queued), state caught up."""
    if report.relay:
        done = await _quiet(db, api, report.expected)
    else:
        done = report.expected <= await _queued(db)
    return done and await _caught_up(db)


async def _caught_up(db: Database) -> bool:
    """Every account's state knows its newest stored post (the last write has landed)."""
    newest = select(Post.account_id, func.max(Post.published_at)).group_by(Post.account_id)
    async with db.sessions() as session:
        stored = {a: w for a, w in (await session.execute(newest)).all()}
        rows = await session.execute(select(AccountState.account_id, AccountState.last_post_at))
        states = {a: w for a, w in rows.all()}
    return all(states.get(account) == when for account, when in stored.items())


async def _queued(db: Database) -> set[str]:
    """Posts whose new_post event has a delivery row in the outbox."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(EventRow.payload).join(Delivery, Delivery.event_id == EventRow.id)
        )
        return {str(payload.get("post_id")) for (payload,) in rows.all()}


async def _tally(db: Database, api: FakeTelegramAPI, report: CrashReport) -> None:
    """What reached the chat (the fake Bot API's log), or what was queued without a relay."""
    if report.relay:
        _tally_messages(api, report)
        return
    async with db.sessions() as session:
        rows = await session.execute(
            select(EventRow.payload).join(Delivery, Delivery.event_id == EventRow.id)
        )
        for (payload,) in rows.all():
            guid = str(payload.get("post_id"))
            if guid in report.expected:
                report.sent[guid] += 1
            else:
                report.false_alerts.append(guid)


async def _quiet(db: Database, api: FakeTelegramAPI, expected: set[str]) -> bool:
    """Every expected post reached the chat and no delivery is still in flight."""
    seen = {g for m in api.messages_to(CHAT_ID) for g in GUID.findall(m.text)}
    if not expected <= seen:
        return False
    busy = select(func.count()).where(Delivery.status.in_(("pending", "claimed", "sending")))
    return await _scalar(db, busy) == 0


def _tally_messages(api: FakeTelegramAPI, report: CrashReport) -> None:
    for message in api.sent:
        if message.method != "sendMessage":
            continue
        guids = set(GUID.findall(message.text))
        if message.chat_id != CHAT_ID or len(guids) != 1 or not guids <= report.expected:
            report.false_alerts.append(message.text[:200])
            continue
        report.sent[guids.pop()] += 1


async def _check_store(db: Database, report: CrashReport, feeds: int) -> list[str]:
    """Complete rows and consistent counts; also marks the posts with unknowable sends."""
    problems: list[str] = []
    async with db.sessions() as s:
        events = (await s.scalars(select(EventRow))).all()
        deliveries = (await s.scalars(select(Delivery))).all()
        posts = (await s.scalars(select(Post))).all()
        states = (await s.scalars(select(AccountState))).all()
        snapshots = (await s.scalars(select(Snapshot))).all()
    by_event = {e.id: e for e in events}
    kinds = Counter(e.kind for e in events if e.kind not in ("source_degraded", "source_recovered"))
    if set(kinds) - {"new_post"}:
        problems.append(f"unexpected event kinds: {dict(kinds)}")
    new_posts = Counter(str(e.payload.get("post_id")) for e in events if e.kind == "new_post")
    if set(new_posts) != report.expected:
        problems.append(
            f"new_post events {sorted(new_posts)} != published {sorted(report.expected)}"
        )
    per_event = Counter(d.event_id for d in deliveries)
    for event in events:
        if event.kind == "new_post" and per_event[event.id] != 1:
            problems.append(f"event {event.id} has {per_event[event.id]} deliveries")
    for delivery in deliveries:
        event = by_event.get(delivery.event_id)
        if event is None:
            problems.append(f"delivery {delivery.id} points at no event")
            continue
        unknowable = delivery.unknown_outcomes > 0
        # Given up after two unknowable outcomes: fine if it arrived (checked as "lost").
        ended = delivery.status != "sent" and report.relay
        if ended and event.kind == "new_post" and not unknowable:
            problems.append(
                f"delivery {delivery.id} ended {delivery.status}: {delivery.last_error}"
            )
        if unknowable:
            report.unknowable.add(str(event.payload.get("post_id")))
    stored = {p.platform_post_id for p in posts}
    if not report.expected <= stored:
        problems.append(f"posts missing from the store: {sorted(report.expected - stored)}")
    for post in posts:
        if not post.text or post.published_at is None or post.first_seen_at is None:
            problems.append(f"post {post.platform_post_id} is incomplete")
    if len(states) != feeds:
        problems.append(f"{len(states)} account states for {feeds} accounts")
    last_post = {}
    for post in posts:
        if post.published_at is not None:
            last_post[post.account_id] = max(
                last_post.get(post.account_id, post.published_at), post.published_at
            )
    for state in states:
        if state.status != "ok" or state.last_post_at != last_post.get(state.account_id):
            problems.append(
                f"account {state.account_id}: state {state.status}, last post "
                f"{state.last_post_at}, newest stored {last_post.get(state.account_id)}"
            )
        window = (state.extra or {}).get("window") or {}
        if not {p.platform_post_id for p in posts if p.account_id == state.account_id} <= set(
            window
        ):
            problems.append(f"account {state.account_id}: stored posts missing from its window")
    for snap in snapshots:
        if snap.observed_at is None or snap.account_id is None:
            problems.append(f"snapshot {snap.id} is incomplete")
    return problems


async def test_sigkill_at_random_points_loses_and_doubles_nothing(
    database: Database, db_url: str, tmp_path: Path, crash_tally: Tally
) -> None:
    report = await run_crash_scenario(
        db=database, db_url=db_url, tmp_path=tmp_path, seed_value=7, iterations=5
    )
    report.record(crash_tally, "crash.govwatch_run")
    assert set(report.kills) & set(FAILPOINTS), report.kills
    assert report.log_bytes > 0
    assert report.failures() == [], report.false_alerts[:3]


async def _run_starts_relay(tmp_path: Path, db_url: str) -> bool:
    """True when ``govwatch run`` starts the Telegram backend (it asks getMe at start)."""
    api = FakeTelegramAPI()
    await api.start()
    worker = Worker(write_config(tmp_path / "probe.toml", db_url=db_url, api=api, level="INFO"))
    try:
        await worker.start()
        await worker.ready()
        return await _wait(lambda: _asked(api), timeout=3)
    finally:
        await worker.finish(signal.SIGTERM)
        await api.close()


async def _seed_outbox(db: Database, alerts: int) -> None:
    """``alerts`` new_post events already queued for the chat (no account is polled)."""
    now = datetime.now(UTC)
    async with db.sessions() as session:
        official = Official(slug="dana", name="Dana Omarova", search_key="dana omarova")
        account = Account(
            platform="rss",
            handle="https://gov.example/feed.rss",
            url="https://gov.example/",
            enabled=False,
        )
        official.accounts.append(account)
        chat = Chat(backend="telegram", external_id=str(CHAT_ID), kind="private", locale="en")
        session.add_all([official, chat])
        await session.flush()
        for n in range(alerts):
            guid = f"feed0-{n + 1}"
            event = EventRow(
                account_id=account.id,
                official_id=official.id,
                kind="new_post",
                payload={
                    "platform": "rss",
                    "handle": account.handle,
                    "post_id": guid,
                    "text": f"Statement {guid}",
                    "url": f"https://gov.example/{n}",
                },
                occurred_at=now,
                dedup_key=f"{account.id}:new_post:{guid}",
            )
            session.add(event)
            await session.flush()
            session.add(Delivery(event_id=event.id, chat_id=chat.id))
        await session.commit()


async def test_crashes_around_a_claimed_batch_lose_nothing(
    database: Database, db_url: str, tmp_path: Path, crash_tally: Tally
) -> None:
    """A worker dies right after one send of a claimed batch, the next before any send.

    Only the one message that went out had an unknowable outcome; the rest of the batch
    was never attempted and must still be delivered (once), not given up.
    """
    alerts = 6
    # Asked on the empty database: a worker with a relay would drain a seeded outbox.
    if not await _run_starts_relay(tmp_path, db_url):
        pytest.skip("govwatch run starts no Telegram backend and relay yet (the lead wires them)")
    await _seed_outbox(database, alerts)
    report = CrashReport(expected={f"feed0-{n + 1}" for n in range(alerts)})
    api = FakeTelegramAPI()
    await api.start()
    workers: list[Worker] = []
    try:
        config = write_config(tmp_path / "batch.toml", db_url=db_url, api=api)
        for spec in ("relay.after_send=kill@1", "relay.before_send=kill@1", None):
            worker = Worker(config, failpoints=spec)
            workers.append(worker)
            await worker.start()
            if spec is None:
                await _wait(lambda: _quiet(database, api, report.expected), timeout=30)
                await asyncio.sleep(1.0)
                assert await worker.finish(signal.SIGTERM) == 0
            else:
                code = await worker.wait(60.0)
                assert code == -signal.SIGKILL, bytes(worker.output[-3000:]).decode()
                await worker.finish()
                report.kills[worker.fired or "?"] += 1
    finally:
        for worker in workers:
            if worker.proc is not None and worker.proc.returncode is None:
                await worker.finish(signal.SIGKILL)
        await api.close()
    _tally_messages(api, report)
    async with database.sessions() as session:
        for delivery in (await session.scalars(select(Delivery))).all():
            if delivery.unknown_outcomes:
                event = await session.get(EventRow, delivery.event_id)
                assert event is not None
                report.unknowable.add(str(event.payload["post_id"]))
    report.record(crash_tally, "crash.relay_batch")
    assert report.kills == Counter({"relay.after_send": 1, "relay.before_send": 1})
    assert report.failures() == []
