"""The scripted world: every real change gives exactly one event; a faulty source gives none."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from bot.config import Settings, load_settings
from bot.net.client import HttpClient
from bot.poll.pipeline import Poller
from bot.sources import build_sources
from bot.store.engine import Database
from bot.store.models import Account, AccountState, Delivery, EventRow, Post, Snapshot
from tests.fakes.world import World, hours_ago, seed

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_settings(db_url: str, world: World, **sections: dict[str, object]) -> Settings:
    base: dict[str, dict[str, object]] = {
        "database": {"url": db_url},
        "http": {
            "allow_private_networks": True,
            "per_host_rate": 1000.0,
            "per_host_concurrency": 16,
        },
        "detect": {"silent_after": "2d", "follower_milestones": [1000, 20000]},
        "scheduler": {"jitter": "0s", "poll_interval": "1h", "lease": "1m", "degraded_after": 3},
        "sources": {
            "bluesky": {"base_url": world.url("127.0.0.1")},
            # a separate host: the 429 must not cool down the healthy Bluesky accounts
            "telegram": {"base_url": world.url("127.0.0.2"), "fetch_plain_page": False},
        },
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return load_settings(None, **base)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    await w.start(("127.0.0.1", "127.0.0.2"))
    try:
        yield w
    finally:
        await w.stop()


class Rounds:
    """Polls every account once per round, with the clock moved forward first."""

    def __init__(
        self, db: Database, settings: Settings, traveller: time_machine.Coordinates
    ) -> None:
        self.db, self.settings, self.traveller = db, settings, traveller
        self.last_event = 0

    async def poll(self, *, hours: float = 1.0) -> Counter[tuple[str, str]]:
        self.traveller.shift(timedelta(hours=hours))
        http = HttpClient(self.settings.http)
        try:
            poller = Poller(self.db, build_sources(self.settings, http), self.settings)
            stats = await poller.run_once(due=False)
        finally:
            await http.aclose()
        assert stats.failed == 0
        assert stats.lost_lease == 0
        return await self.new_events()

    async def new_events(self) -> Counter[tuple[str, str]]:
        async with self.db.sessions() as s:
            rows = (
                await s.execute(
                    select(EventRow.id, Account.handle, EventRow.kind)
                    .join(Account, Account.id == EventRow.account_id)
                    .where(EventRow.id > self.last_event)
                )
            ).all()
        if rows:
            self.last_event = max(r.id for r in rows)
        return Counter((r.handle, r.kind) for r in rows)


async def test_scripted_world(database: Database, db_url: str, world: World) -> None:
    with time_machine.travel(START, tick=True) as traveller:
        alice = world.add_bluesky("alice.bsky.social", name="Alice", followers=10_000)
        for h in (5, 4, 3):
            alice.post(f"alice post {h}", at=hours_ago(h))
        bob = world.add_bluesky("bob.bsky.social", name="Bob", followers=500)
        bob.post("bob's last word", at=hours_ago(45))
        carol = world.add_bluesky("carol.bsky.social", name="Carol", followers=19_950)
        carol.post("carol", at=hours_ago(1))
        dave = world.add_bluesky("dave.bsky.social", name="Dave", followers=3_000)
        dave.post("dave", at=hours_ago(1))
        faulty = world.add_telegram(
            "faulty_ch", name="Faulty", followers=12_300, followers_text="12.3K"
        )
        for h in (3, 2, 1):
            faulty.post(f"faulty {h}", at=hours_ago(h))
        ids = await seed(
            database,
            [("bluesky", a) for a in world.bluesky] + [("telegram", "faulty_ch")],
            chats=2,
        )
        settings = make_settings(db_url, world)
        rounds = Rounds(database, settings, traveller)

        assert await rounds.poll(hours=0) == Counter()  # baseline: silent

        alice.followers = 11_000
        carol.followers = 20_100  # +0.75%: too small to tell, but crosses 20,000
        assert await rounds.poll() == Counter(
            {
                ("alice.bsky.social", "followers_up"): 1,
                ("carol.bsky.social", "followers_milestone"): 1,
            }
        )

        faulty.mode = "rate_limited"
        alice.post("breaking news")
        dave.mode = "absent"
        assert await rounds.poll() == Counter({("alice.bsky.social", "new_post"): 1})
        await asyncio.sleep(1.1)  # the 429's Retry-After cools the Telegram host for a second

        faulty.mode = "login_wall"  # for ten polls
        faulty.followers_text = "1.1K"  # whatever a broken page says must not count
        alice.posts[1].text = "alice post 4 (corrected)"
        assert await rounds.poll() == Counter(
            {
                ("alice.bsky.social", "post_edited"): 1,
                ("dave.bsky.social", "account_missing"): 1,
                ("bob.bsky.social", "went_silent"): 1,
            }
        )

        gone = alice.posts.pop(2)  # "alice post 3": inside the window, so a deletion
        assert await rounds.poll() == Counter({("faulty_ch", "source_degraded"): 1})
        assert await rounds.poll() == Counter({("alice.bsky.social", "post_deleted"): 1})

        dave.mode = "ok"
        bob.post("I am back")
        assert await rounds.poll() == Counter(
            {
                ("dave.bsky.social", "account_restored"): 1,
                ("bob.bsky.social", "new_post"): 1,
                ("bob.bsky.social", "back_from_silence"): 1,
            }
        )
        for _ in range(6):
            assert await rounds.poll() == Counter()
        faulty.mode = "ok"
        faulty.followers_text = "12.3K"
        assert await rounds.poll() == Counter({("faulty_ch", "source_recovered"): 1})
        assert await rounds.poll() == Counter()

    async with database.sessions() as s:
        kinds = dict(
            (await s.execute(select(EventRow.kind, func.count()).group_by(EventRow.kind))).all()
        )
        deliveries = await s.scalar(select(func.count()).select_from(Delivery))
        events = await s.scalar(select(func.count()).select_from(EventRow))
        pending = await s.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
        )
        faulty_state = await s.get(AccountState, ids["faulty_ch"])
        deleted = (
            (await s.execute(select(Post.platform_post_id).where(Post.deleted.is_(True))))
            .scalars()
            .all()
        )
        snapshots = await s.scalar(select(func.count()).select_from(Snapshot))
    assert faulty_state is not None
    assert faulty_state.followers == 12_300  # never the login wall's value
    assert faulty_state.unknown_streak == 0
    assert not faulty_state.silent
    assert not faulty_state.degraded
    # each journalist-facing event went to both subscribed chats, once; operator events
    # (source_degraded/recovered) only go to chats that asked for them
    assert deliveries == 2 * (events - 2)
    assert pending == deliveries
    assert deleted == [gone.id]
    assert snapshots is not None
    assert snapshots >= 5
    assert sum(kinds.values()) == events == 12
