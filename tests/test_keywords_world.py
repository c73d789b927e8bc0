"""Keyword alerts end to end: journalists subscribe by words in (fake) Telegram and Slack,
the loopback world posts, edits and deletes, and the real scheduler, poller and relay
deliver exactly the matching new posts and edits, highlighted, once each, nothing else."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.chat.slack import SlackBackend
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.net.client import HttpClient
from bot.notify.relay import Relay
from bot.poll.pipeline import Poller
from bot.sources import build_sources
from bot.store.engine import Database
from bot.store.models import AccountState, AuditLog, Delivery, EventRow
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_api import FakeTelegramAPI, Sent
from tests.fakes.world import World, hours_ago
from tests.test_telegram_e2e import say

EDITOR = 9001
WORDS = 4242  # тариф, "цены на газ", -реклама: everyone
BOTH = 5151  # every post of everyone, and тариф from Omarova: one alert each
NEW_ONLY = 6161  # new posts with референдум, not edits
DESK = 7171  # the cabinet watchlist's posts, marked with its watchwords


def make_settings(db_url: str, api: FakeTelegramAPI, world: World) -> Settings:
    return load_settings(
        None,
        database={"url": db_url},
        http={"allow_private_networks": True, "per_host_rate": 1000.0},
        detect={"confirm_polls": 1},
        scheduler={"jitter": "0s", "tick": "100ms", "poll_interval": "300ms"},
        telegram={
            "token": api.token,
            "base_url": api.base_url,
            "poll_timeout": "1s",
            "send_timeout": "3s",
            "editors": [EDITOR],
        },
        relay={"per_chat_interval": "10ms", "tick": "50ms"},
        sources={"bluesky": {"base_url": world.url()}},
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


async def until(check: Callable[[], Any], *, timeout: float = 30.0) -> None:
    """Wait until ``await check()`` (or ``check()``) is true."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the world did not get there in time")
        await asyncio.sleep(0.05)


def alerts(api: FakeTelegramAPI, chat: int, since: int) -> list[Sent]:
    """The alerts (messages with a mute button) sent to ``chat`` after message ``since``."""
    return [
        m
        for m in api.messages_to(chat)[since:]
        if any(b.get("callback_data", "").startswith("mute:") for b in m.buttons)
    ]


async def events(db: Database, kind: str) -> int:
    async with db.sessions() as session:
        stmt = select(func.count()).select_from(EventRow).where(EventRow.kind == kind)
        return int(await session.scalar(stmt) or 0)


async def test_keyword_alerts_in_a_running_world(
    api: FakeTelegramAPI, world: World, database: Database, db_url: str
) -> None:
    settings = make_settings(db_url, api, world)
    dana = world.add_bluesky("dana.bsky.social", name="Dana", followers=35_000)
    dana.post("Встреча с жителями района")
    yerlan = world.add_bluesky("yerlan.bsky.social", name="Yerlan", followers=8_000)
    yerlan.post("Первый пост", at=hours_ago(5))  # keeps the deleted post inside the window
    old = yerlan.post("Тарифы на связь останутся прежними", at=hours_ago(2))
    app = App(settings, db=database)
    await app.start()
    try:
        for command in (
            '/watch add "Dana Omarova" bluesky dana.bsky.social',
            '/watch add "Yerlan Sapar" bluesky yerlan.bsky.social',
            "/watchlist create cabinet",
            "/watchlist add cabinet Omarova",
            '/watchlist words cabinet "цены на газ", референдум',
        ):
            assert "editors" not in await say(api, command, chat=EDITOR)
        assert "Keyword alerts set" in await say(
            api, '/subscribe all words: тариф, "цены на газ", -реклама', chat=WORDS
        )
        assert "Subscribed" in await say(api, "/subscribe all posts", chat=BOTH)
        assert "Keyword alerts set" in await say(api, "/subscribe Omarova words: тариф", chat=BOTH)
        assert "Оповещения по словам" in await say(
            api, "/subscribe all new_post words: референдум", chat=NEW_ONLY, lang="ru"
        )
        assert "Subscribed" in await say(api, "/subscribe cabinet posts", chat=DESK)
        listed = await say(api, "/subscriptions", chat=BOTH)
        assert "words: тариф" in listed
        seen = {chat: len(api.messages_to(chat)) for chat in (WORDS, BOTH, NEW_ONLY, DESK)}

        async def baseline() -> bool:
            async with database.sessions() as session:
                stmt = select(func.count()).select_from(AccountState)
                return await session.scalar(stmt) == 2

        await until(baseline)  # the first sight of each account sets its baseline: no alerts
        dana.post("Новые тарифы на электроэнергию вводятся с 1 июля")
        await until(lambda: events(database, "new_post"), timeout=30)
        dana.post("Цены на газ для населения не изменятся")
        yerlan.post("Реклама: тарифы связи снижены")  # тариф, but vetoed by -реклама
        yerlan.post("Референдумға дайындық басталды")  # kk form of референдум
        await until(lambda: _at_least(database, "new_post", 4))
        dana.posts[0].text = "Встреча с жителями района: обсудили тарифтер"  # an edit that matches
        yerlan.posts.remove(old)  # a deletion of a post that has тариф
        dana.followers = 60_000  # a follower jump: no keyword subscription hears of it
        await until(lambda: _at_least(database, "post_edited", 1))
        await until(lambda: _at_least(database, "post_deleted", 1))
        await until(lambda: _at_least(database, "followers_up", 1))
        await until(lambda: _settled(database), timeout=30)
        await asyncio.sleep(1.0)  # more polls: nothing new must come
        await until(lambda: _settled(database), timeout=30)
    finally:
        await app.stop()

    def texts(chat: int) -> list[str]:
        return [m.text for m in alerts(api, chat, seen[chat])]

    words = texts(WORDS)
    assert len(words) == 3, words
    tariffs = next(t for t in words if "электроэнергию" in t)
    assert "<i>Новые </i><i><b>тарифы</b></i><i> на электроэнергию" in tariffs
    assert "🔎 Matches: тариф" in tariffs
    gas = next(t for t in words if "газ" in t)
    assert "🔎 Matches: “цены на газ”" in gas
    assert "<i><b>Цены на газ</b></i>" in gas
    edited = next(t for t in words if "A post was edited" in t)
    assert "тарифтер</b>" in edited  # added by the edit: shown bold in its diff
    assert "🔎 Matches: тариф" in edited
    for text in words:
        assert "Реклама" not in text
        assert "Референдум" not in text

    both = texts(BOTH)
    # every post event once (4 new posts, the edit, the deletion), never twice for тариф
    assert len(both) == 6, both
    assert sum("электроэнергию" in t for t in both) == 1
    assert "🔎 Matches: тариф" in next(t for t in both if "электроэнергию" in t)
    assert all("Matches" not in t for t in both if "Yerlan" in t or "Sapar" in t)

    only_new = texts(NEW_ONLY)
    assert len(only_new) == 1, only_new
    assert "Новый пост" in only_new[0]
    assert "<i><b>Референдумға</b></i>" in only_new[0]
    assert "🔎 Совпадение: референдум" in only_new[0]

    desk = texts(DESK)  # Omarova's three post events, marked where the watchwords are
    assert len(desk) == 3, desk
    marked = [t for t in desk if "🏷" in t]
    assert len(marked) == 1
    assert "🏷 Watchwords of cabinet: “цены на газ”" in marked[0]
    assert "<i><b>Цены на газ</b></i>" in marked[0]

    async with database.sessions() as session:
        rows = (await session.scalars(select(Delivery))).all()
        actions = set((await session.scalars(select(AuditLog.action))).all())
    assert all(d.status == "sent" for d in rows)
    assert len(rows) == len(words) + len(both) + len(only_new) + len(desk)
    assert {"subscribe_words", "watchlist_words"} <= actions


