"""The words of a ``visibility_changed`` alert: what the account's readers may see now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import Visibility
from bot.i18n import t
from bot.reply import Line, Span

_VALUES = frozenset(v.value for v in Visibility)


def visibility_what(payload: Mapping[str, Any], locale: str) -> str:
    """One sentence: hidden how, or visible again (after which kind of hiding)."""
    before, after = str(payload.get("before")), str(payload.get("after"))
    if after == Visibility.PUBLIC.value and before in _VALUES:
        return t(locale, f"alert.visibility.back.{before}")
    if after in _VALUES:
        return t(locale, f"alert.visibility.to.{after}")
    return t(locale, "alert.text.visibility_changed")


def visibility_details(payload: Mapping[str, Any], locale: str) -> list[Line]:
    """What the change means for govwatch's other alerts."""
    if payload.get("posts_hidden") is True:
        return [(Span(t(locale, "alert.visibility.hidden_note")),)]
    before = payload.get("before")
    if before in (Visibility.PREVIEW_OFF.value, Visibility.PRIVATE.value):
        return [(Span(t(locale, "alert.visibility.readable_note")),)]
    return []
