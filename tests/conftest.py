"""Shared fixtures: a real database (SQLite file, or PostgreSQL when asked) per test.

Set ``GOVWATCH_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/NAME`` to
run the suite on PostgreSQL; the database is created if missing, migrated once, and
every test starts from empty tables. Without it, each test gets its own SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from bot.store.models import Base
from tests.fakes.world import World

# The crash/fault/hostile suite summary (scenarios, faults, lost and duplicated alerts).
pytest_plugins = ["tests.crash_summary"]

DATA = Path(__file__).parent / "data"
PG_ENV = "GOVWATCH_TEST_DATABASE_URL"


def pytest_report_header() -> str:
    url = os.environ.get(PG_ENV)
    return f"govwatch test database: {url or 'SQLite (one file per test)'}"


def _guard_network() -> None:
    """Refuse any connection to a non-loopback address for the whole test session."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def allowed(address: object) -> bool:
        if isinstance(address, tuple) and address:
            host = str(address[0])
            return host in ("localhost", "::1", "::ffff:127.0.0.1") or host.startswith("127.")
        return True  # unix sockets

    def connect(self: socket.socket, address: object) -> None:
        if not allowed(address):
            raise ConnectionRefusedError(f"tests may not connect to {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if not allowed(address):
            raise ConnectionRefusedError(f"tests may not connect to {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


_guard_network()


async def _ensure_pg_database(url: str) -> None:
    import asyncpg

    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        database="postgres",
    )
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade_database(db.engine)
    finally:
        await db.close()


@pytest.fixture(scope="session")
def pg_url() -> str | None:
    """The PostgreSQL URL under test (created and migrated once), or None for SQLite."""
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    asyncio.run(_ensure_pg_database(url))
    asyncio.run(_migrate(url))
    return url


@pytest.fixture
def db_url(pg_url: str | None, tmp_path: Path) -> str:
    """A database URL for this test (schema not yet guaranteed on SQLite)."""
    return pg_url or f"sqlite+aiosqlite:///{tmp_path / 'govwatch.db'}"


async def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def database(db_url: str, pg_url: str | None) -> AsyncIterator[Database]:
    """A migrated, empty database on SQLite or PostgreSQL."""
    db = Database(db_url)
    if pg_url:
        await _truncate_all(db)
    else:
        await upgrade_database(db.engine)
    try:
        yield db
    finally:
        await db.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
async def unavailable_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    """A database that cannot be reached: a SQLite file in a missing folder, or a
    PostgreSQL URL on a loopback port nobody listens on (both kinds, whatever the suite runs on)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'govwatch.db'}"
    else:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/govwatch"
    before = set(threading.enumerate())
    db = Database(url)
    try:
        yield db
    finally:
        await db.close()
        # aiosqlite stops the thread of a failed connect without waiting: let it finish
        # while this test's event loop still runs, or it reports into a closed loop.
        for thread in set(threading.enumerate()) - before:
            if thread.name.endswith("(_connection_worker_thread)"):
                thread.join(timeout=5)


@pytest.fixture
def cli_db(db_url: str, pg_url: str | None, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database for synchronous CLI tests, exported as GOVWATCH_DATABASE__URL."""
    if pg_url:

        async def truncate() -> None:
            db = Database(pg_url)
            try:
                await _truncate_all(db)
            finally:
                await db.close()

        asyncio.run(truncate())
    monkeypatch.setenv("GOVWATCH_DATABASE__URL", db_url)
    return db_url


@pytest.fixture
def data_dir() -> Path:
    """The folder of saved pages and API responses."""
    return DATA


@pytest.fixture
async def world() -> AsyncIterator[World]:
    """The scripted loopback world (t.me, Bluesky and others), started and stopped."""
    w = World()
    await w.start()
    try:
        yield w
    finally:
        await w.stop()
