"""The scripted world: a jump of 10x an account's usual daily growth is marked unusual,
ordinary growth is not, and /anomalies lists the jump."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from bot.chat.slack_blocks import message_blocks
from bot.chat.telegram_html import one_html
from bot.commands.service import CommandService
from bot.notify.render import render_event
from bot.reply import Caller, Table, render_plain
from bot.store.engine import Database
from bot.store.models import Account, EventRow, Official
from tests.fakes.world import World, seed
from tests.test_poll_scenario import Rounds, make_settings, world

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAILY = 50
__all__ = ["world"]  # the fixture, imported for pytest


async def follower_events(database: Database) -> list[tuple[str, EventRow]]:
    async with database.sessions() as s:
        rows = (
            await s.execute(
                select(Account.handle, EventRow)
                .join(Account, Account.id == EventRow.account_id)
                .where(EventRow.kind.in_(("followers_up", "followers_down")))
                .order_by(EventRow.id)
            )
        ).all()
    return [(handle, event) for handle, event in rows]


async def test_a_jump_of_ten_times_the_usual_growth_is_marked(
    database: Database, db_url: str, world: World
) -> None:
    with time_machine.travel(START, tick=True) as traveller:
        steady = world.add_bluesky("steady.bsky.social", name="Steady", followers=10_000)
        jumpy = world.add_bluesky("jumpy.bsky.social", name="Jumpy", followers=10_000)
        await seed(database, [("bluesky", a) for a in world.bluesky])
        settings = make_settings(db_url, world, detect={"unusual_min_days": 14})
        rounds = Rounds(database, settings, traveller)
        await rounds.poll(hours=0)  # baselines
        for day in range(1, 23):
            steady.followers += DAILY
            jumpy.followers += DAILY
            await rounds.poll(hours=24)
            if day == 17:
                # Six hours later: ten times its usual daily growth at once.
                jumpy.followers += 10 * DAILY
                assert await rounds.poll(hours=6) == {("jumpy.bsky.social", "followers_up"): 1}

        events = await follower_events(database)
        marked = [(h, e) for h, e in events if e.payload["unusual"]]
        ordinary = [(h, e) for h, e in events if not e.payload["unusual"]]
        assert [h for h, _ in marked] == ["jumpy.bsky.social"]
        jump = marked[0][1]
        assert jump.payload["ratio"] == 10.0
        assert jump.payload["usual_daily"] == DAILY
        assert jump.payload["recent_delta"] == 10 * DAILY
        # Ordinary growth crossed the 5% threshold several times and is never marked,
        # also once the baseline is old enough to judge it (about 1x usual).
        assert len(ordinary) >= 3
        judged = [e.payload["ratio"] for h, e in ordinary if e.payload["ratio"] is not None]
        assert judged
        assert all(r <= 1.5 for r in judged)

        async with database.sessions() as s:
            official = await s.get(Official, jump.official_id)
            account = await s.get(Account, jump.account_id)
        text = render_plain(render_event(jump, official=official, account=account, locale="en"))
        assert "about 10× its usual daily growth (usually 50 a day, from 17 days)" in text
        ordinary_text = render_plain(
            render_event(ordinary[-1][1], official=official, account=account, locale="en")
        )
        assert "Unusual" not in ordinary_text

        svc = CommandService(db=database, settings=settings)
        caller = Caller(backend="console", user_id="1", chat_id="100")
        reply = await svc.handle(caller, "/anomalies 30d", locale="en")
        table = next(b for b in reply.blocks if isinstance(b, Table))
        assert [row[0] for row in table.rows] == ["Official jumpy.bsky.social"]
        assert table.rows[0][2:4] == ("+500", "×10")
        # The one answer, as each chat shows it (the adapters only translate).
        slack = json.dumps(message_blocks(reply), ensure_ascii=False)
        assert "Official jumpy.bsky.social" in slack
        assert "×10" in slack
        assert "Official steady.bsky.social" not in slack
        html = one_html(reply)
        assert "Official jumpy.bsky.social" in html
        assert "×10" in html
        quiet = await svc.handle(caller, "/anomalies 7d telegram", locale="ru")
        assert "необычных изменений подписчиков не было (все чиновники, Telegram)" in render_plain(
            quiet
        )
