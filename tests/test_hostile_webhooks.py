"""A Telegram webhook called by someone who is not Telegram: refused, nothing runs.

Adds to tests/test_telegram_e2e.py (missing and wrong secret) the near-misses of the
secret, a huge body and broken JSON; none of them may reach the command layer. (A
trailing space is no near-miss: HTTP strips it from header values.)
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.store.engine import Database
from bot.store.models import AuditLog, Chat, Subscription
from tests.crash_summary import Tally
from tests.fakes.telegram_api import FakeTelegramAPI

SECRET = "s3cret-Token_1"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def webhook(database: Database) -> AsyncIterator[tuple[FakeTelegramAPI, str]]:
    api = FakeTelegramAPI()
    await api.start()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    settings = load_settings(
        None,
        telegram={
            "token": api.token,
            "base_url": api.base_url,
            "mode": "webhook",
            "webhook_url": url,
            "webhook_secret": SECRET,
            "webhook_port": port,
            "send_timeout": "2s",
        },
    )
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.start()
    try:
        yield api, url
    finally:
        await backend.stop()
        await api.close()


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, "update", 403),
        ({HEADER: ""}, "update", 403),
        ({HEADER: SECRET[:-1]}, "update", 403),
        ({HEADER: SECRET.upper()}, "update", 403),
        ({HEADER: SECRET + SECRET}, "update", 403),
        ({HEADER.lower(): "wrong"}, "update", 403),
        ({HEADER: SECRET}, "{not json", 400),
        ({HEADER: SECRET}, "[]", 400),
        ({HEADER: SECRET}, "huge", 413),
    ],
    ids=[
        "none",
        "empty",
        "prefix",
        "upper_case",
        "doubled",
        "wrong",
        "broken_json",
        "not_an_object",
        "huge_body",
    ],
)
async def test_webhook_refuses_forged_calls(
    headers: dict[str, str],
    body: str,
    status: int,
    webhook: tuple[FakeTelegramAPI, str],
    database: Database,
    crash_tally: Tally,
) -> None:
    api, url = webhook
    update = api.push_message(chat_id=99, text="/subscribe all")
    data = {
        "update": json.dumps(update),
        "huge": json.dumps({**update, "pad": "x" * 5_000_000}),
    }.get(body, body)
    async with aiohttp.ClientSession() as http, http.post(url, data=data, headers=headers) as resp:
        assert resp.status == status
    sent_before = len(api.sent)
    async with database.sessions() as session:
        chats = await session.scalar(select(func.count()).select_from(Chat))
        subs = await session.scalar(select(func.count()).select_from(Subscription))
        audit = await session.scalar(select(func.count()).select_from(AuditLog))
    assert (chats, subs, audit) == (0, 0, 0)
    assert api.messages_to(99) == []
    assert len(api.sent) == sent_before
    crash_tally.refusal()
