"""PostgreSQL connections dropped under a running ``govwatch run``: it recovers, loses nothing.

While the real worker polls a loopback world and delivers to the fake Bot API, every
connection to the test database is terminated again and again
(``pg_terminate_backend``). The worker must keep running, and once the storm is over,
every post published during it is announced exactly once and nothing else is.

Only with GOVWATCH_TEST_DATABASE_URL (PostgreSQL). The server itself is not restarted:
other suites share it (bench/soak.py can, when asked explicitly).
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.store.engine import Database
from bot.store.models import AccountState
from tests.crash_summary import Tally
from tests.fakes.faulty_world import FaultPlan, FaultyWorld
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_crash_run import (
    CrashReport,
    Worker,
    _asked,
    _check_store,
    _equals,
    _settled,
    _tally,
    _wait,
    seed,
    write_config,
)

FEEDS = 3
STORM_SECONDS = 8.0

TERMINATE = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def terminate_all(db_url: str) -> int:
    """Drop every other connection to the test database; returns how many were dropped."""
    url = make_url(db_url)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        database=url.database,
    )
    try:
        return int(await conn.fetchval(TERMINATE) or 0)
    finally:
        await conn.close()


async def run_pg_storm(
    db: Database,
    db_url: str,
    tmp_path: Path,
    *,
    seed_value: int,
    seconds: float = STORM_SECONDS,
    restart: Callable[[], Awaitable[None]] | None = None,
) -> CrashReport:
    """Run a worker while its connections are dropped again and again; check the outcome.

    ``restart`` (bench/soak.py only, never in CI) restarts the PostgreSQL server once in
    the middle of the storm.
    """
    rng = random.Random(seed_value)
    report = CrashReport()
    api = FakeTelegramAPI()
    await api.start()
    world = FaultyWorld(FaultPlan(fault_rate=0.0), hosts=2)
    await world.start()
    worker: Worker | None = None
    try:
        await seed(db, world, FEEDS)
        config = write_config(tmp_path / "pg.toml", db_url=db_url, api=api, level="INFO")
        worker = Worker(config)
        await worker.start()
        await worker.ready()
        report.relay = await _wait(lambda: _asked(api), timeout=3)
        states = select(func.count()).select_from(AccountState)
        assert await _wait(lambda: _equals(db, states, FEEDS), timeout=60)
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            if rng.random() < 0.5:
                report.expected.add(world.add_post(rng.choice(sorted(world.feeds))).guid)
            report.kills["pg.terminate_backend"] += await terminate_all(db_url)
            if restart is not None and loop.time() > end - seconds / 2:
                await restart()
                report.kills["pg.server_restart"] += 1
                restart = None
            await asyncio.sleep(rng.uniform(0.1, 0.6))
            assert worker.proc is not None
            assert worker.proc.returncode is None, bytes(worker.output[-3000:]).decode()
        await db.engine.dispose()  # our own pooled connections were dropped too
        await _wait(lambda: _settled(db, api, report), timeout=60)
        await asyncio.sleep(1.5)
        code = await worker.finish(signal.SIGTERM)
        if code != 0:
            report.problems.append(f"the worker exited with {code} on SIGTERM")
    finally:
        if worker is not None and worker.proc is not None and worker.proc.returncode is None:
            await worker.finish(signal.SIGKILL)
        await world.stop()
        await api.close()
    await _tally(db, api, report)
    report.problems.extend(await _check_store(db, report, FEEDS))
    return report


async def test_dropped_connections_lose_nothing(
    database: Database, db_url: str, pg_url: str | None, tmp_path: Path, crash_tally: Tally
) -> None:
    if pg_url is None:
        pytest.skip("needs PostgreSQL (GOVWATCH_TEST_DATABASE_URL)")
    report = await run_pg_storm(database, db_url, tmp_path, seed_value=5)
    report.record(crash_tally, "faults.postgres")
    assert report.kills["pg.terminate_backend"] > 5
    assert report.expected
    assert report.failures() == [], report.false_alerts[:3]
