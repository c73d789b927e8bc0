"""The weekly leaderboard digest: /digest top, queued once per week, sent through the fake
Bot API, exactly once across a crash before its commit."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import failpoints
from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.notify.leaderboard_digest import LeaderboardDigests
from bot.notify.relay import Relay
from bot.reply import Caller, render_plain
from bot.store.engine import Database
from bot.store.models import Delivery, LeaderboardDigest
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_rank_movement import build
from tests.test_reports_world import NOW

CHAT = 100
#: NOW is Friday 20 November 2026, 12:00 UTC; Almaty is UTC+5.
MONDAY = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 10:00 in Almaty

CRASH = """
import asyncio, sys
from datetime import datetime
from bot.config import load_settings
from bot.notify.leaderboard_digest import LeaderboardDigests
from bot.store.engine import Database

async def main() -> None:
    db = Database(sys.argv[1])
    queue = LeaderboardDigests(db=db, settings=load_settings(None, database={"url": sys.argv[1]}))
    print(await queue.run_due(datetime.fromisoformat(sys.argv[2])), flush=True)
    await db.close()

asyncio.run(main())
"""


def make_settings(db_url: str, api: FakeTelegramAPI) -> Settings:
    return load_settings(
        None,
        database={"url": db_url},
        telegram={
            "token": api.token,
            "base_url": api.base_url,
            "send_timeout": "2s",
            "poll_timeout": "1s",
        },
        relay={"per_chat_interval": "10ms", "tick": "50ms"},
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


async def subscribe(database: Database, settings: Settings, text: str, locale: str = "en") -> str:
    svc = CommandService(db=database, settings=settings, services={"clock": lambda: NOW})
    caller = Caller(backend="telegram", user_id=str(CHAT), chat_id=str(CHAT))
    return render_plain(await svc.handle(caller, text, locale=locale))


async def queued(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


def crash_run(db_url: str, at: datetime) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, failpoints.ENV: "leaderboard_digest.before_commit=kill"}
    return subprocess.run(
        [sys.executable, "-c", CRASH, db_url, at.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_weekly_leaderboard_once_per_week_across_a_crash(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    await build(database)
    settings = make_settings(db_url, api)
    await subscribe(database, settings, "/lang en")  # the chat's own language
    answer = await subscribe(database, settings, "/digest top gov telegram 10:00")
    assert answer == (
        "Weekly leaderboard: every Monday at 10:00 (Asia/Almaty), gov, Telegram, by followers."
    )
    assert await subscribe(database, settings, "/digest top") == answer
    queue = LeaderboardDigests(db=database, settings=settings, backends=["telegram"])
    assert await queue.run_due(MONDAY - timedelta(minutes=1)) == 0  # not yet

    # The process dies after queuing but before the commit: nothing is queued, the week
    # is still due.
    crashed = crash_run(db_url, MONDAY)
    assert crashed.returncode == -9, crashed.stderr
    assert "leaderboard_digest.before_commit fired" in crashed.stderr
    assert await queued(database) == 0

    assert await queue.run_due(MONDAY) == 1
    assert await queue.run_due(MONDAY + timedelta(hours=3)) == 0  # once per week
    commands = CommandService(db=database, settings=settings)
    backend = TelegramBackend(settings=settings, commands=commands)
    await backend.app.initialize()
    try:
        relay = Relay(db=database, backends={"telegram": backend}, settings=settings)
        assert await relay.drain() == 1
        assert await relay.drain() == 0
        sent = api.messages_to(CHAT)
        assert len(sent) == 1
        text = sent[0].shown
        assert text.startswith("Weekly leaderboard, Nov 23, 2026")
        assert "gov · Telegram · followers" in text
        rows = {line.split("  ")[1].strip(): line.split()[-1] for line in _table(text)}
        assert rows == {
            "Aliya Akhmetova": "▲2",
            "Chingiz Chokin": "=",
            "Bolat Bekov": "▼2",
            "Dina Dauletova": "new",
            "Ermek Ermekov": "?",
        }

        # The next Monday brings the next one, and only one.
        assert await queue.run_due(MONDAY + timedelta(days=7)) == 1
        assert await queue.run_due(MONDAY + timedelta(days=7, hours=1)) == 0
        assert await relay.drain() == 1
        assert len(api.messages_to(CHAT)) == 2
    finally:
        await backend.app.shutdown()


def _table(text: str) -> list[str]:
    """The data rows of the one table in a sent message (after its dashed rule)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-  "))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line)
    return rows


async def test_weekly_leaderboard_off_and_in_russian(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    await build(database)
    settings = make_settings(db_url, api)
    assert await subscribe(database, settings, "/digest top growth", "ru") == (
        "Рейтинг недели: каждый понедельник в 09:00 (Asia/Almaty), все чиновники,"
        " все площадки, по показателю «прирост»."
    )
    assert "nosuchlist" in await subscribe(database, settings, "/digest top nosuchlist", "ru")
    assert await subscribe(database, settings, "/digest top off", "ru") == (
        "Еженедельный рейтинг для этого чата выключен."
    )
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LeaderboardDigest)) == 0
    status = await subscribe(database, settings, "/digest top", "ru")
    assert status.startswith("Этот чат не получает еженедельный рейтинг.")
    queue = LeaderboardDigests(db=database, settings=settings)
    assert await queue.run_due(MONDAY) == 0
