"""A relay killed (SIGKILL) around a send: after a restart nothing is lost, and the one
alert whose outcome cannot be known is repeated at most once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import select

from bot import failpoints
from bot.config import Settings
from bot.notify.digest import DigestQueue
from bot.store.engine import Database
from bot.store.models import Chat, Delivery
from tests.crash_summary import Tally
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_notify_digest import local as digest_local
from tests.test_notify_digest import setup as digest_setup
from tests.test_relay_delivery import seed_chat, seed_events, seed_official

RELAY_SCRIPT = """
import asyncio, sys
from bot.commands.service import CommandService
from bot.chat.telegram import TelegramBackend
from bot.config import load_settings
from bot.notify.relay import Relay
from bot.store.engine import Database

async def main(db_url, token, base_url):
    settings = load_settings(None, database={"url": db_url},
        telegram={"token": token, "base_url": base_url, "send_timeout": "3s"},
        relay={"per_chat_interval": "10ms", "lease": "1s"})
    db = Database(db_url)
    backend = TelegramBackend(settings=settings, commands=CommandService(db=db, settings=settings))
    await backend.app.initialize()
    relay = Relay(db=db, backends={"telegram": backend}, settings=settings)
    for _ in range(5):
        await relay.drain()
    await backend.app.shutdown()
    await db.close()

asyncio.run(main(*sys.argv[1:4]))
"""


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


async def _relay_process(db_url: str, api: FakeTelegramAPI, spec: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != failpoints.ENV}
    if spec:
        env[failpoints.ENV] = spec
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RELAY_SCRIPT, db_url, api.token, api.base_url,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    if proc.returncode not in (0, -9):
        raise AssertionError(err.decode())
    return proc.returncode


@pytest.mark.parametrize("point", ["relay.before_send", "relay.after_send"])
async def test_killed_relay_loses_nothing(
    api: FakeTelegramAPI, database: Database, db_url: str, point: str
) -> None:
    official, account = await seed_official(database)
    chats = [await seed_chat(database, str(2000 + i)) for i in range(3)]
    await seed_events(database, official, account, chats, n=2)
    assert await _relay_process(db_url, api, f"{point}=kill@3") == -9
    await asyncio.sleep(1.2)  # the dead worker's lease expires
    assert await _relay_process(db_url, api, None) == 0
    async with database.sessions() as session:
        rows = (await session.scalars(select(Delivery))).all()
    assert {d.status for d in rows} == {"sent"}
    texts = Counter((m.chat_id, m.text) for m in api.sent)
    assert len(texts) == 6  # nothing lost
    # Only a send in flight when the process died can repeat, and only once; at most one
    # per chat worker that was mid-send (3 chats here).
    assert max(texts.values()) <= 2
    assert sum(texts.values()) - 6 <= 3


QUEUE_SCRIPT = """
import asyncio, sys
from datetime import datetime
from bot.config import load_settings
from bot.notify.digest import DigestQueue
from bot.store.engine import Database

async def main(db_url, now):
    db = Database(db_url)
    settings = load_settings(None, database={"url": db_url})
    await DigestQueue(db=db, settings=settings).run_due(datetime.fromisoformat(now))
    await db.close()

asyncio.run(main(*sys.argv[1:3]))
"""

DIGEST_CHAT = 3001


async def _queue_process(db_url: str, now: datetime, spec: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != failpoints.ENV}
    env[failpoints.ENV] = spec
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", QUEUE_SCRIPT, db_url, now.isoformat(),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -9, err.decode()
    return proc.returncode


async def _digest_rows(database: Database) -> dict[str, list[Delivery]]:
    async with database.sessions() as session:
        rows = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
    found: dict[str, list[Delivery]] = {}
    for row in rows:
        found.setdefault(row.status, []).append(row)
    return found


@pytest.mark.parametrize("point", ["digest.before_commit", "relay.before_send", "relay.after_send"])
async def test_killed_worker_loses_no_digest(
    api: FakeTelegramAPI, database: Database, db_url: str, point: str, crash_tally: Tally
) -> None:
    chat_id = await digest_setup(database, backend="telegram", external_id=str(DIGEST_CHAT))
    now = digest_local(19, 9)
    queue = DigestQueue(db=database, settings=Settings())
    if point.startswith("digest."):
        # Killed before the queuing transaction commits: nothing of it happened.
        await _queue_process(db_url, now, f"{point}=kill@1")
        assert {s: len(r) for s, r in (await _digest_rows(database)).items()} == {"digest": 3}
        async with database.sessions() as session:
            chat = await session.get(Chat, chat_id)
            assert chat is not None
            assert chat.digest_last_sent_at == digest_local(18, 10)
        assert await queue.run_due(now) == 1
        assert await _relay_process(db_url, api, None) == 0
    else:
        assert await queue.run_due(now) == 1
        assert await _relay_process(db_url, api, f"{point}=kill@1") == -9
        await asyncio.sleep(1.2)  # the dead worker's lease expires
        assert await _relay_process(db_url, api, None) == 0
    rows = await _digest_rows(database)
    messages = [m for m in api.messages_to(DIGEST_CHAT) if "Dana Omarova" in m.text]
    [digest] = rows["sent"]
    crash_tally.scenario("crash.digest")
    crash_tally.fault(f"kill.{point}")
    crash_tally.alerts(
        expected=1,
        delivered=min(1, len(messages)),
        duplicated=max(0, len(messages) - 1),
        duplicated_unknowable=max(0, len(messages) - 1) if digest.unknown_outcomes else 0,
        lost=0 if messages else 1,
    )
    assert digest.event_id is None
    assert [r.digest_id for r in rows["digested"]] == [digest.id] * 3
    assert set(rows) == {"sent", "digested"}
    # A repeat only where the outcome was unknowable (sent, then killed before 'sent').
    assert len(messages) == (2 if point == "relay.after_send" else 1)
    assert digest.unknown_outcomes == (0 if point.startswith("digest.") else 1)
