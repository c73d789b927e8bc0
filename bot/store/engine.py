"""Async engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout makes concurrent
    # writers wait instead of failing; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 32 MB of page cache per connection (the default is 2 MB): leaderboards read the
    # latest-state table and the snapshot index on every /top.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """Create an async engine with the settings govwatch relies on for ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **({"poolclass": NullPool} if parsed.database in (None, "", ":memory:") else {}),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        # PostgreSQL's JIT compiles the leaderboard's aggregate on every call (measured:
        # /top 171 ms with it, 68 ms without, 5,000 accounts x a year of history).
        connect_args={"server_settings": {"jit": "off"}},
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """The engine and session factory, created together and closed together."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, pool_size=pool_size)
        self.sessions = make_session_factory(self.engine)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    async def close(self) -> None:
        """Dispose of every pooled connection."""
        await self.engine.dispose()


def probe_engine(url: str, *, timeout_s: float) -> AsyncEngine:
    """An engine that opens a fresh connection per use, for health checks of ``url``.

    A pooled connection can outlive its database (an SQLite file renamed away, a
    PostgreSQL server restarted): the probe asks as a newcomer would. An SQLite file is
    opened read-write without being created, so a missing file is an error, never a
    new empty database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return make_engine(url)
        database = f"file:{quote(parsed.database or '', safe='/:')}"
        query = {**parsed.query, "mode": "rw", "uri": "true"}
        probe = parsed.set(database=database, query=query)
        return create_async_engine(probe, poolclass=NullPool, connect_args={"timeout": timeout_s})
    return create_async_engine(url, poolclass=NullPool, connect_args={"timeout": timeout_s})
