"""``--workers N``: several polling processes on one database (SQLite WAL or PostgreSQL).

``poll-once --all --workers 2`` over 1,000 channels served by the loopback world polls
each exactly once (the world counts fetches); ``run --workers 2`` supervises its
workers: a killed one is started again, SIGTERM stops them all with exit 0, and a
configuration mistake in a worker ends the whole run with exit 2.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.store.engine import Database
from bot.store.models import Account, AccountState
from tests.fakes.world import World, hours_ago, seed

ROOT = Path(__file__).resolve().parent.parent
N = 1000


def write_config(
    path: Path,
    db_url: str,
    world: World,
    *,
    interval: str = "6h",
    lease: str = "2m",
    level: str = "INFO",
) -> Path:
    path.write_text(
        f"""
[database]
url = "{db_url}"

[http]
allow_private_networks = true
per_host_rate = 100000.0
per_host_concurrency = 64
timeout = "10s"

[scheduler]
tick = "200ms"
poll_interval = "{interval}"
jitter = "0s"
lease = "{lease}"
max_concurrency = 32

[logging]
level = "{level}"

[sources.telegram]
base_url = "{world.url()}"
fetch_plain_page = false
""",
        encoding="utf-8",
    )
    return path


class Proc:
    """A ``python -m bot`` process with its output collected."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.stdout = b""
        self.stderr = b""
        self._readers: list[asyncio.Task[None]] = []

    async def start(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._readers = [
            asyncio.create_task(self._read(self.proc.stdout, "stdout")),
            asyncio.create_task(self._read(self.proc.stderr, "stderr")),
        ]

    async def _read(self, stream: asyncio.StreamReader | None, name: str) -> None:
        assert stream is not None
        while chunk := await stream.read(65536):
            setattr(self, name, getattr(self, name) + chunk)

    async def finish(self, sig: int | None = None, *, timeout: float = 180.0) -> int:
        assert self.proc is not None
        if sig is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)
        await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.gather(*self._readers)
        assert self.proc.returncode is not None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


@pytest.fixture
async def procs() -> AsyncIterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        p.kill()
        if p.proc is not None:
            await p.proc.wait()


async def wait_until(check: object, *, timeout: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await check():  # type: ignore[operator]
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.1)


async def count(db: Database, stmt: object) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(stmt) or 0)  # type: ignore[call-overload]


async def test_poll_once_with_two_workers_polls_each_account_exactly_once(
    database: Database, db_url: str, world: World, tmp_path: Path, procs: list[Proc]
) -> None:
    handles = [f"chan{i:04d}" for i in range(N)]
    for h in handles:
        world.add_telegram(h, name=h, followers=1000).post(f"{h} hello", at=hours_ago(5))
    await seed(database, [("telegram", h) for h in handles])
    config = write_config(tmp_path / "c.toml", db_url, world)
    once = Proc()
    procs.append(once)
    await once.start("poll-once", "--all", "--workers", "2", "--config", str(config))
    assert await once.finish() == 0, once.stderr.decode()[-3000:]
    out = once.stdout.decode()
    assert f"polled {N} accounts" in out
    assert f"{N} ok, 0 absent, 0 unknown" in out
    shares = re.search(r"2 workers polled (\d+), (\d+) accounts", out)
    assert shares is not None, out
    assert int(shares[1]) + int(shares[2]) == N
    assert min(int(shares[1]), int(shares[2])) > 0  # both took part
    fetched = {k: v for k, v in world.requests.items() if k.startswith("telegram:chan")}
    assert len(fetched) == N
    assert set(fetched.values()) == {1}  # each exactly once
    polled = select(func.count()).where(Account.last_polled_at.is_not(None))
    assert await count(database, polled) == N
    assert await count(database, select(func.count()).select_from(AccountState)) == N
    leased = select(func.count()).where(Account.lease_owner.is_not(None))
    assert await count(database, leased) == 0


