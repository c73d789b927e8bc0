"""``govwatch run`` as a real process: SIGKILL mid-poll, restarts, two workers, poll-once."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.store.engine import Database
from bot.store.models import Account, AccountState, Delivery, EventRow, Post
from tests.fakes.world import World, hours_ago, seed

ROOT = Path(__file__).resolve().parent.parent


def write_config(path: Path, db_url: str, world: World, *, concurrency: int = 4) -> Path:
    path.write_text(
        f"""
[database]
url = "{db_url}"

[http]
allow_private_networks = true
per_host_rate = 1000.0
per_host_concurrency = 16
timeout = "5s"

[scheduler]
# one process: these tests kill it and count on what that one process did
workers = 1
tick = "200ms"
poll_interval = "1s"
jitter = "0s"
lease = "3s"
max_concurrency = {concurrency}

[logging]
level = "INFO"

[sources.bluesky]
base_url = "{world.url()}"
""",
        encoding="utf-8",
    )
    return path


SPAWNED: list[Worker] = []


class Worker:
    """One ``python -m bot run`` process (killed at the end of the test if still alive)."""

    def __init__(self, config: Path, *, failpoints: str | None = None) -> None:
        self.config = config
        self.failpoints = failpoints
        self.proc: asyncio.subprocess.Process | None = None
        self.stdout = b""
        self.stderr = b""
        self._readers: list[asyncio.Task[None]] = []

    async def start(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
        if self.failpoints:
            env["GOVWATCH_FAILPOINTS"] = self.failpoints
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *(args or ("run",)),
            "--config",
            str(self.config),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        SPAWNED.append(self)
        self._readers = [
            asyncio.create_task(self._read(self.proc.stdout, "stdout")),
            asyncio.create_task(self._read(self.proc.stderr, "stderr")),
        ]

    async def _read(self, stream: asyncio.StreamReader | None, name: str) -> None:
        assert stream is not None
        while chunk := await stream.read(65536):
            setattr(self, name, getattr(self, name) + chunk)

    async def ready(self, *, timeout: float = 90.0) -> None:
        """Wait until the process says it runs (imports are slow on a busy machine)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while b"govwatch running" not in self.stderr:
            assert self.proc is not None
            assert self.proc.returncode is None, self.stderr.decode()[-2000:]
            assert loop.time() < end, "the worker did not start in time"
            await asyncio.sleep(0.05)

    async def finish(self, sig: int | None = None, *, timeout: float = 60.0) -> int:
        assert self.proc is not None
        if sig is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)
        await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.gather(*self._readers)
        assert self.proc.returncode is not None
        return self.proc.returncode


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    await w.start()
    try:
        yield w
    finally:
        for worker in SPAWNED:
            if worker.proc is not None and worker.proc.returncode is None:
                worker.proc.kill()
                await worker.proc.wait()
        SPAWNED.clear()
        await w.stop()


async def wait_for(check: object, *, timeout: float = 90.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        if await check():  # type: ignore[operator]
            return
        if loop.time() > end:
            raise AssertionError("timed out waiting for the worker")
        await asyncio.sleep(0.1)


async def count(db: Database, stmt: object) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(stmt) or 0)  # type: ignore[call-overload]


def make_world(world: World, n: int) -> list[str]:
    handles = [f"acct{i}.bsky.social" for i in range(n)]
    for h in handles:
        acc = world.add_bluesky(h, name=h, followers=5000)
        for age in (30, 20, 10):
            acc.post(f"{h} old {age}", at=hours_ago(age))
    return handles


