"""``govwatch db prune``, the ``[retention]`` section, and the job ``govwatch run`` schedules."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.cli import main
from bot.config import load_settings
from bot.errors import ConfigError
from bot.store import leases
from bot.store.engine import Database
from bot.store.models import Delivery
from bot.store.retention import JOB_KEY
from tests.test_retention_store import GONE_DELIVERIES, outbox_world


def test_config_section_defaults_and_checks(tmp_path: Path) -> None:
    retention = load_settings(None).retention
    assert (retention.snapshots_full, retention.snapshots_hourly) == (
        timedelta(days=30),
        timedelta(days=365),
    )
    assert retention.posts_after is None
    assert retention.prune_posts is False
    cfg = tmp_path / "c.toml"
    cfg.write_text('[retention]\nsnapshots_full = "400d"\nprune_posts = true\nevery = "0s"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    keys = {key for _, key, _ in info.value.problems}
    assert keys == {"retention.snapshots_hourly", "retention.prune_posts", "retention.every"}


async def _delivery_ids(url: str) -> set[int]:
    db = Database(url)
    try:
        async with db.sessions() as session:
            return set(await session.scalars(select(Delivery.id)))
    finally:
        await db.close()


async def _seed(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        return await outbox_world(db)
    finally:
        await db.close()


def test_db_prune_dry_run_then_for_real(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    # The world is dated before 2026-12-01: a prune now sees its old rows as old.
    ids = asyncio.run(_seed(cli_db))
    capsys.readouterr()
    before = asyncio.run(_delivery_ids(cli_db))
    assert main(["db", "prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("would remove (dry run, nothing deleted):")
    assert "deliveries" in out
    assert asyncio.run(_delivery_ids(cli_db)) == before
    assert main(["db", "prune"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("removed:")
    gone = before - asyncio.run(_delivery_ids(cli_db))
    assert gone >= {ids[n] for n in GONE_DELIVERIES}
    assert ids["up_pending.pending"] not in gone


def test_db_prune_full_needs_posts_after(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "prune", "--full"]) == 2
    assert "retention.posts_after" in capsys.readouterr().err


async def test_run_schedules_the_job_once_per_period(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await outbox_world(database)
    settings = load_settings(None, database={"url": "sqlite+aiosqlite:///unused.db"})
    app = App(settings, db=database, sources={}, chat=False)
    assert app.scheduler.get_job("retention") is not None
    caplog.set_level(logging.INFO, logger="bot.app")
    await app.prune_if_due()
    assert "retention: removed snapshots=0 deliveries=" in caplog.text
    caplog.clear()
    await app.prune_if_due()  # done today: not due again
    assert "retention" not in caplog.text
    state = await leases.read_state(database, JOB_KEY)
    assert state.done_at is not None
    assert datetime.now(UTC) - state.done_at < timedelta(minutes=5)


async def test_run_skips_while_another_process_holds_the_job(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await outbox_world(database)
    now = datetime.now(UTC)
    held = await leases.take(database, JOB_KEY, "other-host", now=now, hold=timedelta(hours=1),
                             every=None)  # fmt: skip
    assert isinstance(held, leases.Lease)
    app = App(load_settings(None), db=database, sources={}, chat=False)
    caplog.set_level(logging.INFO, logger="bot.app")
    before = await _ids(database)
    await app.prune_if_due()
    assert "being run by other-host" in caplog.text
    assert await _ids(database) == before
    disabled = load_settings(None, retention={"enabled": False})
    assert App(disabled, db=database, sources={}, chat=False).scheduler.get_job("retention") is None


async def _ids(database: Database) -> set[int]:
    async with database.sessions() as session:
        return set(await session.scalars(select(Delivery.id)))


async def _hold(url: str, owner: str) -> None:
    db = Database(url)
    try:
        now = datetime.now(UTC)
        held = await leases.take(db, JOB_KEY, owner, now=now, hold=timedelta(hours=1), every=None)
        assert isinstance(held, leases.Lease)
    finally:
        await db.close()


def test_db_prune_stops_while_the_job_runs_elsewhere(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    asyncio.run(_hold(cli_db, "web-2:4242:beef"))
    capsys.readouterr()
    assert main(["db", "prune"]) == 1
    err = capsys.readouterr().err
    assert "job:retention is being run by web-2:4242:beef until" in err
    assert main(["db", "prune", "--dry-run"]) == 0  # counting needs no lease
