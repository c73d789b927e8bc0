"""Parse displayed counts: ``48 213``, ``48.2K``, ``1,2 млн``, ``35 тыс.``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.domain import Count
from bot.errors import ParseError

# Every space-like separator pages put between digit groups.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007\u200a']+")
_SUFFIXES: dict[str, int] = {
    "k": 1_000,
    "к": 1_000,
    "тыс": 1_000,
    "мың": 1_000,
    "m": 1_000_000,
    "м": 1_000_000,
    "mln": 1_000_000,
    "млн": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "млрд": 1_000_000_000,
}
_NUMBER = re.compile(r"^(?P<num>\d+(?:[.,]\d+)*)(?P<suffix>[^\d.,]*)$")
_GROUPED = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")


# What pages show most: bare digits, and Telegram's "48.2K"; read without normalising,
# as the general path would read them.
_SHORT = re.compile(r"([0-9]+(?:\.[0-9]+)?)([kKmMbB])")


def parse_count(text: str) -> Count:
    """Parse a displayed count; abbreviated values come back with ``exact=False`` and a margin."""
    if text.isdecimal():
        return Count(value=int(text), exact=True)
    if short := _SHORT.fullmatch(text):
        return _scaled(short.group(1), short.group(2).lower(), text)
    compact = _SPACES.sub("", text).strip().rstrip(".").lower()
    match = _NUMBER.match(compact)
    if not match:
        raise ParseError(f"not a count: {text!r}", reason="bad_number")
    number, suffix = match.group("num"), match.group("suffix").rstrip(".")
    if not suffix:
        return _plain(number, text)
    return _scaled(number, suffix, text)


def _scaled(number: str, suffix: str, text: str) -> Count:
    scale = _SUFFIXES.get(suffix)
    if scale is None:
        raise ParseError(f"unknown count suffix in {text!r}", reason="bad_number")
    if number.count(".") + number.count(",") > 1:
        raise ParseError(f"not a count: {text!r}", reason="bad_number")
    try:
        value = Decimal(number.replace(",", "."))
    except InvalidOperation as exc:
        raise ParseError(f"not a count: {text!r}", reason="bad_number") from exc
    decimals = len(number.partition(",")[2] or number.partition(".")[2])
    # One unit of the last shown digit covers both rounding and truncation.
    margin = scale // (10**decimals) if decimals else scale
    return Count(value=int(value * scale), exact=False, margin=max(margin, 1))


def _plain(number: str, text: str) -> Count:
    if number.isdigit():
        return Count(value=int(number), exact=True)
    if _GROUPED.match(number):
        return Count(value=int(re.sub(r"[.,]", "", number)), exact=True)
    raise ParseError(f"not a whole count: {text!r}", reason="bad_number")


def parse_int(text: str | None) -> int | None:
    """Parse a count and keep only its value; None when absent or unreadable."""
    if text is None or not text.strip():
        return None
    if text.isdecimal():  # parse_count's first case, without building its Count
        return int(text)
    try:
        return parse_count(text).value
    except ParseError:
        return None


def count_of(value: object) -> int | None:
    """A JSON count: a non-negative integer (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def count_or_digits(value: object) -> int | None:
    """A JSON count given as an integer or a string of digits (YouTube), else None."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return count_of(value)
