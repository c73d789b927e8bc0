"""``govwatch poll-once`` starts without what polling does not need (issue 18: start-up).

The guard runs the real command in a subprocess under ``python -X importtime`` over a
loopback world and reads which modules it imported: no chat SDK, no charts, no
templates, no language models, no browser, no Alembic once the schema is current, no
feedparser when only Telegram accounts are due. No timing is asserted here; the
figures are in bench/README.md ("Start-up").
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from lingua import Language
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config.core import database_port
from bot.config.detect import LINGUA_CODES
from bot.store.engine import Database
from bot.store.migrate import (
    HEAD_REVISION,
    alembic_config,
    at_head,
    ensure_schema,
    upgrade_database,
)
from tests.fakes.world import World, hours_ago, seed

ROOT = Path(__file__).resolve().parent.parent
#: Never on the polling path (top-level package names).
FORBIDDEN = {
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "matplotlib",
    "alembic",
    "jinja2",
    "lingua",
    "PIL",
    "playwright",
}
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.M)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///govwatch.db",
        "sqlite+aiosqlite:////var/lib/govwatch/db.sqlite?timeout=5",
        "sqlite+aiosqlite://",
        "postgresql+asyncpg://gw@db/govwatch",
        "postgresql+asyncpg://gw:p%40ss:word@db.example:6432/govwatch",
        "postgresql+asyncpg://gw@[::1]:5433/govwatch",
        "postgresql+asyncpg://gw@db:/govwatch",
        "postgresql+asyncpg://gw@db: 5433 /govwatch",
        "postgresql+asyncpg://gw@db:54x/govwatch",
        "postgresql+asyncpg://gw@db:-1/govwatch",
        "postgresql+asyncpg://gw@[::1]:port/govwatch",
    ],
)
def test_the_config_reads_a_port_as_sqlalchemy_does(url: str) -> None:
    try:
        expected: int | str | None = make_url(url).port
    except ValueError:
        expected = "ValueError"
    try:
        port: int | str | None = database_port(url)
    except ValueError:
        port = "ValueError"
    assert port == expected


def test_the_config_knows_lingua_s_languages() -> None:
    assert {lang.iso_code_639_1.name.lower() for lang in Language.all()} == LINGUA_CODES


def test_head_revision_is_alembics_head() -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == HEAD_REVISION, (
        f"a migration was added: set HEAD_REVISION = {head!r} in bot/store/migrate.py"
    )


async def test_the_schema_check_reads_the_version_row(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert not await at_head(db.engine)  # no version table at all
        await upgrade_database(db.engine, "0002")
        assert not await at_head(db.engine)  # behind: ensure_schema migrates
        change = await ensure_schema(db.engine)
        assert (change.before, change.after) == ("0002", HEAD_REVISION)
        assert await at_head(db.engine)
        again = await ensure_schema(db.engine)
        assert again.describe() == f"database already at revision {HEAD_REVISION}"
        async with db.engine.begin() as conn:  # a revision this code does not know
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        assert not await at_head(db.engine)
    finally:
        await db.close()


async def test_at_head_on_the_test_database(database: Database) -> None:
    assert await at_head(database.engine)  # SQLite, or PostgreSQL when asked


def _config(path: Path, db_url: str, world: World) -> Path:
    path.write_text(
        f"""
[database]
url = "{db_url}"

[http]
allow_private_networks = true
per_host_rate = 100000.0

[scheduler]
jitter = "0s"

[logging]
level = "WARNING"

[languages]
detect = ["kk", "ru"]

[sources.telegram]
base_url = "{world.url()}"
fetch_plain_page = false
""",
        encoding="utf-8",
    )
    return path


async def _poll_once(config: Path) -> tuple[str, set[str]]:
    """``python -X importtime -m bot poll-once``: its output and every module it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "bot",
        "poll-once",
        "--config",
        str(config),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    modules = set(_IMPORTED.findall(err.decode()))
    assert "bot.poll.pipeline" in modules, "no import times read"
    return out.decode(), modules


async def test_poll_once_imports_only_what_polling_needs(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    handles = ["startup_a", "startup_b"]
    for h in handles:
        world.add_telegram(h, name=h, followers=1200).post(f"{h}: новость дня", at=hours_ago(2))
    await seed(database, [("telegram", h) for h in handles])
    config = _config(tmp_path / "govwatch.toml", db_url, world)
    for expected in ("polled 2 accounts", "nothing was due"):
        out, modules = await _poll_once(config)
        assert expected in out
        top = {name.split(".")[0] for name in modules}
        assert not top & FORBIDDEN, sorted(top & FORBIDDEN)
        assert "feedparser" not in top  # only Telegram accounts were due
        assert "numpy" not in top  # loaded by the first sketch: these posts are too short
        assert "bot.sources.rss" not in modules
        assert "bot.sources.telegram" in modules or expected == "nothing was due"
