"""Scheduling: intervals, jitter, backoff, Retry-After; the App's lifecycle in one process."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.poll.pipeline import next_poll_at
from bot.store.engine import Database
from bot.store.models import Account, AccountState
from tests.fakes.world import World, seed
from tests.test_poll_scenario import make_settings

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("failures", "retry_after", "expected"),
    [
        (0, None, 15 * MIN),
        (1, None, 15 * MIN),
        (2, None, 30 * MIN),
        (3, None, 60 * MIN),
        (10, None, 6 * 60 * MIN),  # capped at max_backoff
        (0, 3600.0, 60 * MIN),  # Retry-After wins when longer
        (0, 5.0, 15 * MIN),
    ],
)
def test_next_poll_backs_off(failures: int, retry_after: float | None, expected: timedelta) -> None:
    at = next_poll_at(
        NOW,
        interval=15 * MIN,
        jitter=timedelta(0),
        failures=failures,
        max_backoff=timedelta(hours=6),
        retry_after=retry_after,
        rng=random.Random(1),
    )
    assert at - NOW == expected


def test_jitter_spreads_within_bounds() -> None:
    rng = random.Random(2)
    delays = {
        next_poll_at(
            NOW,
            interval=15 * MIN,
            jitter=MIN,
            failures=0,
            max_backoff=MIN,
            retry_after=None,
            rng=rng,
        )
        - NOW
        for _ in range(50)
    }
    assert len(delays) > 40
    assert all(14 * MIN <= d <= 16 * MIN for d in delays)


async def test_app_polls_until_asked_to_stop(database: Database, db_url: str, world: World) -> None:
    for i in range(6):
        world.add_bluesky(f"s{i}.bsky.social", name=f"S{i}", followers=100)
    await seed(database, [("bluesky", h) for h in world.bluesky])
    async with database.sessions() as s, s.begin():
        first = await s.get(Account, 1)
        assert first is not None
        first.poll_interval_s = 3600  # polled once, then not again during the test
    settings = make_settings(db_url, world, scheduler={"tick": "100ms", "poll_interval": "300ms"})
    app = App(settings, db=database)
    ticks: list[int] = []

    async def periodic() -> None:
        ticks.append(1)

    app.add_periodic("probe", periodic, timedelta(milliseconds=100))
    runner = asyncio.create_task(app.run_until_signal())
    for _ in range(200):
        await asyncio.sleep(0.05)
        if world.requests["bluesky:s5.bsky.social"] >= 6:
            break
    app.request_stop()
    await asyncio.wait_for(runner, 30)
    assert world.requests["bluesky:s5.bsky.social"] >= 6  # polled again and again
    assert world.requests["bluesky:s0.bsky.social"] == 2  # its own interval: one poll
    assert ticks
    async with database.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(AccountState)) == 6
        leased = await s.scalar(select(func.count()).where(Account.lease_owner.is_not(None)))
    assert leased == 0
