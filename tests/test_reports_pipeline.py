"""Reports over data written by the real pipeline: a roster of 30 polled from a local world."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.net.client import HttpClient
from bot.poll.pipeline import Poller
from bot.reply import Caller, Table, render_plain
from bot.reports.cabinet import cabinet_report
from bot.reports.leaderboard import top
from bot.sources import build_sources
from bot.store.engine import Database
from bot.store.models import Official, Watchlist, WatchlistMember
from tests.fakes.world import World, seed

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACCOUNTS = 27  # plus 3 officials with no account at all: 30 on the roster
ABSENT = {"m05.bsky.social", "m11.bsky.social"}
FAILING = {"m07.bsky.social"}


def handle(i: int) -> str:
    return f"m{i:02d}.bsky.social"


def settings_for(db_url: str, world: World) -> Settings:
    return load_settings(
        None,
        database={"url": db_url},
        http={"allow_private_networks": True, "per_host_rate": 1000.0, "per_host_concurrency": 16},
        scheduler={"jitter": "0s", "poll_interval": "1h", "lease": "1m", "degraded_after": 3},
        sources={"bluesky": {"base_url": world.url()}},
    )


async def poll(db: Database, settings: Settings) -> None:
    http = HttpClient(settings.http)
    try:
        stats = await Poller(db, build_sources(settings, http), settings).run_once(due=False)
    finally:
        await http.aclose()
    assert stats.failed == 0


async def add_roster_extras(db: Database) -> None:
    async with db.sessions() as session, session.begin():
        watchlist = Watchlist(name="cabinet", title="Cabinet")
        session.add(watchlist)
        for n in range(3):
            session.add(Official(slug=f"noacc{n}", name=f"No Account {n}"))
        await session.flush()
        for official in (await session.scalars(Official.__table__.select())).all():
            session.add(WatchlistMember(watchlist_id=watchlist.id, official_id=official))


async def test_reports_from_polled_world(database: Database, db_url: str, world: World) -> None:
    with time_machine.travel(START, tick=True) as traveller:
        accounts = {}
        for i in range(1, ACCOUNTS + 1):
            acc = world.add_bluesky(handle(i), name=f"Member {i}", followers=1000 * i)
            acc.post("an old post", at=START - timedelta(days=40))
            acc.mode = "absent" if handle(i) in ABSENT else "ok"
            acc.mode = "server_error" if handle(i) in FAILING else acc.mode
            accounts[i] = acc
        await seed(database, [("bluesky", handle(i)) for i in range(1, ACCOUNTS + 1)], chats=0)
        await add_roster_extras(database)
        settings = settings_for(db_url, world)
        await poll(database, settings)
        for day in range(1, 9):
            traveller.shift(timedelta(days=1))
            for i, acc in accounts.items():
                acc.followers += 10 * i  # member i gains 10*i followers a day
                if day == 6 and i % 2 == 0:
                    acc.post(f"news from member {i}")
            await poll(database, settings)
        now = datetime.now(UTC)

        async with database.sessions() as session:
            report = await cabinet_report(session, watchlist="cabinet", platform="bluesky", now=now)
            growth = await top(session, metric="growth", period=timedelta(days=7), now=now)
        healthy = [i for i in range(1, ACCOUNTS + 1) if handle(i) not in ABSENT | FAILING]
        assert report.m == 30
        assert report.n == ACCOUNTS - len(ABSENT)
        assert report.k == sum(1 for i in healthy if i % 2 == 0)
        assert {o.name for o in report.unknown} == {"Official m07.bsky.social"}
        assert len(report.absent) == 3 + len(ABSENT)
        inactive = {o.name for o in report.inactive}
        assert inactive == {f"Official {handle(i)}" for i in healthy if i % 2}
        assert [line.official.name for line in report.leaders(3)] == [
            f"Official {handle(i)}" for i in (27, 26, 25)
        ]

        # Growth over 7 days is the real one: 7 days x 10*i followers, in that order.
        expected = sorted(healthy, reverse=True)
        assert [e.official.name for e in growth.entries] == [
            f"Official {handle(i)}" for i in expected[:10]
        ]
        assert [e.growth for e in growth.entries] == [70 * i for i in expected[:10]]
        assert "Official m07.bsky.social" not in {e.official.name for e in growth.entries}

        service = CommandService(db=database, settings=settings, services={"clock": lambda: now})
        caller = Caller(backend="console", user_id="1", chat_id="1")
        reply = await service.handle(caller, "/report cabinet bluesky", locale="en")
        text = render_plain(reply)
        assert f"{ACCOUNTS - len(ABSENT)} of 30 members have an account on Bluesky." in text
        top_reply = await service.handle(caller, "/top growth 7d", locale="ru")
        table = next(b for b in top_reply.blocks if isinstance(b, Table))
        assert table.rows[0][1] == f"Official {handle(27)}"
        chart = await service.handle(caller, "/chart cabinet 30d", locale="kk")
        assert chart.attachment is not None
        assert chart.attachment.data.startswith(b"\x89PNG")