async def test_poll_once_workers_are_forked_after_the_schema_check(
    database: Database, db_url: str, world: World, tmp_path: Path, procs: list[Proc]
) -> None:
    # Forked, the workers start with the parent's imports; started as subprocesses each
    # would import everything again. The migration's aiosqlite thread must not stop that.
    handles = [f"fork{i:02d}" for i in range(20)]
    for h in handles:
        world.add_telegram(h, name=h, followers=10).post(f"{h} hello", at=hours_ago(5))
    await seed(database, [("telegram", h) for h in handles])
    config = write_config(tmp_path / "c.toml", db_url, world, level="DEBUG")
    once = Proc()
    procs.append(once)
    await once.start("poll-once", "--all", "--workers", "2", "--config", str(config))
    assert await once.finish() == 0, once.stderr.decode()[-3000:]
    assert b"forking 2 poll-once workers" in once.stderr, once.stderr.decode()[-3000:]
    assert b"as subprocesses" not in once.stderr
    assert "polled 20 accounts" in once.stdout.decode()


async def test_poll_once_workers_refuse_one_account(
    database: Database, db_url: str, world: World, tmp_path: Path, procs: list[Proc]
) -> None:
    config = write_config(tmp_path / "c.toml", db_url, world)
    once = Proc()
    procs.append(once)
    await once.start("poll-once", "--account", "1", "--workers", "2", "--config", str(config))
    assert await once.finish() == 2
    assert b"not with --account" in once.stderr


def _worker_pids(stderr: bytes) -> dict[int, int]:
    """Worker index -> pid of its latest start, from the supervisor's log."""
    pids: dict[int, int] = {}
    for m in re.finditer(rb"worker (\d+) started \(pid (\d+)\)", stderr):
        pids[int(m[1])] = int(m[2])
    return pids


async def test_run_supervises_its_workers(
    database: Database, db_url: str, world: World, tmp_path: Path, procs: list[Proc]
) -> None:
    handles = [f"live{i}" for i in range(20)]
    for h in handles:
        world.add_telegram(h, name=h, followers=1000).post(f"{h} hello", at=hours_ago(5))
    await seed(database, [("telegram", h) for h in handles])
    # A short lease: the killed worker's claims come free again soon.
    config = write_config(tmp_path / "c.toml", db_url, world, interval="1s", lease="3s")
    run = Proc()
    procs.append(run)
    await run.start("run", "--workers", "2", "--config", str(config))

    async def both_running() -> bool:
        return run.stderr.count(b"govwatch running") >= 2

    await wait_until(both_running)
    first = _worker_pids(run.stderr)
    assert sorted(first) == [0, 1]
    os.kill(first[1], signal.SIGKILL)  # a worker dies: the supervisor starts it again

    async def restarted() -> bool:
        return _worker_pids(run.stderr).get(1) not in (None, first[1])

    await wait_until(restarted)
    await wait_until(lambda: _polled_again(world, handles))
    assert await run.finish(signal.SIGTERM) == 0, run.stderr.decode()[-3000:]
    err = run.stderr.decode()
    assert "worker 1 died" in err
    assert "Traceback" not in err
    for pid in _worker_pids(run.stderr).values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # every worker stopped with the parent
    assert max(world.max_inflight.values()) == 1  # never two polls of one account at once


async def _polled_again(world: World, handles: list[str]) -> bool:
    return all(world.requests[f"telegram:{h}"] >= 3 for h in handles)


async def test_run_stops_with_2_when_a_worker_cannot_start(
    database: Database, db_url: str, world: World, tmp_path: Path, procs: list[Proc]
) -> None:
    config = write_config(tmp_path / "c.toml", db_url, world)
    # Telegram on, with a Bot API nobody answers: worker 0 cannot connect (exit 2).
    text = config.read_text()
    config.write_text(
        text + '\n[telegram]\ntoken = "123:abc"\nbase_url = "http://127.0.0.1:9/bot"\n'
    )
    run = Proc()
    procs.append(run)
    await run.start("run", "--workers", "2", "--config", str(config))
    assert await run.finish() == 2, run.stderr.decode()[-3000:]
    assert b"usage or configuration problem" in run.stderr


def test_the_parent_waits_for_a_finishing_aiosqlite_thread() -> None:
    # aiosqlite's thread runs a function of this name; Python calls the thread
    # "Thread-N (_connection_worker_thread)". Left running, it stops the fork.
    import threading
    import time

    from bot.cli.workers import settle_database_threads

    def _connection_worker_thread() -> None:
        time.sleep(0.3)

    thread = threading.Thread(target=_connection_worker_thread)
    thread.start()
    assert thread.name.endswith("(_connection_worker_thread)")
    settle_database_threads()
    assert not thread.is_alive()
