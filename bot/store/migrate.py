"""The schema check of every command, and Alembic migrations (``govwatch db upgrade``, ``run``).

``open_database`` compares the database's ``alembic_version`` row with
:data:`HEAD_REVISION` and imports Alembic only when they differ: a ``poll-once`` against
an up-to-date database never loads it (issue 18: start-up).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.store.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest migration in bot/store/migrations/versions. tests/test_startup.py fails
#: when it is not Alembic's head: a new migration must update it.
HEAD_REVISION = "0014"

#: Any constant works; it keeps two workers from migrating one PostgreSQL at once.
_PG_MIGRATION_LOCK = 7_470_261

#: Alembic's table of applied revisions: its default name, which env.py keeps.
_VERSION_TABLE = "alembic_version"


def script_location() -> Path:
    """Where the migration scripts live (shipped in the package; ``alembic/`` links here)."""
    return Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at govwatch's migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """What an upgrade did: the revision before (None: no schema yet) and after."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        """What was done, in words: created, upgraded from one revision to another, or nothing."""
        if self.before == self.after:
            return f"database already at revision {self.after}"
        if self.before is None:
            return f"created the schema at revision {self.after}"
        return f"upgraded the database from revision {self.before} to {self.after}"


def _upgrade(connection: Connection, revision: str) -> SchemaChange:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    # Read under the lock: another worker may have just migrated.
    before = _current(connection)
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
    return SchemaChange(before, _current(connection))


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> SchemaChange:
    """Bring the schema up to ``revision``; safe to run twice and from several workers."""
    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade, revision)


async def _applied(conn: AsyncConnection) -> list[str]:
    """The revisions in the database's version table (none when it has no such table)."""
    if conn.dialect.name == "sqlite":
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"
    else:
        exists = (
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_name = :name AND table_schema = current_schema()"
        )
    if (await conn.execute(text(exists), {"name": _VERSION_TABLE})).first() is None:
        return []
    rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
    return [str(row[0]) for row in rows]


async def at_head(engine: AsyncEngine) -> bool:
    """True when the database is at :data:`HEAD_REVISION` (read without Alembic)."""
    async with engine.connect() as conn:
        return await _applied(conn) == [HEAD_REVISION]


async def needs_upgrade(engine: AsyncEngine) -> bool:
    """True when the database is not at the newest revision."""
    return not await at_head(engine)


async def ensure_schema(engine: AsyncEngine) -> SchemaChange:
    """Upgrade the schema unless it is already at the head (then Alembic is not loaded)."""
    if await at_head(engine):
        return SchemaChange(HEAD_REVISION, HEAD_REVISION)
    return await upgrade_database(engine)


async def migrate_database(settings: Settings) -> SchemaChange:
    """Upgrade the configured database to the newest revision and say what changed."""
    async with _database(settings) as db:
        return await upgrade_database(db.engine)


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    config = settings.database
    db = Database(config.url, echo=config.echo, pool_size=config.pool_size)
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured Database with its schema upgraded; disposed of on exit."""
    async with _database(settings) as db:
        await ensure_schema(db.engine)
        yield db