async def test_sigkill_mid_poll_duplicates_and_loses_nothing(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    handles = make_world(world, 12)
    await seed(database, [("bluesky", h) for h in handles])
    config = write_config(tmp_path / "c.toml", db_url, world)
    states = select(func.count()).select_from(AccountState)

    first = Worker(config)
    await first.start()
    await wait_for(lambda: _equals(database, states, len(handles)))
    rng = random.Random(4)
    kills = ["random", "poll.before_commit=kill@3", "random", "poll.after_commit=kill@2"]
    running = first
    for n, how in enumerate(kills, start=1):
        seen = asyncio.Event()
        world.on_request = lambda _key: seen.set()  # noqa: B023
        world.delay = 0.15
        for h in handles:
            world.bluesky[h].post(f"{h} news {n}")
            world.bluesky[h].followers += 1000
        if how == "random":
            await asyncio.wait_for(seen.wait(), 20)
            await asyncio.sleep(rng.uniform(0.05, 0.5))
            assert await running.finish(signal.SIGKILL) == -signal.SIGKILL
        else:
            # restart armed: the failpoint kills the process inside/after a write
            assert await running.finish(signal.SIGKILL) == -signal.SIGKILL
            armed = Worker(config, failpoints=how)
            await armed.start()
            assert await armed.finish(timeout=120) == -signal.SIGKILL
            assert b"failpoint" in armed.stderr
        running = Worker(config)
        await running.start()
    world.delay = 0.0
    final = len(kills)

    async def caught_up() -> bool:
        posts = await count(database, select(func.count()).select_from(Post))
        new = await count(database, select(func.count()).where(EventRow.kind == "new_post"))
        return posts == len(handles) * (3 + final) and new >= len(handles) * final

    await wait_for(caught_up)
    await asyncio.sleep(1.5)  # a few more polls: nothing new may appear
    assert await running.finish(signal.SIGTERM) == 0
    async with database.sessions() as s:
        kinds = Counter((await s.execute(select(EventRow.kind))).scalars().all())
        deltas = (
            await s.execute(
                select(Account.handle, EventRow.payload)
                .join(Account, Account.id == EventRow.account_id)
                .where(EventRow.kind == "followers_up")
            )
        ).all()
        deliveries = await s.scalar(select(func.count()).select_from(Delivery))
        final_state = (await s.execute(select(AccountState.followers))).scalars().all()
    assert kinds["new_post"] == len(handles) * final  # every post once: none lost, none doubled
    assert set(kinds) <= {"new_post", "followers_up"}
    gained = Counter()
    for handle, payload in deltas:
        gained[handle] += payload["delta"]
    assert gained == Counter({h: 1000 * final for h in handles})  # jumps may merge, never vanish
    assert final_state == [5000 + 1000 * final] * len(handles)
    assert deliveries == sum(kinds.values())


async def _equals(db: Database, stmt: object, value: int) -> bool:
    return await count(db, stmt) == value


async def test_sigterm_stops_cleanly_and_releases_leases(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    handles = make_world(world, 5)
    await seed(database, [("bluesky", h) for h in handles])
    worker = Worker(write_config(tmp_path / "c.toml", db_url, world))
    await worker.start()
    await worker.ready()
    await wait_for(lambda: _equals(database, select(func.count()).select_from(AccountState), 5))
    world.delay = 0.5
    await asyncio.sleep(1.2)
    assert await worker.finish(signal.SIGTERM) == 0
    assert b"Traceback" not in worker.stderr
    leased = select(func.count()).select_from(Account).where(Account.lease_owner.is_not(None))
    assert await count(database, leased) == 0


async def test_two_workers_never_poll_one_account_at_once(
    database: Database, db_url: str, world: World, tmp_path: Path, pg_url: str | None
) -> None:
    if pg_url is None:
        pytest.skip("several workers share PostgreSQL, not SQLite")
    handles = make_world(world, 30)
    await seed(database, [("bluesky", h) for h in handles])
    config = write_config(tmp_path / "c.toml", db_url, world, concurrency=8)
    world.delay = 0.05
    workers = [Worker(config), Worker(config)]
    for w in workers:
        await w.start()
    await asyncio.gather(*(w.ready() for w in workers))
    await asyncio.sleep(6)
    for w in workers:
        assert await w.finish(signal.SIGTERM) == 0, w.stderr.decode()[-3000:]
    profiles = Counter({k: v for k, v in world.requests.items() if k.startswith("bluesky:acct")})
    assert len(profiles) == 30
    assert min(profiles.values()) >= 4  # each account polled at least twice (2 requests a poll)
    assert max(world.max_inflight.values()) == 1  # never two requests for one account at once
    for w in workers:
        assert b"polled" in w.stderr  # both took part
    assert await count(database, select(func.count()).select_from(EventRow)) == 0


async def test_poll_once_cli(database: Database, db_url: str, world: World, tmp_path: Path) -> None:
    handles = make_world(world, 3)
    ids = await seed(database, [("bluesky", h) for h in handles])
    config = write_config(tmp_path / "c.toml", db_url, world)
    once = Worker(config)
    await once.start("poll-once")
    assert await once.finish() == 0
    assert b"polled 3 accounts" in once.stdout
    again = Worker(config)
    await again.start("poll-once", "--account", str(ids[handles[0]]))
    assert await again.finish() == 0
    assert b"polled 1 accounts" in again.stdout
    missing = Worker(config)
    await missing.start("poll-once", "--account", "999999")
    assert await missing.finish() == 2
    assert b"no account with id 999999" in missing.stderr


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_poll_once_exits_3_with_reasons_when_nothing_could_be_read(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    handles = make_world(world, 2)
    await seed(database, [("bluesky", h) for h in handles])
    config = write_config(tmp_path / "c.toml", db_url, world)
    port = _closed_port()
    config.write_text(config.read_text().replace(world.url(), f"http://127.0.0.1:{port}"))
    once = Worker(config)
    await once.start("poll-once")
    assert await once.finish() == 3, once.stderr.decode()[-2000:]
    out = once.stdout.decode()
    assert "polled 2 accounts" in out
    assert "0 ok, 0 absent, 2 unknown" in out
    assert f"could not read 2: 2 network failure (connection refused by 127.0.0.1:{port})" in out
    # cron mails whatever is printed: no migration chatter from alembic
    assert "alembic" not in once.stderr.decode()
    assert "INFO" not in once.stderr.decode()


async def test_poll_once_with_nothing_due_says_so_and_exits_0(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "c.toml", db_url, world)
    once = Worker(config)
    await once.start("poll-once")
    assert await once.finish() == 0, once.stderr.decode()[-2000:]
    assert once.stdout.decode().strip() == "nothing was due: no account polled"
    assert "alembic" not in once.stderr.decode()


async def test_run_says_at_start_what_it_reads_and_where_alerts_go(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    handles = make_world(world, 2)
    await seed(database, [("bluesky", h) for h in handles])
    worker = Worker(write_config(tmp_path / "c.toml", db_url, world))
    await worker.start("run")
    await worker.ready()
    assert await worker.finish(signal.SIGTERM) == 0
    err = worker.stderr.decode()
    assert "no chat backend is enabled: alerts are queued in the outbox until one is" in err
    assert "reading: bluesky (2 accounts)" in err
    assert "chats: 1 active, 1 subscriptions" in err
    assert "alembic" not in err
