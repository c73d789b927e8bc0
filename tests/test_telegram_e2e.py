"""End to end: a journalist in (fake) Telegram subscribes, a change happens in the local
world, the alert arrives exactly once and correctly escaped; commands work in ru, kk, en;
the bot token never reaches a log."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.i18n import t
from bot.logs import setup_logging
from bot.names import search_key
from bot.net.client import HttpClient
from bot.notify.relay import Relay
from bot.poll.pipeline import Poller
from bot.sources import build_sources
from bot.store.engine import Database
from bot.store.models import Account, Chat, Official, Subscription
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.world import World

HOSTILE = '<b>&</b><a href="x">'
EDITOR = 9001
JOURNALIST = 4242
ERRORS = (
    "Something went wrong",
    "пошло не так",
    "дұрыс болмады",
    "didn't work",
    "Не получилось",
    "Болмады",
)


def make_settings(
    db_url: str, api: FakeTelegramAPI, world: World | None = None, **telegram: Any
) -> Settings:
    sources = {"bluesky": {"base_url": world.url()}} if world else {}
    return load_settings(
        None,
        database={"url": db_url},
        http={"allow_private_networks": True, "per_host_rate": 1000.0},
        detect={"confirm_polls": 1},
        scheduler={"jitter": "0s"},
        telegram={
            "token": api.token,
            "base_url": api.base_url,
            "poll_timeout": "1s",
            "send_timeout": "3s",
            "editors": [EDITOR],
            **telegram,
        },
        relay={"per_chat_interval": "10ms", "tick": "50ms"},
        sources=sources,
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


async def say(
    api: FakeTelegramAPI,
    text: str,
    *,
    chat: int = JOURNALIST,
    user: int | None = None,
    kind: str = "private",
    lang: str = "en",
) -> str:
    """Send ``text`` as a user and return the bot's answer."""
    before = len(api.messages_to(chat))
    api.push_message(
        chat_id=chat, user_id=user or chat, text=text, chat_type=kind, language_code=lang
    )
    await api.wait_for(lambda: len(api.messages_to(chat)) > before)
    await asyncio.sleep(0.05)  # a reply may span several messages
    return "\n".join(m.text for m in api.messages_to(chat)[before:])


async def poll(db: Database, settings: Settings) -> None:
    http = HttpClient(settings.http)
    try:
        await Poller(db, build_sources(settings, http), settings).run_once(due=False)
    finally:
        await http.aclose()


