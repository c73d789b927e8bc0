"""Same text from several officials, end to end: the loopback world posts, the real
scheduler, poller and relay raise one ``coordinated_posts`` event for three officials
posting one text with different hashtags within an hour, deliver it once to a chat that
follows all three (and once to a watchlist's chat), and nothing for two officials or
for posts spread beyond the window; a fourth official joining later sends nothing new.
Then the same alert and /same in (fake) Slack."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot.app import App
from bot.chat.slack import SlackBackend
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.notify.relay import Relay
from bot.store.engine import Database
from bot.store.models import AccountState, Delivery, EventRow, PostBand, PostSketch
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.world import World, hours_ago
from tests.test_keywords_world import _poll, _settled, api, events, make_settings, until
from tests.test_telegram_e2e import say

__all__ = ["api"]  # the fixture, shared with the keyword world

EDITOR = 9001
FOLLOWS_THREE = 4343  # subscribed to Omarova, Sapar and Abenova, one by one
DESK = 5454  # subscribed to the watchlist "cabinet" (all four)
OTHER = 6565  # subscribed to Dzhumabaev only (the one who joins late)

TEXT = (
    "Сегодня в Астане прошло заседание Правительства. Обсуждены меры поддержки фермеров "
    "и развитие сельского хозяйства в регионах страны."
)
PAIR = (
    "Провели встречу с предпринимателями области: обсудили налоговые льготы, кредиты и "
    "новые правила проверок малого бизнеса."
)
SPREAD = (
    "Поздравляем работников образования с профессиональным праздником и благодарим "
    "учителей за их нелёгкий и благородный труд."
)
PEOPLE = (
    ("Dana Omarova", "dana.bsky.social"),
    ("Yerlan Sapar", "yerlan.bsky.social"),
    ("Aida Abenova", "aida.bsky.social"),
    ("Marat Dzhumabaev", "marat.bsky.social"),
)


def _same_alerts(api: FakeTelegramAPI, chat: int) -> list[str]:
    return [m.text for m in api.messages_to(chat) if m.text.startswith("🧩")]


async def test_three_officials_one_text_one_event_once_per_chat(
    api: FakeTelegramAPI, world: World, database: Database, db_url: str
) -> None:
    settings = make_settings(db_url, api, world)
    accounts = [world.add_bluesky(handle, name=name, followers=10_000) for name, handle in PEOPLE]
    for account in accounts:
        account.post("Старый пост, с которого начинается наблюдение", at=hours_ago(12))
    dana, yerlan, aida, marat = accounts
    app = App(settings, db=database)
    await app.start()
    try:
        for name, handle in PEOPLE:
            assert "editors" not in await say(
                api, f'/watch add "{name}" bluesky {handle}', chat=EDITOR
            )
        await say(api, "/watchlist create cabinet", chat=EDITOR)
        for name, _ in PEOPLE:
            await say(api, f'/watchlist add cabinet "{name}"', chat=EDITOR)
        for name in ("Omarova", "Sapar", "Abenova"):
            assert "Subscribed" in await say(api, f"/subscribe {name}", chat=FOLLOWS_THREE)
        assert "Subscribed" in await say(api, "/subscribe cabinet coordinated_posts", chat=DESK)
        assert "Subscribed" in await say(api, "/subscribe Dzhumabaev", chat=OTHER)

        async def baseline() -> bool:
            async with database.sessions() as session:
                return await session.scalar(select(func.count()).select_from(AccountState)) == 4

        await until(baseline)  # the first sight only sets the baselines
        # spread beyond the 2-hour window: 6 h, 3.5 h and 1.2 h ago (no two within 2 h)
        dana.post(SPREAD + " #образование", at=hours_ago(6))
        yerlan.post(SPREAD + " #мұғалім", at=hours_ago(3.5))
        aida.post(SPREAD, at=hours_ago(1.2))
        # three officials within an hour, each with other hashtags, a link or a mention
        dana.post(TEXT + " #Үкімет #АПК", at=hours_ago(1.0))
        yerlan.post("#новости " + TEXT + " https://primeminister.kz/ru/news/1", at=hours_ago(0.5))
        aida.post(TEXT.upper() + " @primeminister_kz", at=hours_ago(0.1))
        # only two officials
        dana.post(PAIR, at=hours_ago(0.05))
        yerlan.post(PAIR + " #бизнес", at=hours_ago(0.02))
        await until(lambda: _at_least(database, "new_post", 8))
        await until(lambda: _at_least(database, "coordinated_posts", 1))
        await until(lambda: _settled(database))
        assert len(_same_alerts(api, FOLLOWS_THREE)) == 1
        # a fourth official with the same text, still within the window: joins, no new alert
        marat.post(TEXT + " #Казахстан")
        await until(lambda: _at_least(database, "new_post", 9))
        await until(lambda: _joined(database))
        await asyncio.sleep(1.0)  # more polls: nothing new must come
        await until(lambda: _settled(database))
        listed = await say(api, "/same 1d", chat=FOLLOWS_THREE)
        in_list = await say(api, "/same 1d cabinet", chat=DESK)
        nothing = await say(api, "/same 1d nosuchlist", chat=DESK)
    finally:
        await app.stop()

    assert await events(database, "coordinated_posts") == 1
    [alert] = _same_alerts(api, FOLLOWS_THREE)
    assert "Same text from 3 officials" in alert
    for name in ("Dana Omarova", "Yerlan Sapar", "Aida Abenova"):
        assert name in alert
    assert "Dzhumabaev" not in alert
    assert "<i>Сегодня в Астане прошло заседание Правительства." in alert
    assert alert.count("open the post") == 3
    assert len(_same_alerts(api, DESK)) == 1
    assert [m.text for m in api.messages_to(DESK) if "New post" in m.text] == []
    assert _same_alerts(api, OTHER) == []  # the group was announced before he joined it

    async with database.sessions() as session:
        event = (
            await session.scalars(select(EventRow).where(EventRow.kind == "coordinated_posts"))
        ).one()
        deliveries = (
            await session.scalars(select(Delivery).where(Delivery.event_id == event.id))
        ).all()
        sketches = await session.scalar(select(func.count()).select_from(PostSketch))
        bands = await session.scalar(select(func.count()).select_from(PostBand))
    assert event.account_id is None
    assert event.official_id is None
    assert event.payload["officials"] == 4
    assert event.payload["joined"] == 1
    names = [p["name"] for p in event.payload["posts"]]
    assert names == ["Dana Omarova", "Yerlan Sapar", "Aida Abenova", "Marat Dzhumabaev"]
    assert sorted(d.chat_id for d in deliveries) == sorted(
        await _chat_ids(database, FOLLOWS_THREE, DESK)
    )
    assert sketches == 9  # every new post: one sketch and 20 band keys
    assert bands == 9 * 20

    assert "Same text from 4 officials" in listed  # the list shows the group as it is now
    assert "Marat Dzhumabaev" in listed
    assert "Сегодня в Астане" in listed
    assert "Провели встречу" not in listed
    assert "Поздравляем" not in listed
    assert "Same text from 4 officials" in in_list
    assert "nosuchlist" in nothing


async def _at_least(db: Database, kind: str, n: int) -> bool:
    return await events(db, kind) >= n


async def _joined(db: Database) -> bool:
    async with db.sessions() as session:
        payload = await session.scalar(
            select(EventRow.payload).where(EventRow.kind == "coordinated_posts")
        )
    return isinstance(payload, dict) and payload.get("joined") == 1


async def _chat_ids(db: Database, *external: int) -> list[int]:
    from bot.store.models import Chat

    async with db.sessions() as session:
        rows = await session.scalars(
            select(Chat.id).where(Chat.external_id.in_([str(e) for e in external]))
        )
        return list(rows)


async def test_the_alert_and_same_in_slack(world: World, database: Database, db_url: str) -> None:
    fake = await FakeSlack().start()
    fake.add_channel("C0DESK", creator="U0CREATOR")
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
    people = [("<b>Dana</b> & *Co*", "dana.bsky.social"), *PEOPLE[1:3]]
    accounts = [world.add_bluesky(handle, name="x", followers=100) for _, handle in people]
    for account in accounts:
        account.post("Старый пост", at=hours_ago(12))

    async def slack(text: str) -> str:
        wanted = len(fake.responses) + 1
        payload = fake.command_payload(text, channel="C0DESK", user="U0CREATOR")
        await fake.send_envelope("slash_commands", payload)
        await fake.wait_for(lambda: len(fake.responses) >= wanted)
        return json.dumps(fake.responses[-1], ensure_ascii=False)

    try:
        for name, handle in people:
            await slack(f'watch add "{name}" bluesky {handle}')
        assert "Subscribed" in await slack("subscribe all coordinated_posts")
        relay = Relay(db=database, backends={"slack": backend}, settings=settings)
        await _poll(database, settings)  # the baselines
        for n, account in enumerate(accounts):
            account.post(f"{TEXT} <script>*bold*</script> #tag{n}", at=hours_ago(0.5 - n * 0.1))
        await _poll(database, settings)
        assert await relay.drain() == 1
        assert await relay.drain() == 0
        listed = await slack("same 7d")
    finally:
        await backend.stop()
        await fake.close()
    [post] = [p for p in fake.posts if p["channel"] == "C0DESK"]
    wire = json.dumps(post["blocks"], ensure_ascii=False)
    assert "Same text from 3 officials" in wire
    assert "&lt;b&gt;Dana&lt;/b&gt; &amp; " in wire  # outside text escaped for mrkdwn
    assert "<script>" not in wire
    assert "&lt;script&gt;" in wire
    assert "<b>" not in wire
    assert "Same text from 3 officials" in listed
    assert "&lt;b&gt;Dana&lt;/b&gt;" in listed
