"""python-telegram-bot errors map onto the delivery errors the relay acts on."""

from __future__ import annotations

import httpx
import pytest
from telegram import error as tg

from bot.actions import action_command
from bot.chat.telegram import chat_kind, map_error
from bot.errors import (
    BadMarkup,
    ChatGone,
    ChatMigrated,
    DeliveryError,
    DeliveryRetryAfter,
    OutcomeUnknown,
    PermanentDeliveryError,
)


def _caused(exc: tg.TelegramError, cause: BaseException) -> tg.TelegramError:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (tg.RetryAfter(7), DeliveryRetryAfter),
        (tg.ChatMigrated(-1001), ChatMigrated),
        (tg.Forbidden("Forbidden: bot was blocked by the user"), ChatGone),
        (tg.Forbidden("Forbidden: bot was kicked from the group chat"), ChatGone),
        (tg.BadRequest("Bad Request: chat not found"), ChatGone),
        (tg.BadRequest("Bad Request: can't parse entities: unclosed tag"), BadMarkup),
        (tg.BadRequest("Bad Request: message is too long"), PermanentDeliveryError),
        (tg.TimedOut(), OutcomeUnknown),
        (tg.NetworkError("httpx.RemoteProtocolError: peer closed"), OutcomeUnknown),
        (
            _caused(tg.NetworkError("httpx.ConnectError: refused"), httpx.ConnectError("x")),
            DeliveryError,
        ),
        (_caused(tg.TimedOut("Pool timeout"), httpx.PoolTimeout("x")), DeliveryError),
        (tg.NetworkError("Bad Gateway (502)"), DeliveryError),
        (tg.InvalidToken(), PermanentDeliveryError),
    ],
)
def test_map_error(error: tg.TelegramError, expected: type[DeliveryError]) -> None:
    mapped = map_error(error)
    assert type(mapped) is expected
    if isinstance(mapped, DeliveryRetryAfter):
        assert mapped.retry_after == 7
    if isinstance(mapped, ChatMigrated):
        assert mapped.new_chat_id == "-1001"


def test_chat_kinds_and_button_commands() -> None:
    assert [chat_kind(k) for k in ("private", "group", "supergroup", "channel")] == [
        "private",
        "group",
        "group",
        "channel",
    ]
    assert action_command("mute:3") == "/mute #3"
    assert action_command("unsub:s:9") == "/unsubscribe =9"
    assert action_command("unsub:o:4") == "/unsubscribe #4"
    assert action_command("cmd:/official #3") == "/official #3"
    assert action_command("bogus") == "/help"
