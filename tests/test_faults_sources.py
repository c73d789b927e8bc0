"""Sources that fail at random: the real poller keeps going, loses no post, invents nothing.

A loopback world of RSS feeds answers 429, 500/503, timeouts, garbage, truncated or cut
bodies and login walls at random (seeded). New posts are published between passes. After
the faults stop and a few clean passes run, every post published after the baseline has
exactly one ``new_post`` event and one delivery row, and no other journalist-facing event
exists: a failed fetch is "unknown", never a deletion, an edit or a follower move.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.config import Settings, load_settings
from bot.domain import OPERATOR_EVENTS, Platform
from bot.net.client import HttpClient
from bot.poll.pipeline import Poller
from bot.sources.rss import RssSource
from bot.store.engine import Database
from bot.store.models import Account, Chat, Delivery, EventRow, Official, Subscription
from tests.crash_summary import Tally
from tests.fakes.faulty_world import ALL_FAULTS, FaultPlan, FaultyWorld

FEEDS = 6
FAULT_PASSES = 12


def _settings() -> Settings:
    return load_settings(
        None,
        http={
            "allow_private_networks": True,
            "timeout": "0.6s",
            "per_host_rate": 1000.0,
            "per_host_concurrency": 16,
        },
        scheduler={"lease": "30s", "degraded_after": 5},
    )


async def _seed(db: Database, world: FaultyWorld) -> int:
    """Officials with one feed each, and one Telegram chat subscribed to everything."""
    async with db.sessions() as session:
        for n in range(FEEDS):
            name = f"office{n}"
            url = world.add_feed(name, posts=3)
            official = Official(slug=name, name=f"Office {n}", search_key=f"office {n}")
            official.accounts.append(Account(platform=Platform.RSS.value, handle=url, url=url))
            session.add(official)
        chat = Chat(backend="telegram", external_id="1001", kind="private")
        session.add(chat)
        await session.flush()
        session.add(Subscription(chat_id=chat.id, target_type="all", target_id=0))
        await session.commit()
        return chat.id


async def _until_all_ok(poller: Poller, *, budget: float = 15.0) -> None:
    """Clean passes until one reads every feed (Retry-After cooldowns must run out first)."""
    deadline = asyncio.get_running_loop().time() + budget
    while True:
        stats = await poller.run_once(due=False)
        if stats.ok == stats.claimed == FEEDS:
            return
        assert asyncio.get_running_loop().time() < deadline, "sources never recovered"
        await asyncio.sleep(0.3)


@dataclass
class SourceFaultResult:
    """What one run of random source faults produced."""

    expected: set[str]
    announced: Counter[str]
    false_alerts: list[tuple[str, dict[str, object]]]
    injected: Counter[str]
    unknown: int
    failed_writes: int
    undelivered: list[int]

    @property
    def lost(self) -> set[str]:
        """Posts never announced."""
        return self.expected - set(self.announced)

    def record(self, tally: Tally) -> None:
        """Add this run to the suite summary."""
        tally.scenario("faults.sources")
        for kind, count in self.injected.items():
            tally.fault(f"source.{kind}", count)
        tally.alerts(
            expected=len(self.expected),
            delivered=len(set(self.announced) & self.expected),
            duplicated=sum(n - 1 for n in self.announced.values()),
            lost=len(self.lost),
            false_alerts=len(self.false_alerts),
        )


async def run_source_faults(
    db: Database, *, seed: int, passes: int = FAULT_PASSES, fault_rate: float = 0.45
) -> SourceFaultResult:
    """Publish posts while the feeds fail at random, then recover; report what was stored."""
    settings = _settings()
    plan = FaultPlan(seed=seed, fault_rate=0.0, faults=ALL_FAULTS, hang_seconds=2.0)
    rng = random.Random(seed)
    expected: set[str] = set()
    unknown = failed = 0
    async with FaultyWorld(plan, hosts=FEEDS) as world, HttpClient(settings.http) as http:
        chat_id = await _seed(db, world)
        poller = Poller(db, {Platform.RSS: RssSource(http=http, settings=settings)}, settings)
        await poller.run_once(due=False)  # clean baseline: first sight alerts nothing
        plan.fault_rate = fault_rate
        for _ in range(passes):
            for name in rng.sample(sorted(world.feeds), k=rng.randint(0, 3)):
                expected.add(world.add_post(name).guid)
            stats = await poller.run_once(due=False)
            unknown += stats.unknown
            failed += stats.failed
        plan.fault_rate = 0.0
        await _until_all_ok(poller)
    async with db.sessions() as session:
        events = (await session.scalars(select(EventRow))).all()
        deliveries = (await session.scalars(select(Delivery))).all()
    journalist = [e for e in events if e.kind not in {k.value for k in OPERATOR_EVENTS}]
    queued = {d.event_id for d in deliveries if d.chat_id == chat_id}
    return SourceFaultResult(
        expected=expected,
        announced=Counter(str(e.payload["post_id"]) for e in journalist if e.kind == "new_post"),
        false_alerts=[
            (e.kind, dict(e.payload))
            for e in journalist
            if e.kind != "new_post" or e.payload["post_id"] not in expected
        ],
        injected=plan.injected,
        unknown=unknown,
        failed_writes=failed,
        # One delivery per journalist event, queued for the chat; operator events are not sent.
        undelivered=sorted(e.id for e in journalist if e.id not in queued),
    )


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_source_faults_lose_nothing_and_invent_nothing(
    database: Database, seed: int, crash_tally: Tally
) -> None:
    result = await run_source_faults(database, seed=seed)
    result.record(crash_tally)
    assert sum(result.injected.values()) > 10, result.injected
    assert result.unknown > 0
    assert result.failed_writes == 0
    assert not result.lost, f"posts never announced: {sorted(result.lost)}"
    assert not result.false_alerts
    assert [p for p, n in result.announced.items() if n > 1] == []
    assert result.undelivered == []
