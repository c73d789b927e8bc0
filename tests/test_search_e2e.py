"""/search through the real chat adapters: the fake Telegram Bot API and the fake Slack API
receive the counts and the highlighted snippet; the paging, order and evidence buttons,
pressed there, answer with the next page, the other order and the post's evidence."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.chat.slack import SlackBackend
from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.store.engine import Database
from tests.fakes.slack_api import FakeSlack, slack_settings
from tests.fakes.telegram_api import FakeTelegramAPI, Sent
from tests.search_world import NOW, P, Seeded, _post, seed

CHAT = 4242
#: 12 more posts with "тариф": two pages of ten.
MORE = tuple(P(f"n{i}", "bekova_s", 20 + i, (f"Новый тариф номер {i}.",)) for i in range(12))


async def _world(database: Database) -> Seeded:
    world = await seed(database)
    async with database.engine.begin() as conn:
        for post in MORE:
            await _post(conn, world, post)
    return world


def _service(database: Database, settings: Settings) -> CommandService:
    return CommandService(db=database, settings=settings, services={"clock": lambda: NOW})


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


async def _press(api: FakeTelegramAPI, button: dict[str, Any]) -> Sent:
    before = len(api.messages_to(CHAT))
    api.push_callback(chat_id=CHAT, data=button["callback_data"])
    await api.wait_for(lambda: len(api.messages_to(CHAT)) > before, timeout=20)
    return api.messages_to(CHAT)[before]


def _button(sent: Sent, text: str) -> dict[str, Any]:
    return next(b for b in sent.buttons if b["text"] == text)


async def test_telegram_search_pages_reorders_and_sends_evidence(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    world = await _world(database)
    settings = load_settings(
        None,
        database={"url": db_url},
        telegram={"token": api.token, "base_url": api.base_url, "poll_timeout": "1s",
                  "send_timeout": "3s"},
    )  # fmt: skip
    backend = TelegramBackend(settings=settings, commands=_service(database, settings))
    await backend.start()
    try:
        api.push_message(chat_id=CHAT, text="/search тариф", language_code="en")
        await api.wait_for(lambda: bool(api.messages_to(CHAT)), timeout=20)
        first = api.messages_to(CHAT)[0]
        assert first.parse_mode == "HTML"
        assert "16 posts by 3 officials" in first.shown.replace("\u00a0", " ")
        assert "<b>Тарифы</b> на электроэнергию" in first.text  # the match highlighted
        assert "Page 1 of 2, newest first." in first.shown
        assert all(len(b["callback_data"].encode()) <= 64 for b in first.buttons)

        second = await _press(api, _button(first, "Older ▶"))
        assert "Page 2 of 2" in second.shown
        assert "11. " in second.shown
        assert "◀ Newer" in [b["text"] for b in second.buttons]

        ranked = await _press(api, _button(first, "⇅ By relevance"))
        assert "most relevant first" in ranked.shown

        evidence = _button(first, "🧾 1")
        assert evidence["callback_data"].startswith(("ev:", "cmd:/evidence "))
        proof = await _press(api, evidence)
    finally:
        await backend.stop()
    assert proof.method == "sendDocument"
    # The first hit is the newest: m1, which the detector announced.
    assert proof.shown.startswith("Evidence: Bagdat Musin, Telegram, post m1")
    assert evidence["callback_data"] == f"ev:{world.events['m1']}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    server.add_channel("C0NEWS", creator="U0CREATOR")
    try:
        yield server
    finally:
        await server.close()


def _slack_buttons(answer: dict[str, Any]) -> dict[str, str]:
    return {
        e["text"]["text"]: e["value"]
        for block in answer.get("blocks", [])
        if block.get("type") == "actions"
        for e in block["elements"]
    }


def _block_actions(fake: FakeSlack, value: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": fake.team_id, "domain": "newsroom"},
        "user": {"id": "U0ALICE", "team_id": fake.team_id},
        "api_app_id": "A0APP",
        "channel": {"id": "C0NEWS", "name": "news"},
        "container": {"type": "message", "channel_id": "C0NEWS", "message_ts": "1.0"},
        "trigger_id": "t1",
        "response_url": fake.response_url(),
        "actions": [{"type": "button", "action_id": "gw.0.0", "block_id": "gw.actions.0",
                     "value": value, "action_ts": "2.0"}],
    }  # fmt: skip


async def test_slack_search_pages_and_highlights(fake: FakeSlack, database: Database) -> None:
    await _world(database)
    settings = slack_settings(fake, mode="socket")
    slack = SlackBackend(settings=settings, commands=_service(database, settings), min_interval=0)
    await slack.start()
    try:
        await fake.send_envelope("slash_commands", fake.command_payload("search тариф"))
        await fake.wait_for(lambda: fake.responses, timeout=20)
        first = fake.responses[0]
        shown = json.dumps(first["blocks"], ensure_ascii=False).replace("\u00a0", " ")
        assert "16 posts by 3 officials" in shown
        assert "*Тарифы* на электроэнергию" in shown
        buttons = _slack_buttons(first)
        assert {"Older ▶", "⇅ By relevance", "🧾 1"} <= set(buttons)
        await fake.send_envelope("interactive", _block_actions(fake, buttons["Older ▶"]))
        await fake.wait_for(lambda: len(fake.responses) > 1, timeout=20)
        second = json.dumps(fake.responses[1]["blocks"], ensure_ascii=False)
    finally:
        await slack.stop()
    assert "Page 2 of 2" in second
    assert "◀ Newer" in second
