"""One relay sends per database: Telegram's pacing holds across relays and across a handover.

Two relays (as in two worker processes, or two machines on one PostgreSQL) run against
the fake Bot API with its flood limits on (1/s per chat, 20/min per group, 30/s overall,
answered with 429): only the lease holder sends, and when it stops the other takes over
pacing from the messages already sent.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.notify.relay import Relay, gone_here
from bot.store import relay_lease
from bot.store.engine import Database
from bot.store.models import ServiceLease, utcnow
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_relay_delivery import seed_chat, seed_events, seed_official


@pytest.fixture
async def limited() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI(limits=True)
    await server.start()
    yield server
    await server.close()


def relay_settings(db_url: str, api: FakeTelegramAPI) -> Settings:
    return load_settings(
        None,
        database={"url": db_url},
        telegram={"token": api.token, "base_url": api.base_url, "send_timeout": "2s"},
        relay={"tick": "50ms", "leader_lease": "3s"},
    )


@pytest.fixture
async def backend(
    limited: FakeTelegramAPI, database: Database, db_url: str
) -> AsyncIterator[TelegramBackend]:
    settings = relay_settings(db_url, limited)
    tg = TelegramBackend(settings=settings, commands=CommandService(db=database, settings=settings))
    await tg.app.initialize()
    yield tg
    await tg.app.shutdown()


class Running:
    """A relay on its own database connection pool, running until stopped."""

    def __init__(self, url: str, backend: TelegramBackend, settings: Settings, owner: str) -> None:
        self.db = Database(url)
        self.relay = Relay(
            db=self.db, backends={"telegram": backend}, settings=settings, owner=owner
        )
        self.stopping = asyncio.Event()
        self.task = asyncio.create_task(self.relay.run(self.stopping))

    async def stop(self) -> None:
        self.stopping.set()
        await self.task
        await self.db.close()


def spacing_by_chat(api: FakeTelegramAPI) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    for message in api.sent:
        times[str(message.chat_id)].append(message.at)
    return times


async def test_two_relays_one_sender_no_429(
    limited: FakeTelegramAPI, backend: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chats = [await seed_chat(database, str(2100 + i)) for i in range(2)]
    settings = relay_settings(db_url, limited)
    relays = [Running(db_url, backend, settings, f"worker{i}") for i in range(2)]
    try:
        # Alerts come one at a time, as polls find them: without one sender, each relay
        # would send the one it claimed at once, two to a chat within a second.
        for _ in range(8):
            await seed_events(database, official, account, chats, n=1)
            await asyncio.sleep(0.3)
        await limited.wait_for(lambda: len(limited.sent) == 16, timeout=30)
    finally:
        for r in relays:
            await r.stop()
    assert limited.rate_limited == 0
    assert len(limited.sent) == 16
    assert sorted(r.relay.leading for r in relays) == [False, False]  # both let go
    for times in spacing_by_chat(limited).values():
        assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))


async def test_a_relay_taking_over_paces_from_the_last_sends(
    limited: FakeTelegramAPI, backend: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chat = await seed_chat(database, "2301")
    await seed_events(database, official, account, [chat], n=2)
    settings = relay_settings(db_url, limited)
    first = Running(db_url, backend, settings, "first")
    await limited.wait_for(lambda: len(limited.sent) == 2, timeout=30)
    await first.stop()  # gives the lease back at once
    await seed_events(database, official, account, [chat], n=2)
    second = Running(db_url, backend, settings, "second")
    try:
        await limited.wait_for(lambda: len(limited.sent) == 4, timeout=30)
    finally:
        await second.stop()
    assert limited.rate_limited == 0  # the second relay knew of the first one's sends
    times = spacing_by_chat(limited)["2301"]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))


async def test_the_lease_has_one_holder_until_it_expires(database: Database) -> None:
    now = utcnow()
    later = now.replace(microsecond=0)
    take = relay_lease.take_lease
    assert await take(database.engine, "relay", owner="a", now=now, until=now + _s(30))
    assert not await take(database.engine, "relay", owner="b", now=now, until=now + _s(30))
    assert await take(database.engine, "relay", owner="a", now=now, until=now + _s(30))  # renew
    expired = later + _s(31)
    assert await take(database.engine, "relay", owner="b", now=expired, until=expired + _s(30))
    assert not await take(database.engine, "relay", owner="a", now=expired, until=expired + _s(9))
    await relay_lease.release_lease(database.engine, "relay", owner="b", now=expired)
    assert await take(database.engine, "relay", owner="a", now=expired + _s(1), until=expired)


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


async def test_a_dead_holder_on_this_machine_is_replaced_at_once(database: Database) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    here = socket.gethostname()[:50]
    gone = f"{here}:{dead.stdout.strip()}:abc"
    assert gone_here(gone)
    assert not gone_here(f"{here}:{os.getpid()}:abc")  # this very process
    assert not gone_here(f"{here}:{os.getppid()}:abc")  # alive
    assert not gone_here(f"elsewhere-{here}:{dead.stdout.strip()}:abc")  # another machine
    now = utcnow()
    take = relay_lease.take_lease
    assert await take(database.engine, "relay", owner=gone, now=now, until=now + _s(30))
    assert await relay_lease.lease_holder(database.engine, "relay") == gone
    assert not await relay_lease.take_over(
        database.engine, "relay", dead="someone-else", owner="me", until=now + _s(30)
    )
    assert await relay_lease.take_over(database.engine, "relay", dead=gone, owner="me", until=now)
    assert await relay_lease.lease_holder(database.engine, "relay") == "me"


async def _lease_until(database: Database) -> object:
    async with database.engine.connect() as conn:
        return await conn.scalar(select(ServiceLease.until).where(ServiceLease.name == "relay"))


async def test_no_lease_renewal_once_stop_is_set(
    limited: FakeTelegramAPI, backend: TelegramBackend, database: Database, db_url: str
) -> None:
    # A renewal begun as the relay stops used to be cancelled inside its transaction,
    # which left SQLite's write lock held until the busy timeout: the demo hung 30 s.
    settings = relay_settings(db_url, limited)
    relay = Relay(db=database, backends={"telegram": backend}, settings=settings, owner="me")
    assert await relay.take_lease()
    before = await _lease_until(database)
    stop = asyncio.Event()
    keeper = asyncio.create_task(relay.keep_lease(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(keeper, 5)
    assert await _lease_until(database) == before
