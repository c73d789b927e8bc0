"""/evidence through the real chat adapters: the fake Bot API and the fake Slack Web API
receive one ZIP document holding the JSON and HTML files, whose SHA-256 values match the
stored fragments."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.actions import evidence_action
from bot.chat.slack import SlackBackend
from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.store.engine import Database
from tests.fakes.slack_api import FakeSlack, sign, slack_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_evidence import HOSTILE, LINK, NEW_RAW, seed, sha

CHAT = 4242


def _zip_json(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [
            "evidence-telegram-137.html",
            "evidence-telegram-137.json",
        ]
        assert b"<script" not in archive.read("evidence-telegram-137.html")
        return dict(json.loads(archive.read("evidence-telegram-137.json")))


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


async def test_telegram_sends_one_document_for_a_command_and_for_the_button(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> None:
    seeded = await seed(database)
    settings = load_settings(
        None,
        database={"url": db_url},
        telegram={"token": api.token, "base_url": api.base_url, "poll_timeout": "1s",
                  "send_timeout": "3s"},
    )  # fmt: skip
    commands = CommandService(db=database, settings=settings)
    backend = TelegramBackend(settings=settings, commands=commands)
    await backend.start()
    try:
        api.push_message(chat_id=CHAT, text=f"/evidence {LINK}", language_code="en")
        await api.wait_for(lambda: any(m.method == "sendDocument" for m in api.sent))
        api.push_callback(chat_id=CHAT, data=evidence_action(seeded.events["post_edited"]))
        await api.wait_for(
            lambda: sum(m.method == "sendDocument" for m in api.sent) == 2, timeout=20
        )
    finally:
        await backend.stop()
    documents = [m for m in api.messages_to(CHAT) if m.method == "sendDocument"]
    assert len(documents) == 2
    for sent in documents:
        assert "Evidence: Bagdat Musin, Telegram, post 137" in sent.text
        assert sent.parse_mode == "HTML"
        doc = _zip_json(sent.files["document"])
        assert [v["raw_sha256"] for v in doc["versions"]] == [sha(HOSTILE), sha(NEW_RAW)]
        assert [v["raw_check"] for v in doc["versions"]] == ["ok", "ok"]


async def test_slack_uploads_the_archive_for_a_slash_command(database: Database) -> None:
    await seed(database)
    fake = await FakeSlack().start()
    fake.add_channel("C0NEWS", creator="U0CREATOR")
    settings = slack_settings(fake, mode="http")
    settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": str(database.url)})}
    )
    commands = CommandService(db=database, settings=settings)
    slack = SlackBackend(
        settings=settings, commands=commands, host="127.0.0.1", port=0, min_interval=0.0
    )
    await slack.start()
    try:
        body = urlencode(fake.command_payload(f"evidence {LINK}", channel="C0NEWS"))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        url = f"http://127.0.0.1:{slack.bound_port}/slack/events"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body.encode(), headers=headers) as resp,
        ):
            assert resp.status == 200
        await fake.wait_for(lambda: fake.called("files.completeUploadExternal"), timeout=20)
        await asyncio.sleep(0.05)
    finally:
        await slack.stop()
        await fake.close()
    upload = next(u for u in fake.uploads.values() if "channel" in u)
    assert upload["channel"] == "C0NEWS"
    doc = _zip_json(upload["data"])
    assert doc["post"]["post_id"] == "137"
    assert [v["raw_sha256_computed"] for v in doc["versions"]] == [sha(HOSTILE), sha(NEW_RAW)]
    assert any("Bagdat Musin" in str(r.get("text")) for r in fake.responses)
