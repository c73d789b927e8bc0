"""A poll through the Poller over a proxy pool, on SQLite and PostgreSQL.

Two loopback forward proxies stand between govwatch and the world; one of them answers
429 (a throttled exit address). The poll still reads every account, through the other
address; when both are throttled every account stays unknown (rate_limited), nothing is
inferred, and the next poll waits for the pool's Retry-After.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings, load_settings
from bot.net.client import HttpClient
from bot.poll.pipeline import Poller, PollStats
from bot.sources import build_sources
from bot.store.engine import Database
from bot.store.models import Account, EventRow, Snapshot
from tests.fakes.proxy import FakeProxy
from tests.fakes.world import World, seed

HANDLES = [f"minister_{n}" for n in range(6)]
CREDENTIALS = ("desk", "P0ll-Proxy-Secret")


@pytest.fixture
async def proxies() -> AsyncIterator[tuple[FakeProxy, FakeProxy]]:
    async with (
        FakeProxy("127.0.0.3", credentials=CREDENTIALS) as a,
        FakeProxy("127.0.0.3", credentials=CREDENTIALS) as b,
    ):
        yield a, b


def _settings(db_url: str, world: World, proxies: list[str]) -> Settings:
    http: dict[str, Any] = {
        "allow_private_networks": True,
        "per_host_rate": 1000.0,
        # One request in flight per address and host: which one meets the 429 is certain.
        "per_host_concurrency": 1,
        "timeout": "5s",
    }
    return load_settings(
        None,
        database={"url": db_url},
        http=http,
        scheduler={"jitter": "0s", "poll_interval": "30s"},
        sources={
            "telegram": {"base_url": world.url(), "fetch_plain_page": False, "proxies": proxies}
        },
    )


async def _poll(database: Database, settings: Settings) -> PollStats:
    http = HttpClient(settings.http)
    try:
        return await Poller(database, build_sources(settings, http), settings).run_once(due=False)
    finally:
        await http.aclose()


async def _accounts(database: Database) -> list[Account]:
    async with database.sessions() as session:
        return list((await session.scalars(select(Account).order_by(Account.handle))).all())


async def _world(database: Database, world: World) -> None:
    for n, handle in enumerate(HANDLES):
        world.add_telegram(handle, name=f"Minister {n}", followers=1000 * (n + 1)).post("news")
    await seed(database, [("telegram", h) for h in HANDLES], chats=1)


async def test_a_throttled_proxy_leaves_the_poll_to_the_other(
    database: Database, db_url: str, world: World, proxies: tuple[FakeProxy, FakeProxy]
) -> None:
    a, b = proxies
    a.throttle(retry_after="600")
    await _world(database, world)
    stats = await _poll(database, _settings(db_url, world, [a.url, b.url]))
    assert (stats.ok, stats.unknown, stats.absent) == (6, 0, 0)
    # The throttled address was asked once; its share went to the healthy one.
    assert (a.requests, a.throttled, a.served) == (1, 1, 0)
    assert b.served == 6
    assert all(world.requests[f"telegram:{h}"] == 1 for h in HANDLES)
    accounts = await _accounts(database)
    assert [acc.last_status for acc in accounts] == ["ok"] * 6
    async with database.sessions() as session:
        rows = (await session.execute(select(Snapshot.account_id, Snapshot.followers))).all()
    by_handle = {acc.id: acc.handle for acc in accounts}
    stored = {by_handle[account_id]: followers for account_id, followers in rows}
    assert stored == {h: 1000 * (n + 1) for n, h in enumerate(HANDLES)}


async def test_every_address_throttled_leaves_every_account_unknown(
    database: Database, db_url: str, world: World, proxies: tuple[FakeProxy, FakeProxy]
) -> None:
    a, b = proxies
    a.throttle(retry_after="900")
    b.throttle(retry_after="600")
    await _world(database, world)
    before = datetime.now(UTC)
    stats = await _poll(database, _settings(db_url, world, [a.url, b.url]))
    assert (stats.ok, stats.unknown, stats.absent, stats.events) == (0, 6, 0, 0)
    assert stats.reasons == {"rate_limited": 6}
    assert "proxy 127.0.0.3:" in stats.details["rate_limited"]  # named by host:port only
    # Each address was asked once; every other account failed fast, asking no one.
    assert (a.requests, b.requests) == (1, 1)
    assert sum(world.requests.values()) == 0
    accounts = await _accounts(database)
    assert [acc.last_status for acc in accounts] == ["unknown"] * 6
    assert [acc.last_error for acc in accounts] == ["rate_limited"] * 6
    for account in accounts:
        # Not before the pool may send again (600 s), whatever the 30 s interval says.
        due = account.next_poll_at.replace(tzinfo=account.next_poll_at.tzinfo or UTC)
        assert due >= before + timedelta(seconds=590)
    async with database.sessions() as session:
        assert (await session.scalars(select(EventRow))).all() == []
    assert CREDENTIALS[1] not in repr(stats)
