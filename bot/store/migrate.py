"""Apply Alembic migrations programmatically (``govwatch db upgrade`` and at start-up)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; safe to run twice and from several workers."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def needs_upgrade(engine: AsyncEngine) -> bool:
    """True when the database is not at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    return current != head


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured Database with its schema upgraded; disposed of on exit."""
    config = settings.database
    db = Database(config.url, echo=config.echo, pool_size=config.pool_size)
    try:
        await upgrade_database(db.engine)
        yield db
    finally:
        await db.close()
