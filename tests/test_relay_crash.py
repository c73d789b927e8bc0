"""A relay killed (SIGKILL) around a send: after a restart nothing is lost, and the one
alert whose outcome cannot be known is repeated at most once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import failpoints
from bot.store.engine import Database
from bot.store.models import Delivery
from tests.fakes.telegram_api import FakeTelegramAPI
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
