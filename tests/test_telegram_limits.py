"""Telegram's length limits: an alert is one message the Bot API accepts, cut with a link.

Telegram counts a text's length in UTF-16 code units after parsing its entities (4096
for a message, 1024 for a caption). The fake Bot API counts the same way and answers
"message is too long" as Telegram does, so these tests fail if we ever send more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import ReplyParameters
from telegram import error as tg

from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.reply import Attachment, Button, ChatAddress, Paragraph, Reply, Span
from bot.store.engine import Database
from tests.fakes.telegram_api import FakeTelegramAPI, utf16_len

URL = "https://t.me/chan_one/77"
CHAT = 4242
TO = ChatAddress("telegram", str(CHAT))


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def telegram(api: FakeTelegramAPI, tmp_path: Path) -> AsyncIterator[TelegramBackend]:
    settings = load_settings(
        None, telegram={"token": api.token, "base_url": api.base_url, "send_timeout": "5s"}
    )
    # Sending never opens the database: a path nobody creates is enough.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    backend = TelegramBackend(settings=settings, commands=CommandService(db=db, settings=settings))
    await backend.app.initialize()
    yield backend
    await backend.app.shutdown()
    await db.close()


def alert(body: str, *, buttons: bool = True, reply_to: str | None = None) -> Reply:
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
        buttons=((Button("🔕 Mute", "mute:1"), Button("📊 Chart", "chart:1")),) if buttons else (),
        summary="Dana & Co: A post was edited",
        reply_to=reply_to,
    )


HEAD = "✏️ Dana & Co\nA post was edited\n"
TAIL = "\nTelegram · chan_one · open the post"


def shown(body: str) -> str:
    """What Telegram shows of the uncut alert (worked out here, not by the adapter)."""
    return f"{HEAD}{body}{TAIL}"


# --- the fake refuses what Telegram refuses ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("a" * 4096, None, None),
        ("a" * 4097, None, "message is too long"),
        ("😀" * 2048, None, None),  # two UTF-16 code units each
        ("😀" * 2048 + "a", None, "message is too long"),
        ("&amp;" * 4096, "HTML", None),  # an entity is one character once parsed
        ("&amp;" * 4097, "HTML", "message is too long"),
        ("<b>" + "x" * 4096 + "</b>", "HTML", None),  # tags are not text
        ("<s>" + "я" * 4097 + "</s>", "HTML", "message is too long"),
        ("<x>hi</x>", "HTML", "can't parse entities"),
        ("<b>hi", "HTML", "can't parse entities"),
        ("<b>hi</i>", "HTML", "can't parse entities"),
        ("<b> </b>", "HTML", "message text is empty"),
    ],
)
async def test_the_fake_refuses_texts_as_telegram_does(
    telegram: TelegramBackend, api: FakeTelegramAPI, text: str, parse_mode: str | None, error: str
) -> None:
    if error is None:
        await telegram.bot.send_message(CHAT, text, parse_mode=parse_mode)
        assert api.messages_to(CHAT)[0].text == text
        return
    with pytest.raises(tg.BadRequest, match=f"(?i){error}"):
        await telegram.bot.send_message(CHAT, text, parse_mode=parse_mode)
    assert api.messages_to(CHAT) == []


@pytest.mark.parametrize(("caption", "ok"), [("c" * 1024, True), ("😀" * 512 + "c", False)])
async def test_the_fake_refuses_long_captions(
    telegram: TelegramBackend, api: FakeTelegramAPI, caption: str, ok: bool
) -> None:
    send = telegram.bot.send_photo(CHAT, b"png", caption=caption)
    if ok:
        await send
    else:
        with pytest.raises(tg.BadRequest, match=r"(?i)message caption is too long"):
            await send
    assert len(api.messages_to(CHAT)) == int(ok)


async def test_the_fake_answers_replies_as_telegram_does(
    telegram: TelegramBackend, api: FakeTelegramAPI
) -> None:
    first = await telegram.bot.send_message(CHAT, "first")
    reply = await telegram.bot.send_message(
        CHAT, "second", reply_parameters=ReplyParameters(message_id=first.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == first.message_id
    api.delete_message(CHAT, first.message_id)
    with pytest.raises(tg.BadRequest, match=r"(?i)message to be replied not found"):
        await telegram.bot.send_message(
            CHAT, "third", reply_parameters=ReplyParameters(message_id=first.message_id)
        )
    lenient = ReplyParameters(message_id=first.message_id, allow_sending_without_reply=True)
    fourth = await telegram.bot.send_message(CHAT, "fourth", reply_parameters=lenient)
    assert fourth.reply_to_message is None
    assert [m.reply_to for m in api.messages_to(CHAT)] == [None, first.message_id, None]


# --- alerts are one message that fits ------------------------------------------------------

BODIES = {
    "latin": "a",
    "cyrillic words": "слово ",
    "emoji": "😀",
    "entities": "&<>",
    "family emoji": "👨\u200d👩\u200d👧",
    "combining accent": "e\u0301",
    "mixed": "Kaspi & 😀 <b> ",
}


def body_for(unit: str, total: int) -> str:
    """As many ``unit`` as bring the uncut alert to about ``total`` UTF-16 units."""
    room = total - utf16_len(shown(""))
    return unit * max(0, room // utf16_len(unit))


@pytest.mark.parametrize("unit", list(BODIES.values()), ids=list(BODIES))
@pytest.mark.parametrize("total", [4000, 4095, 4096, 4097, 4098, 5000, 12000, 40000])
async def test_alert_is_one_message_within_4096(
    telegram: TelegramBackend, api: FakeTelegramAPI, unit: str, total: int
) -> None:
    body = body_for(unit, total)
    whole = shown(body)
    await telegram.send(TO, alert(body))
    [message] = api.messages_to(CHAT)  # the fake refused nothing, and it is one message
    assert message.parse_mode == "HTML"
    assert utf16_len(message.shown) <= 4096
    assert len(message.buttons) == 2
    if utf16_len(whole) <= 4096:
        assert message.shown == whole
        return
    # Cut: the start and the where line stay, a "…" links to the post, little is wasted.
    assert message.shown.startswith(HEAD)
    assert message.shown.endswith("…" + TAIL)
    assert f'<a href="{URL}">…</a>' in message.text
    assert utf16_len(message.shown) >= 4096 - 60


@pytest.mark.parametrize("total", [4096, 4097, 9000])
async def test_plain_fallback_of_an_alert_is_one_message_too(
    telegram: TelegramBackend, api: FakeTelegramAPI, total: int
) -> None:
    body = body_for("&<😀 ", total)
    await telegram.send(TO, alert(body), plain=True)
    [message] = api.messages_to(CHAT)
    assert message.parse_mode is None
    assert utf16_len(message.text) <= 4096
    assert message.text.endswith("open the post (https://t.me/chan_one/77)")


async def test_long_follow_up_stays_one_reply(
    telegram: TelegramBackend, api: FakeTelegramAPI
) -> None:
    first = await telegram.bot.send_message(CHAT, "the new_post alert")
    await telegram.send(TO, alert("слово " * 3000, buttons=False, reply_to=str(first.message_id)))
    [_, message] = api.messages_to(CHAT)
    assert message.reply_to == first.message_id
    assert message.params["reply_parameters"] == {
        "message_id": first.message_id,
        "allow_sending_without_reply": True,
    }
    assert utf16_len(message.shown) <= 4096


async def test_a_long_reply_without_buttons_still_takes_several_messages(
    telegram: TelegramBackend, api: FakeTelegramAPI
) -> None:
    lines = tuple((Span(f"{i} " + "я&<😀" * 30),) for i in range(300))
    await telegram.send(TO, Reply(blocks=(Paragraph(lines),)))
    messages = api.messages_to(CHAT)
    assert len(messages) > 2
    assert "".join(m.shown for m in messages).count("😀") == 300 * 30


@pytest.mark.parametrize(("total", "as_caption"), [(1024, True), (1025, False)])
async def test_a_picture_keeps_its_text_as_caption_only_within_1024(
    telegram: TelegramBackend, api: FakeTelegramAPI, total: int, as_caption: bool
) -> None:
    text = "&" * (total - 2) + "😀"
    reply = Reply(
        blocks=(Paragraph(((Span(text),),)),),
        attachment=Attachment(b"\x89PNG", "chart.png", "image/png"),
    )
    await telegram.send(TO, reply)
    messages = api.messages_to(CHAT)
    assert messages[0].method == "sendPhoto"
    if as_caption:
        assert [m.shown for m in messages] == [text]
    else:
        assert messages[0].text == ""
        assert [m.shown for m in messages[1:]] == [text]
