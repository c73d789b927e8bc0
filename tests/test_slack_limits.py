"""Slack's limits: a message is one chat.postMessage that Slack accepts, cut with a link.

Block Kit allows 3,000 characters in a section, 50 blocks, 75 in a button label, and
refuses a message whose blocks hold about 12,000 characters in all (msg_blocks_too_long)
or whose text is over 40,000 (msg_too_long). The fake Slack refuses the same (counting
UTF-16 code units, the stricter reading), so these tests fail if we ever send more.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.chat.slack import SlackBackend
from bot.chat.slack_blocks import MESSAGE_TEXT_MAX
from bot.commands.service import CommandService
from bot.reply import Button, ChatAddress, Paragraph, Reply, Span
from bot.store.engine import Database
from tests.fakes.slack_api import FakeSlack, slack_settings, utf16_len

URL = "https://t.me/chan_one/77"
TO = ChatAddress("slack", "C0NEWS", "T0TEAM")
TAIL = f"Telegram · chan_one · <{URL}|open the post>"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    server.add_channel("C0NEWS")
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def slack(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackBackend]:
    settings = slack_settings(fake, mode="socket")
    # Sending never opens the database: a path nobody creates is enough.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    backend = SlackBackend(
        settings=settings, commands=CommandService(db=db, settings=settings), min_interval=0.0
    )
    await backend.start()
    try:
        yield backend
    finally:
        await backend.stop()
        await db.close()


def alert(body: str, *, label: str = "🔕 Mute") -> Reply:
    """An alert as the renderer shapes it: who, what, the post's text, where with a link."""
    return Reply(
        blocks=(
            Paragraph(
                (
                    (Span("✏️ "), Span("Dana & Co", bold=True)),
                    (Span("A post was edited"),),
                    (Span(body, italic=True),),
                    (Span("Telegram · chan_one · "), Span("open the post", link=URL)),
                )
            ),
        ),
        buttons=((Button(label, "mute:1"), Button("📊 Chart", "chart:1")),),
        summary="Dana & Co: A post was edited",
    )


def sections(post: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in post["blocks"] if b["type"] == "section"]


# --- the fake refuses what Slack refuses ------------------------------------------------


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str) -> dict[str, Any]:
    button = {"type": "button", "text": {"type": "plain_text", "text": label}, "value": "v"}
    return {"type": "actions", "elements": [button]}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"text": "x" * 40_000}, None),
        ({"text": "x" * 40_001}, "msg_too_long"),
        pytest.param(
            {"text": ""},
            "no_text",
            marks=pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing"),
        ),
        ({"text": "t", "blocks": [_section("x" * 3000)]}, None),
        ({"text": "t", "blocks": [_section("x" * 3001)]}, "invalid_blocks"),
        ({"text": "t", "blocks": [_section("😀" * 1500)]}, None),
        ({"text": "t", "blocks": [_section("😀" * 1500 + "x")]}, "invalid_blocks"),
        ({"text": "t", "blocks": [_section("")]}, "invalid_blocks"),
        ({"text": "t", "blocks": [_section("x")] * 50}, None),
        ({"text": "t", "blocks": [_section("x")] * 51}, "invalid_blocks"),
        ({"text": "t", "blocks": [_section("x" * 3000)] * 4}, None),
        (
            {"text": "t", "blocks": [_section("x" * 3000)] * 4 + [_section("x")]},
            "msg_blocks_too_long",
        ),
        ({"text": "t", "blocks": [_button("b" * 75)]}, None),
        ({"text": "t", "blocks": [_button("b" * 76)]}, "invalid_blocks"),
        ({"text": "t", "blocks": [{"type": "mystery"}]}, "invalid_blocks"),
        ({"text": "t", "thread_ts": "not-a-ts"}, "invalid_thread_ts"),
    ],
)
async def test_the_fake_refuses_messages_as_slack_does(
    slack: SlackBackend, fake: FakeSlack, args: dict[str, Any], error: str | None
) -> None:
    if error is None:
        await slack.client.chat_postMessage(channel="C0NEWS", **args)
        assert len(fake.posts) == 1
        return
    with pytest.raises(SlackApiError) as caught:
        await slack.client.chat_postMessage(channel="C0NEWS", **args)
    assert caught.value.response["error"] == error
    assert fake.posts == []


# --- messages we send always fit ----------------------------------------------------------

BODIES = {
    "latin": "a",
    "words": "word ",
    "emoji": "😀",
    "entities": "&<>",  # each becomes &amp; &lt; &gt; (4-5 characters)
    "family emoji": "👨\u200d👩\u200d👧",
    "cyrillic": "Қазақстан ",
}


@pytest.mark.parametrize("unit", list(BODIES.values()), ids=list(BODIES))
@pytest.mark.parametrize("size", [2990, 3000, 3001, 9990, 10_000, 10_010, 40_000])
async def test_alert_is_one_message_slack_accepts(
    slack: SlackBackend, fake: FakeSlack, unit: str, size: int
) -> None:
    body = unit * max(1, size // utf16_len(unit))
    await slack.send(TO, alert(body))
    [post] = fake.posts  # the fake refused nothing, and it is one message
    texts = sections(post)
    assert all(utf16_len(t) <= 3000 for t in texts)
    assert sum(utf16_len(t) for t in texts) <= MESSAGE_TEXT_MAX
    assert len(post["blocks"]) <= 50
    assert [b["type"] for b in post["blocks"]][-1] == "actions"
    shown = "\n".join(texts)
    assert shown.startswith("✏️ *Dana &amp; Co*\nA post was edited\n")
    assert shown.endswith(TAIL)
    assert not re.search(r"&(?!(amp|lt|gt);)", shown.replace("&amp;", "")), "a cut entity"
    # Each piece of a long line carries its own markers: italics never run across sections.
    body_lines = [ln for t in texts for ln in t.split("\n") if ln.startswith("_")]
    assert body_lines
    assert all(ln.count("_") >= 2 for ln in body_lines)
    unescaped = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if f"<{URL}|…>" in shown:  # cut, and little room wasted
        assert sum(utf16_len(t) for t in texts) > MESSAGE_TEXT_MAX - 200
    else:  # not cut: the whole body arrived
        assert re.sub(r"[_\n]", "", unescaped).count(body.strip()) == 1


async def test_long_button_labels_and_plain_fallback_fit(
    slack: SlackBackend, fake: FakeSlack
) -> None:
    await slack.send(TO, alert("x", label="🔕" * 80))
    await slack.send(TO, alert("<&>" * 5000), plain=True)
    labels = [e["text"]["text"] for e in fake.posts[0]["blocks"][-1]["elements"]]
    assert all(utf16_len(label) <= 75 for label in labels)
    plain = fake.posts[1]
    assert "blocks" not in plain
    assert utf16_len(plain["text"]) <= 3000
    assert plain["text"].endswith(f"open the post ({URL})\n\n[🔕 Mute]  [📊 Chart]")


async def test_a_reply_with_many_paragraphs_is_cut_to_fifty_blocks(
    slack: SlackBackend, fake: FakeSlack
) -> None:
    many = Reply(blocks=tuple(Paragraph(((Span(f"paragraph {i}"),),)) for i in range(80)))
    await slack.send(TO, many)
    [post] = fake.posts
    assert len(post["blocks"]) <= 50
    assert json.dumps(post["blocks"]).count("paragraph") < 80
