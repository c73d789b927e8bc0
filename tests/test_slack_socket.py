"""Socket Mode: apps.connections.open on base_url, a loopback websocket, acks and answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from bot.chat.slack import SlackBackend
from bot.commands.service import CommandService
from bot.store.engine import Database
from tests.fakes.slack_api import APP_TOKEN, BOT_USER_ID, FakeSlack, slack_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    server.add_channel("C0NEWS", creator="U0CREATOR")
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def backend(fake: FakeSlack, database: Database) -> AsyncIterator[SlackBackend]:
    settings = slack_settings(fake, mode="socket")
    slack = SlackBackend(
        settings=settings, commands=CommandService(db=database, settings=settings), min_interval=0.0
    )
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


async def test_connects_through_apps_connections_open(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    await asyncio.wait_for(fake.socket_connected.wait(), 5)
    assert fake.called("apps.connections.open")
    assert backend.team_id == fake.team_id
    assert backend.bot_user_id == BOT_USER_ID
    assert APP_TOKEN not in json.dumps(fake.posts)


async def test_slash_command_is_acknowledged_then_answered(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    ack = await fake.send_envelope("slash_commands", fake.command_payload("help"))
    assert ack["envelope_id"].startswith("env-")
    await fake.wait_for(lambda: fake.responses)
    answer = fake.responses[0]
    assert answer["response_type"] == "in_channel"
    assert "subscribe" in json.dumps(answer["blocks"], ensure_ascii=False)


async def test_mention_over_socket_is_answered_in_the_channel(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER_ID}> help",
        "channel": "C0NEWS",
        "ts": "1.0",
    }
    await fake.send_envelope("events_api", fake.event_payload(event))
    await fake.wait_for(lambda: fake.posts)
    post = fake.posts[0]
    assert post["channel"] == "C0NEWS"
    assert post["unfurl_links"] is False
    assert post["unfurl_media"] is False


async def test_other_workspace_gets_a_refusal_in_the_ack(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    ack = await fake.send_envelope("slash_commands", fake.command_payload("help", team="T0OTHER"))
    assert "another Slack workspace" in json.dumps(ack.get("payload") or {})
    await asyncio.sleep(0.3)
    assert fake.responses == []
    assert fake.posts == []
