"""Apply Alembic migrations programmatically (``govwatch db upgrade`` and at start-up)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.store.engine import Database

#: Any constant works; it keeps two workers from migrating one PostgreSQL at once.
_PG_MIGRATION_LOCK = 7_470_261


def script_location() -> Path:
    """Where the migration scripts live (shipped in the package; ``alembic/`` links here)."""
    return Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at govwatch's migrations."""
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
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    # Read under the lock: another worker may have just migrated.
    before = _current(connection)
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
    return SchemaChange(before, _current(connection))


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> SchemaChange:
    """Bring the schema up to ``revision``; safe to run twice and from several workers."""
    async with engine.begin() as conn:
        return await conn.run_sync(_upgrade, revision)


async def needs_upgrade(engine: AsyncEngine) -> bool:
    """True when the database is not at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    return current != head


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
        await upgrade_database(db.engine)
        yield db
