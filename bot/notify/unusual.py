"""The line an unusual follower alert carries: how far the jump is from the usual growth.

It states a measure ("about 12× its usual daily growth"), never a cause: bought
followers, a viral post and a mention on television all look the same from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.i18n import format_number, normalize_locale, t
from bot.reply import Line, Span

_DECIMAL = {"ru": ",", "kk": ",", "en": "."}


def ratio_text(ratio: float, locale: str | None) -> str:
    """A ratio as people say it: ``12`` from 10 up or when whole, else ``3,5`` (ru, kk)."""
    if ratio >= 10 or float(ratio).is_integer():
        return format_number(round(ratio), locale)
    return f"{ratio:.1f}".replace(".", _DECIMAL[normalize_locale(locale)])


def _number(payload: Mapping[str, Any], key: str) -> float | None:
    value = payload.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _days(payload: Mapping[str, Any], occurred_at: datetime) -> float:
    since = payload.get("recent_since")
    if not isinstance(since, str):
        return 1.0
    try:
        start = datetime.fromisoformat(since)
    except ValueError:
        return 1.0
    if start.tzinfo is None:
        return 1.0
    return max(1.0, (occurred_at - start).total_seconds() / 86400)


def unusual_line(
    kind: str, payload: Mapping[str, Any], occurred_at: datetime, locale: str
) -> Line | None:
    """The "⚡ Unusual" line of a ``followers_up``/``followers_down`` alert, when marked."""
    if kind not in ("followers_up", "followers_down"):
        return None
    ratio = _number(payload, "ratio")
    usual = _number(payload, "usual_daily")
    if payload.get("unusual") is not True or ratio is None or usual is None:
        return None
    days = _days(payload, occurred_at)
    direction = "up" if kind == "followers_up" else "down"
    key = f"anomalies.alert.{direction}" + ("_days" if days >= 1.5 else "")
    text = t(
        locale,
        key,
        ratio=ratio_text(ratio, locale),
        days=format_number(round(days), locale),
        usual=format_number(round(usual), locale),
        baseline=format_number(int(_number(payload, "baseline_days") or 0), locale),
    )
    return (Span(text),)
