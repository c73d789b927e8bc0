"""Delivery: errors classified for the relay, pacing, uploads, and one alert end to end."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.chat.slack import SlackBackend
from bot.commands.service import CommandService
from bot.errors import (
    BadMarkup,
    ChatGone,
    DeliveryError,
    DeliveryRetryAfter,
    OutcomeUnknown,
    PermanentDeliveryError,
)
from bot.notify.relay import Relay
from bot.reply import Attachment, ChatAddress, Reply
from bot.store.engine import Database
from bot.store.fanout import load_fanout
from bot.store.models import Account, Chat, Delivery, EventRow, Official
from tests.fakes.slack_api import FakeSlack, slack_settings

POST = "Срочно <!channel> и <!here>: <@U0BOSS> <http://evil.example|kaspi.kz> & `x`"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    server.add_channel("C0NEWS", creator="U0CREATOR")
    server.add_channel("C0OTHER")
    try:
        yield server
    finally:
        await server.close()


async def _backend(fake: FakeSlack, database: Database, **kwargs: object) -> SlackBackend:
    settings = slack_settings(fake, mode="socket")
    slack = SlackBackend(
        settings=settings,
        commands=CommandService(db=database, settings=settings),
        **kwargs,  # type: ignore[arg-type]
    )
    await slack.start()
    return slack


@pytest.fixture
async def backend(fake: FakeSlack, database: Database) -> AsyncIterator[SlackBackend]:
    slack = await _backend(fake, database, min_interval=0.0)
    try:
        yield slack
    finally:
        await slack.stop()


def _to(channel: str, team: str | None = "T0TEAM") -> ChatAddress:
    return ChatAddress("slack", channel, team)


async def test_post_with_channel_ping_reaches_the_channel_without_pinging(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    result = await backend.send(_to("C0NEWS"), Reply.text("New post:", POST))
    assert result.message_id == fake.posts[0]["ts"]
    post = fake.posts[0]
    assert post["channel"] == "C0NEWS"
    assert post["unfurl_links"] is False
    assert post["link_names"] is False
    assert post["unfurl_media"] is False
    wire = json.dumps(post, ensure_ascii=False)
    for bad in ("<!channel>", "<!here>", "<@U0BOSS>", "<http://evil"):
        assert bad not in wire
    assert "&lt;!channel&gt;" in post["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in post["text"]


async def test_plain_mode_sends_escaped_text_without_blocks(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    await backend.send(_to("C0NEWS"), Reply.text(POST), plain=True)
    post = fake.posts[0]
    assert "blocks" not in post
    assert post["mrkdwn"] is False
    assert "<!" not in post["text"]
    assert "&lt;!channel&gt;" in post["text"]


@pytest.mark.parametrize(
    ("error", "status", "expected", "reason"),
    [
        ("not_in_channel", 200, ChatGone, "not_in_channel"),
        ("is_archived", 200, ChatGone, "is_archived"),
        ("channel_not_found", 200, ChatGone, "channel_not_found"),
        ("token_revoked", 200, ChatGone, "token_revoked"),
        ("account_inactive", 200, ChatGone, "account_inactive"),
        ("invalid_blocks", 200, BadMarkup, None),
        ("msg_too_long", 200, BadMarkup, None),
        ("internal_error", 200, DeliveryError, None),
        ("fatal_error", 500, DeliveryError, None),
        ("invalid_auth", 200, DeliveryError, None),
        ("restricted_action", 200, PermanentDeliveryError, None),
    ],
)
async def test_errors_are_classified(
    fake: FakeSlack,
    backend: SlackBackend,
    error: str,
    status: int,
    expected: type[DeliveryError],
    reason: str | None,
) -> None:
    fake.fail_next("chat.postMessage", error, status=status)
    with pytest.raises(DeliveryError) as caught:
        await backend.send(_to("C0NEWS"), Reply.text("hi"))
    assert type(caught.value) is expected
    if reason is not None:
        assert isinstance(caught.value, ChatGone)
        assert caught.value.reason == reason
    assert caught.value.retryable is (expected is DeliveryError or expected is BadMarkup)


async def test_real_channel_states_map_to_chat_gone(fake: FakeSlack, backend: SlackBackend) -> None:
    fake.channels["C0NEWS"].archived = True
    fake.channels["C0OTHER"].member = False
    cases = {"C0NEWS": "is_archived", "C0OTHER": "not_in_channel", "C0NONE": "channel_not_found"}
    for channel, reason in cases.items():
        with pytest.raises(ChatGone) as caught:
            await backend.send(_to(channel), Reply.text("hi"))
        assert caught.value.reason == reason
    with pytest.raises(ChatGone):
        await backend.send(_to("C0NEWS", team="T0ELSEWHERE"), Reply.text("hi"))


async def test_rate_limit_honours_retry_after(fake: FakeSlack, backend: SlackBackend) -> None:
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=7)
    with pytest.raises(DeliveryRetryAfter) as caught:
        await backend.send(_to("C0NEWS"), Reply.text("hi"))
    assert caught.value.retry_after == 7.0
    assert fake.posts == []


async def test_timeout_after_sending_is_outcome_unknown(
    fake: FakeSlack, database: Database
) -> None:
    slack = await _backend(fake, database, min_interval=0.0, timeout=1)
    try:
        fake.post_delay = 1.6
        with pytest.raises(OutcomeUnknown):
            await slack.send(_to("C0NEWS"), Reply.text("hi"))
    finally:
        fake.post_delay = 0.0
        await slack.stop()


async def test_unreachable_api_is_retryable_and_not_unknown(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend.client.base_url = f"http://127.0.0.1:{port}/api/"
    with pytest.raises(DeliveryError) as caught:
        await backend.send(_to("C0NEWS"), Reply.text("hi"))
    assert type(caught.value) is DeliveryError
    assert caught.value.retryable


async def test_about_one_message_per_second_per_channel(
    fake: FakeSlack, database: Database
) -> None:
    slack = await _backend(fake, database, min_interval=0.4)
    try:

        async def news() -> None:
            for index in range(3):
                await slack.send(_to("C0NEWS"), Reply.text(f"n{index}"))

        # Sent while C0NEWS waits for its slots: the other channel has its own pacing.
        await asyncio.gather(news(), slack.send(_to("C0OTHER"), Reply.text("other")))
    finally:
        await slack.stop()
    channels = [p["channel"] for p in fake.posts]
    assert sorted(channels) == ["C0NEWS", "C0NEWS", "C0NEWS", "C0OTHER"]
    assert channels.index("C0OTHER") <= 1  # before the second C0NEWS: it did not queue
    times = [p["received_at"] for p in fake.posts if p["channel"] == "C0NEWS"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # A lower bound only (the backend must wait); how long delivery takes is bench's.
    assert all(gap >= 0.35 for gap in gaps), gaps


async def test_chart_goes_through_the_three_upload_steps(
    fake: FakeSlack, backend: SlackBackend
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    reply = Reply(
        blocks=Reply.text("Followers of <!channel>").blocks,
        attachment=Attachment(png, "chart.png", "image/png", caption="Dana, 30d"),
    )
    result = await backend.send(_to("C0NEWS"), reply)
    methods = [name for name, _ in fake.calls]
    assert methods[-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    upload = fake.uploads[str(result.message_id)]
    assert upload["data"] == png
    assert upload["length"] == len(png)
    assert upload["channel"] == "C0NEWS"
    assert upload["title"] == "Dana, 30d"
    assert upload["initial_comment"] == "Followers of &lt;!channel&gt;"


async def _seed_event(database: Database, text: str) -> int:
    now = datetime.now(UTC)
    async with database.sessions() as session:
        official = Official(slug="dana", name="Dana Omarova", search_key="dana omarova")
        session.add(official)
        await session.flush()
        account = Account(official_id=official.id, platform="telegram", handle="dana_ch")
        session.add(account)
        await session.flush()
        event = EventRow(
            account_id=account.id,
            official_id=official.id,
            kind="new_post",
            payload={"text": text, "url": "https://t.me/dana_ch/5", "post_id": "5"},
            occurred_at=now,
            detected_at=now,
            dedup_key=f"new_post:{account.id}:5",
        )
        session.add(event)
        await session.commit()
        event_id, official_id = event.id, official.id
    async with database.engine.begin() as conn:
        fanout = await load_fanout(conn, [official_id], now=now)
        targets = fanout.targets(official_id, "new_post")
        await conn.execute(
            Delivery.__table__.insert(),
            [
                {"event_id": event_id, "chat_id": chat_id, "status": status}
                for chat_id, status in targets
            ],
        )
    return len(targets)


async def test_subscription_made_in_slack_receives_an_alert_exactly_once(
    fake: FakeSlack, backend: SlackBackend, database: Database
) -> None:
    await fake.send_envelope(
        "slash_commands", fake.command_payload("subscribe all", channel="C0NEWS", user="U0CREATOR")
    )
    await fake.wait_for(lambda: fake.responses)
    assert await _seed_event(database, POST) == 1

    relay = Relay(db=database, backends={"slack": backend}, settings=backend._settings)
    assert await relay.drain() == 1
    assert await relay.drain() == 0
    alerts = [p for p in fake.posts if p["channel"] == "C0NEWS"]
    assert len(alerts) == 1
    wire = json.dumps(alerts[0], ensure_ascii=False)
    assert "Dana Omarova" in wire
    assert "&lt;!channel&gt;" in wire
    assert "<!channel>" not in wire
    assert "<!here>" not in wire
    assert "<@U0BOSS>" not in wire
    async with database.sessions() as session:
        delivery = (await session.scalars(select(Delivery))).one()
    assert delivery.status == "sent"
    assert delivery.platform_message_id == alerts[0]["ts"]


async def test_archived_channel_is_deactivated_by_the_relay(
    fake: FakeSlack, backend: SlackBackend, database: Database
) -> None:
    await fake.send_envelope(
        "slash_commands", fake.command_payload("subscribe all", channel="C0NEWS", user="U0CREATOR")
    )
    await fake.wait_for(lambda: fake.responses)
    await _seed_event(database, "hello")
    fake.channels["C0NEWS"].archived = True
    relay = Relay(db=database, backends={"slack": backend}, settings=backend._settings)
    assert await relay.drain() == 0
    async with database.sessions() as session:
        chat = (await session.scalars(select(Chat))).one()
        delivery = (await session.scalars(select(Delivery))).one()
    assert chat.active is False
    assert chat.inactive_reason == "is_archived"
    assert delivery.status == "failed"
