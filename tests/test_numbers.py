"""Displayed counts: abbreviations, localised suffixes and every kind of space."""

from __future__ import annotations

import pytest

from bot.domain import Count
from bot.errors import ParseError
from bot.sources.numbers import parse_count, parse_int

CASES = [
    ("912", Count(912, True)),
    ("0", Count(0, True)),
    ("48 213", Count(48213, True)),
    ("48\u00a0213", Count(48213, True)),
    ("1\u202f207", Count(1207, True)),
    ("1 234 567", Count(1234567, True)),
    ("1,234,567", Count(1234567, True)),
    ("12,345", Count(12345, True)),
    ("1.2K", Count(1200, False, 100)),
    ("1.12K", Count(1120, False, 10)),
    ("48.2K", Count(48200, False, 100)),
    ("5.09K", Count(5090, False, 10)),
    ("6.0K", Count(6000, False, 100)),
    ("110.0K", Count(110000, False, 100)),
    ("11K", Count(11000, False, 1000)),
    ("987K", Count(987000, False, 1000)),
    ("12k", Count(12000, False, 1000)),
    ("1.23M", Count(1230000, False, 10000)),
    ("1.1M", Count(1100000, False, 100000)),
    ("2B", Count(2_000_000_000, False, 1_000_000_000)),
    ("35 тыс.", Count(35000, False, 1000)),
    ("35\u00a0тыс.", Count(35000, False, 1000)),
    ("1,2 млн", Count(1200000, False, 100000)),
    ("1,2\u00a0млн.", Count(1200000, False, 100000)),
    ("12,5 тыс", Count(12500, False, 100)),
    ("3 млрд", Count(3_000_000_000, False, 1_000_000_000)),
    ("  7 ", Count(7, True)),
    # Read on the short paths (bare digits, Telegram's "48.2K"): the same as the long one.
    ("007", Count(7, True)),
    ("\u0661\u0662\u0663", Count(123, True)),
    ("0.5k", Count(500, False, 100)),
    ("9.87K", Count(9870, False, 10)),
    ("12.3K\n", Count(12300, False, 100)),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_count(text: str, expected: Count) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "abc", "1.2.3K", "12 apples", "1,5", "K", "1.5", "--", "1e6", "½K"]
)
def test_unreadable_counts_raise(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_count(text)
    assert caught.value.reason == "bad_number"


def test_parse_int_is_forgiving() -> None:
    assert parse_int("12.3K") == 12300
    assert parse_int("0042") == 42
    assert parse_int("\u0661\u0662") == 12
    assert parse_int(None) is None
    assert parse_int("n/a") is None
