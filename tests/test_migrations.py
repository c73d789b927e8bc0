"""Migrations produce exactly the models' schema, on SQLite and PostgreSQL, and re-run safely."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from bot.store.engine import Database
from bot.store.migrate import needs_upgrade, upgrade_database
from bot.store.models import Base
from bot.store.search import include_in_schema_diff


@pytest.fixture
async def empty_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A database with no tables at all (a fresh PostgreSQL database or SQLite file)."""
    pg = os.environ.get("GOVWATCH_TEST_DATABASE_URL")
    if not pg:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
        yield db
        await db.close()
        return
    import asyncpg

    url = make_url(pg)
    name = f"gw_migr_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username)
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        await db.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def _diff(connection: Connection) -> list[Any]:
    # The search index (FTS5 table, GIN expression index) lives outside the models.
    opts = {"compare_type": True, "include_name": include_in_schema_diff}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_models_and_rerun(empty_db: Database) -> None:
    assert await needs_upgrade(empty_db.engine)
    await upgrade_database(empty_db.engine)
    await upgrade_database(empty_db.engine)  # a second run is a no-op
    assert not await needs_upgrade(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert diff == []
    assert set(Base.metadata.tables) <= tables


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
    finally:
        await db.close()
    assert (mode, fks, busy) == ("wal", 1, 30000)


_OLD_ROWS = [
    "INSERT INTO chats (id, backend, external_id, kind, active, digest, created_at)"
    " VALUES (1, 'telegram', '42', 'private', true, 'off', CURRENT_TIMESTAMP)",
    "INSERT INTO events (id, kind, payload, occurred_at, detected_at, dedup_key) VALUES"
    " (7, 'new_post', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'k7'),"
    " (8, 'new_post', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'k8')",
    "INSERT INTO deliveries (id, event_id, chat_id, status, attempts, next_attempt_at,"
    " last_error, created_at) VALUES"
    " (1, 7, 1, 'sent', 1, CURRENT_TIMESTAMP, NULL, CURRENT_TIMESTAMP),"
    " (2, 8, 1, 'pending', 1, CURRENT_TIMESTAMP, 'outcome unknown: lease expired',"
    " CURRENT_TIMESTAMP)",
]


async def test_outbox_rows_survive_0003(empty_db: Database) -> None:
    """Deliveries queued before 0003 keep their data; a half-retried one keeps its count."""
    await upgrade_database(empty_db.engine, "0002")
    async with empty_db.engine.begin() as conn:
        for statement in _OLD_ROWS:
            await conn.execute(text(statement))
    await upgrade_database(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, event_id, status, attempts, unknown_outcomes, payload, digest_id"
                " FROM deliveries ORDER BY id"
            )
        )
        found = [tuple(r) for r in rows.all()]
    assert found == [(1, 7, "sent", 1, 0, None, None), (2, 8, "pending", 1, 1, None, None)]


async def _cli_upgrade(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    import asyncio

    from bot.cli import main

    monkeypatch.setenv(
        "GOVWATCH_DATABASE__URL", db.engine.url.render_as_string(hide_password=False)
    )
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    return capsys.readouterr().out.strip()


async def test_db_upgrade_says_what_it_did(
    empty_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from alembic.script import ScriptDirectory

    from bot.store.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await _cli_upgrade(empty_db, monkeypatch, capsys) == (
        f"created the schema at revision {head}"
    )
    assert await _cli_upgrade(empty_db, monkeypatch, capsys) == (
        f"database already at revision {head}"
    )


async def test_db_upgrade_names_both_revisions(
    empty_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    change = await upgrade_database(empty_db.engine, "0002")
    assert (change.before, change.after) == (None, "0002")
    said = await _cli_upgrade(empty_db, monkeypatch, capsys)
    assert said.startswith("upgraded the database from revision 0002 to ")
    assert "database is up to date" not in said