async def test_subscribe_change_alert_exactly_once_escaped(
    api: FakeTelegramAPI,
    world: World,
    database: Database,
    db_url: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(db_url, api, world)
    setup_logging("DEBUG", secrets=settings.secrets())
    account_fake = world.add_bluesky("dana.bsky.social", name="Dana", followers=35000)
    account_fake.post("first post")
    async with database.sessions() as session:
        session.add(
            Official(slug="hostile", name=HOSTILE, search_key=search_key([HOSTILE, "Dana Omarova"]))
        )
        await session.commit()
    commands = CommandService(db=database, settings=settings)
    backend = TelegramBackend(settings=settings, commands=commands)
    relay = Relay(db=database, backends={"telegram": backend}, settings=settings)
    await backend.start()
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        # The editor adds the account, the journalist subscribes (in Russian).
        added = await say(api, "/watch add hostile bluesky dana.bsky.social", chat=EDITOR)
        assert "dana.bsky.social" in added
        assert "&lt;b&gt;&amp;" in added
        refused = await say(api, "/watch add hostile bluesky other.bsky.social", lang="ru")
        assert "только редакторы" in refused
        answer = await say(api, "/subscribe Omarova", lang="ru")
        assert "Подписка оформлена" in answer
        assert "&lt;b&gt;&amp;&lt;/b&gt;&lt;a href=&quot;" not in answer
        assert '&lt;b&gt;&amp;&lt;/b&gt;&lt;a href="x"&gt;' in answer
        async with database.sessions() as session:
            assert (await session.scalars(select(Subscription))).one().target_type == "official"

        await poll(database, settings)  # the first sight sets the baseline: no alert
        account_fake.post('Hello <script>alert("x")</script> & welcome')
        await poll(database, settings)
        await api.wait_for(lambda: len(api.messages_to(JOURNALIST)) >= 3, timeout=10)
        await asyncio.sleep(0.5)
        await poll(database, settings)  # nothing changed: nothing new
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await relay_task
        await backend.stop()

    alerts = [m for m in api.messages_to(JOURNALIST) if m.buttons]
    assert len(alerts) == 1, [m.text for m in api.messages_to(JOURNALIST)]
    alert = alerts[0].text
    assert alerts[0].parse_mode == "HTML"
    assert "Новый пост" in alert
    assert '&lt;b&gt;&amp;&lt;/b&gt;&lt;a href="x"&gt;' in alert
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; welcome' in alert
    assert "<script>" not in alert
    assert '<a href="x">' not in alert
    assert "https://bsky.app/profile/dana.bsky.social/post/" in alert
    assert alerts[0].params["link_preview_options"] == {"is_disabled": True}
    # The bot token never reached a log line, even at DEBUG.
    logs = capfd.readouterr().err
    assert "DEBUG" in logs or "INFO" in logs
    assert api.token not in logs
    assert api.token.split(":", 1)[1] not in logs
    logging.getLogger().handlers.clear()


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
async def test_reading_commands_in_every_language(
    api: FakeTelegramAPI, world: World, database: Database, db_url: str, lang: str
) -> None:
    settings = make_settings(db_url, api, world)
    world.add_bluesky("dana.bsky.social", name="Dana", followers=35000).post("hi")
    async with database.sessions() as session:
        official = Official(
            slug="dana",
            name="Dana Omarova",
            name_ru="Дана Омарова",
            search_key=search_key(["Dana Omarova", "Дана Омарова"]),
        )
        session.add(official)
        await session.flush()
        session.add(Account(official_id=official.id, platform="bluesky", handle="dana.bsky.social"))
        await session.commit()
    await poll(database, settings)
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.start()
    try:
        assert await say(api, f"/lang {lang}", lang=lang)
        for command in (
            "/top",
            "/silent",
            "/official Омарова",
            "/report",
            "/help",
            "/subscriptions",
        ):
            answer = await say(api, command, lang=lang)
            assert answer.strip(), command
            assert not any(e in answer for e in ERRORS), (command, answer)
        await say(api, "/chart dana", lang=lang)
        [photo] = [m for m in api.sent if m.method == "sendPhoto"]
        assert photo.files["photo"].startswith(b"\x89PNG")
        assert "Dana" in photo.text or "Дана" in photo.text
        official_card = await say(api, "/official dana", lang=lang)
        assert "Dana Omarova" in official_card or "Дана Омарова" in official_card
    finally:
        await backend.stop()
    # Command menus were registered for every language and the default.
    assert {lang_code for _, lang_code in api.commands} == {"", "ru", "kk", "en"}


async def test_group_admins_only_and_buttons(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    settings = make_settings(db_url, api)
    async with database.sessions() as session:
        official = Official(
            slug="dana", name="Dana Omarova", search_key=search_key(["Dana Omarova"])
        )
        session.add(official)
        await session.commit()
    api.admins[-500].add(8)
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.start()
    try:
        refused = await say(api, "/subscribe all", chat=-500, user=7, kind="supergroup")
        assert "administrators" in refused
        quiet = len(api.messages_to(-500))
        for other in ("/subscribe@other_bot all", "/weather"):
            api.push_message(chat_id=-500, user_id=8, text=other, chat_type="supergroup")
        done = await say(
            api, "/subscribe@govwatch_test_bot all", chat=-500, user=8, kind="supergroup"
        )
        assert "Subscribed" in done
        assert len(api.messages_to(-500)) == quiet + 1  # other bots' commands got no answer
        before = len(api.messages_to(-500))
        api.push_callback(
            chat_id=-500, user_id=7, data=f"mute:{official.id}", chat_type="supergroup"
        )
        await api.wait_for(lambda: len(api.messages_to(-500)) > before)
        assert "administrators" in api.messages_to(-500)[-1].text
        api.push_callback(
            chat_id=-500, user_id=8, data=f"mute:{official.id}", chat_type="supergroup"
        )
        await api.wait_for(lambda: len(api.messages_to(-500)) > before + 1)
        assert "Muted" in api.messages_to(-500)[-1].text
        assert len(api.callback_answers) == 2
        # The group becomes a supergroup: Telegram tells the old chat, the row follows.
        api.push_update(
            {
                "message": {
                    "message_id": 99,
                    "date": 0,
                    "chat": {"id": -500, "type": "group", "title": "g"},
                    "from": {"id": 8, "is_bot": False, "first_name": "A"},
                    "migrate_to_chat_id": -100500,
                }
            }
        )
        await api.wait_for(lambda: any(m == "getUpdates" for m, _ in api.requests[-1:]))
        for _ in range(50):
            async with database.sessions() as session:
                chat = (await session.scalars(select(Chat))).one()
            if chat.external_id == "-100500":
                break
            await asyncio.sleep(0.1)
    finally:
        await backend.stop()
    async with database.sessions() as session:
        sub = (await session.scalars(select(Subscription))).one()
        chat = (await session.scalars(select(Chat))).one()
    assert chat.external_id == "-100500"
    assert sub.chat_id == chat.id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    settings = make_settings(
        db_url,
        api,
        mode="webhook",
        webhook_url=url,
        webhook_secret="s3cret-Token_1",
        webhook_port=port,
    )
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.start()
    try:
        assert api.webhook is not None
        assert api.webhook["secret_token"] == "s3cret-Token_1"
        update = api.push_message(chat_id=77, text="/start")
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=json.dumps(update)) as resp:
                assert resp.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with http.post(url, data=json.dumps(update), headers=headers) as resp:
                assert resp.status == 403
            headers["X-Telegram-Bot-Api-Secret-Token"] = "s3cret-Token_1"
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 200
        await api.wait_for(lambda: len(api.messages_to(77)) == 1)
        assert "Hello" in api.messages_to(77)[0].text
        assert not any(method == "getUpdates" for method, _ in api.requests)
    finally:
        await backend.stop()


def _member_checks(api: FakeTelegramAPI) -> int:
    return sum(1 for method, _ in api.requests if method == "getChatMember")


async def test_group_changes_ask_getchatmember_only_when_it_decides(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    """Reading asks Telegram nothing; an editor needs no admin rights; others are checked."""
    settings = make_settings(db_url, api)
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.start()
    try:
        assert await say(api, "/subscriptions", chat=-600, user=7, kind="supergroup")
        assert await say(api, "/help", chat=-600, user=7, kind="supergroup")
        assert _member_checks(api) == 0
        done = await say(api, "/subscribe all", chat=-600, user=EDITOR, kind="supergroup")
        assert "Subscribed" in done
        assert _member_checks(api) == 0
        refused = await say(api, "/unsubscribe all", chat=-600, user=7, kind="supergroup")
        assert "administrators" in refused
        assert _member_checks(api) == 1
    finally:
        await backend.stop()
    async with database.sessions() as session:
        assert len((await session.scalars(select(Subscription))).all()) == 1


async def test_unavailable_database_is_answered_with_an_apology(
    api: FakeTelegramAPI, unavailable_database: Database, db_url: str
) -> None:
    settings = make_settings(db_url, api)
    commands = CommandService(db=unavailable_database, settings=settings)
    backend = TelegramBackend(settings=settings, commands=commands)
    await backend.start()
    try:
        assert await say(api, "/top", lang="ru") == t("ru", "chat.db_unavailable")
        group = await say(api, "/subscribe all", chat=-700, user=7, kind="supergroup", lang="kk")
        assert group == t("kk", "chat.db_unavailable")
        before = len(api.messages_to(JOURNALIST))
        api.push_callback(chat_id=JOURNALIST, data="mute:1", language_code="ru")
        await api.wait_for(lambda: len(api.messages_to(JOURNALIST)) > before)
        assert api.messages_to(JOURNALIST)[-1].text == t("ru", "chat.db_unavailable")
        assert len(api.callback_answers) == 1
        assert _member_checks(api) == 0
    finally:
        await backend.stop()


async def test_plain_text_gets_a_hint_in_private_and_silence_in_groups(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    """Observed: plain "hello" answered "I don't know the command /hello"."""
    settings = make_settings(db_url, api)
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.start()
    try:
        hint = await say(api, "hello")
        assert "/help" in hint
        assert "/hello" not in hint
        api.push_message(chat_id=-700, user_id=7, text="hello all", chat_type="group")
        answer = await say(api, "/help", chat=-700, user=7, kind="group")
        assert "/top" in answer
        assert "hello" not in answer
        assert len(api.messages_to(-700)) == 1  # the plain text got no answer of its own
    finally:
        await backend.stop()
