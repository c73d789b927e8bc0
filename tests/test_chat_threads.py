"""Replies at the adapters: what ``Reply.reply_to`` becomes on Telegram and on Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chat.slack import SlackBackend
from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.reply import Attachment, ChatAddress, Reply
from bot.store.engine import Database
from tests.fakes.slack_api import FakeSlack, slack_settings
from tests.fakes.telegram_api import FakeTelegramAPI

CHAT = 777
TG = ChatAddress("telegram", str(CHAT))
SLACK = ChatAddress("slack", "C0NEWS", "T0TEAM")


@pytest.fixture
async def unused_db(tmp_path: Path) -> AsyncIterator[Database]:
    # Sending never opens the database: a path nobody creates is enough.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    yield db
    await db.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def telegram(api: FakeTelegramAPI, unused_db: Database) -> AsyncIterator[TelegramBackend]:
    settings = load_settings(None, telegram={"token": api.token, "base_url": api.base_url})
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=unused_db, settings=settings)
    )
    await backend.app.initialize()
    yield backend
    await backend.app.shutdown()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    server.add_channel("C0NEWS")
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def slack(fake: FakeSlack, unused_db: Database) -> AsyncIterator[SlackBackend]:
    settings = slack_settings(fake, mode="socket")
    backend = SlackBackend(
        settings=settings, commands=CommandService(db=unused_db, settings=settings), min_interval=0
    )
    await backend.start()
    try:
        yield backend
    finally:
        await backend.stop()


def follow_up(reply_to: str | None) -> Reply:
    return Reply(blocks=Reply.text("A post was edited").blocks, reply_to=reply_to)


@pytest.mark.parametrize(("reply_to", "replied"), [("1", True), ("x1", False), ("", False)])
async def test_telegram_replies_only_to_a_message_id(
    telegram: TelegramBackend, api: FakeTelegramAPI, reply_to: str, replied: bool
) -> None:
    await telegram.bot.send_message(CHAT, "the alert")  # message 1
    await telegram.send(TG, follow_up(reply_to))
    message = api.messages_to(CHAT)[-1]
    assert (message.reply_to == 1) is replied
    assert ("reply_parameters" in message.params) is replied


async def test_telegram_refusing_the_reply_sends_the_follow_up_anyway(
    telegram: TelegramBackend, api: FakeTelegramAPI
) -> None:
    await telegram.bot.send_message(CHAT, "the alert")
    api.fail("reply_not_found", chat_id=CHAT)
    result = await telegram.send(TG, follow_up("1"))
    [_, message] = api.messages_to(CHAT)
    assert "reply_parameters" not in message.params
    assert result.message_id == str(message.message_id)


async def test_telegram_files_reply_too(telegram: TelegramBackend, api: FakeTelegramAPI) -> None:
    await telegram.bot.send_message(CHAT, "the alert")
    reply = Reply(
        attachment=Attachment(b"{}", "evidence.json", "application/json", "Evidence"),
        reply_to="1",
    )
    await telegram.send(TG, reply)
    [_, document] = api.messages_to(CHAT)
    assert document.method == "sendDocument"
    assert document.reply_to == 1


@pytest.mark.parametrize(
    ("reply_to", "threaded"), [("ts", True), ("F000123", False), ("12", False), (None, False)]
)
async def test_slack_threads_only_under_a_message_ts(
    slack: SlackBackend, fake: FakeSlack, reply_to: str | None, threaded: bool
) -> None:
    top = await slack.send(SLACK, Reply.text("the alert"))
    assert top.message_id is not None
    await slack.send(SLACK, follow_up(top.message_id if reply_to == "ts" else reply_to))
    _, post = fake.posts
    assert (fake.thread_of(post) == top.message_id) is threaded
    assert (post.get("reply_broadcast") is True) is threaded


async def test_slack_a_follow_up_of_a_reply_stays_in_the_first_thread(
    slack: SlackBackend, fake: FakeSlack
) -> None:
    top = await slack.send(SLACK, Reply.text("the alert"))
    reply = await slack.send(SLACK, follow_up(top.message_id))
    assert reply.message_id is not None
    await slack.send(SLACK, follow_up(reply.message_id))
    assert [fake.thread_of(p) for p in fake.posts] == [None, top.message_id, top.message_id]
