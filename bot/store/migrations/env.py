"""Alembic environment on the async template.

``govwatch db upgrade`` passes an open connection in ``config.attributes``; the
``alembic`` command line builds an async engine from ``sqlalchemy.url`` or
``GOVWATCH_DATABASE__URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from bot.store.models import Base
from bot.store.search import include_in_schema_diff

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        os.environ.get("GOVWATCH_DATABASE__URL")
        or config.get_main_option("sqlalchemy.url")
        or "sqlite+aiosqlite:///govwatch.db"
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # autogenerate must not offer to drop the search index (migration 0005)
        include_name=include_in_schema_diff,
    )


def do_run_migrations(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    section = dict(config.get_section(config.config_ini_section) or {})
    section["sqlalchemy.url"] = _url()
    engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