async def _at_least(db: Database, kind: str, n: int) -> bool:
    return await events(db, kind) >= n


async def _settled(db: Database) -> bool:
    """Every delivery row was handed to Telegram (none pending or in flight)."""
    async with db.sessions() as session:
        stmt = select(func.count()).select_from(Delivery).where(Delivery.status != "sent")
        return await session.scalar(stmt) == 0


async def test_keyword_alert_in_slack(world: World, database: Database, db_url: str) -> None:
    fake = await FakeSlack().start()
    fake.add_channel("C0NEWS", creator="U0CREATOR")
    settings = load_settings(
        None,
        database={"url": db_url},
        http={"allow_private_networks": True, "per_host_rate": 1000.0},
        slack={
            "bot_token": BOT_TOKEN,
            "app_token": APP_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "mode": "socket",
            "base_url": fake.base_url,
            "editors": [f"{fake.team_id}:U0CREATOR"],
        },
        relay={"per_chat_interval": "0s", "tick": "1s"},
        i18n={"default_locale": "en"},
        sources={"bluesky": {"base_url": world.url()}},
    )
    commands = CommandService(db=database, settings=settings)
    backend = SlackBackend(settings=settings, commands=commands, min_interval=0.0)
    await backend.start()
    account = world.add_bluesky("dana.bsky.social", name="Dana", followers=35_000)
    account.post("Встреча с жителями")
    try:
        for text in (
            'watch add "Dana Omarova" bluesky dana.bsky.social',
            "subscribe all words: тариф, -реклама",
        ):
            wanted = len(fake.responses) + 1
            payload = fake.command_payload(text, channel="C0NEWS", user="U0CREATOR")
            await fake.send_envelope("slash_commands", payload)
            await fake.wait_for(lambda n=wanted: len(fake.responses) >= n)
        assert "Keyword alerts set" in json.dumps(fake.responses[-1], ensure_ascii=False)
        relay = Relay(db=database, backends={"slack": backend}, settings=settings)
        await _poll(database, settings)  # the baseline
        account.post("Тарифы на воду утверждены")
        account.post("Реклама тарифов")
        account.post("О погоде")
        await _poll(database, settings)
        assert await relay.drain() == 1
        assert await relay.drain() == 0
    finally:
        await backend.stop()
        await fake.close()
    posts = [p for p in fake.posts if p["channel"] == "C0NEWS"]
    assert len(posts) == 1
    wire = json.dumps(posts[0]["blocks"], ensure_ascii=False)
    assert "Matches: тариф" in wire
    assert "_*Тарифы*_" in wire
    assert await events(database, "new_post") == 3


async def _poll(db: Database, settings: Settings) -> None:
    http = HttpClient(settings.http)
    try:
        await Poller(db, build_sources(settings, http), settings).run_once(due=False)
    finally:
        await http.aclose()
