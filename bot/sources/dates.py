"""Dates written in other languages: month names of ru, kk, uk, pt, es, de, fr and en.

Government sites of the region serve feeds dated ``Пн, 24 сен 2018 19:42:40 +0600`` or
``Сс, 03 қаз 2023 10:00:00 +0600``; feedparser knows English names only and drops such a
date, so the post would look undated. :func:`english_date` rewrites the month to English
(and drops the weekday, which RFC 822 makes optional) so the standard parser reads it.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_tz

_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Month -> the beginnings of its names, in every form pages print (nominative, genitive,
#: abbreviated, with or without a dot): a word names month N when it starts with one of them.
#: Each stem is long enough to be unambiguous across all the languages listed.
MONTH_STEMS: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "en": ("jan",),
        "ru": ("янв",),
        "kk": ("қаң",),
        "uk": ("січ",),
        "pt": ("jan",),
        "es": ("ene",),
        "de": ("jan", "jän"),
        "fr": ("janv", "jan"),
    },
    2: {
        "en": ("feb",),
        "ru": ("фев",),
        "kk": ("ақп",),
        "uk": ("лют",),
        "pt": ("fev",),
        "es": ("feb",),
        "de": ("feb",),
        "fr": ("févr", "fév", "fev"),
    },
    3: {
        "en": ("mar",),
        "ru": ("мар",),
        "kk": ("нау",),
        "uk": ("бер",),
        "pt": ("mar",),
        "es": ("mar",),
        "de": ("mär", "mrz", "mae"),
        "fr": ("mars",),
    },
    4: {
        "en": ("apr",),
        "ru": ("апр",),
        "kk": ("сәу",),
        "uk": ("кві",),
        "pt": ("abr",),
        "es": ("abr",),
        "de": ("apr",),
        "fr": ("avr",),
    },
    5: {
        "en": ("may",),
        "ru": ("май", "мая"),
        "kk": ("мам",),
        "uk": ("тра",),
        "pt": ("mai",),
        "es": ("may",),
        "de": ("mai",),
        "fr": ("mai",),
    },
    6: {
        "en": ("jun",),
        "ru": ("июн",),
        "kk": ("мау",),
        "uk": ("чер",),
        "pt": ("jun",),
        "es": ("jun",),
        "de": ("jun",),
        "fr": ("juin",),
    },
    7: {
        "en": ("jul",),
        "ru": ("июл",),
        "kk": ("шіл",),
        "uk": ("лип",),
        "pt": ("jul",),
        "es": ("jul",),
        "de": ("jul",),
        "fr": ("juil",),
    },
    8: {
        "en": ("aug",),
        "ru": ("авг",),
        "kk": ("там",),
        "uk": ("сер",),
        "pt": ("ago",),
        "es": ("ago",),
        "de": ("aug",),
        "fr": ("août", "aoû", "aou"),
    },
    9: {
        "en": ("sep",),
        "ru": ("сен",),
        "kk": ("қыр",),
        "uk": ("вер",),
        "pt": ("set",),
        "es": ("sep", "set"),
        "de": ("sep",),
        "fr": ("sep",),
    },
    10: {
        "en": ("oct",),
        "ru": ("окт",),
        "kk": ("қаз",),
        "uk": ("жов",),
        "pt": ("out",),
        "es": ("oct",),
        "de": ("okt",),
        "fr": ("oct",),
    },
    11: {
        "en": ("nov",),
        "ru": ("ноя",),
        "kk": ("қар",),
        "uk": ("лис",),
        "pt": ("nov",),
        "es": ("nov",),
        "de": ("nov",),
        "fr": ("nov",),
    },
    12: {
        "en": ("dec",),
        "ru": ("дек",),
        "kk": ("жел",),
        "uk": ("гру",),
        "pt": ("dez",),
        "es": ("dic",),
        "de": ("dez",),
        "fr": ("déc", "dec"),
    },
}
_STEMS: tuple[tuple[str, int], ...] = tuple(
    sorted(
        {
            (stem, month)
            for month, names in MONTH_STEMS.items()
            for s in names.values()
            for stem in s
        },
        key=lambda pair: -len(pair[0]),
    )
)
_ENGLISH_DAYS = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
# [weekday[.],] day [de] month[.] [de] year rest — the RFC 822 shape in any language.
_DATE = re.compile(
    r"^\s*(?:(?P<wday>[^\W\d_]+)\.?\s*,?\s+)?(?P<day>\d{1,2})\.?\s+(?:de\s+)?"
    r"(?P<month>[^\W\d_]+)\.?,?\s+(?:de\s+)?(?P<year>\d{4}|\d{2})(?:\s*(?:г|ж)\.)?(?P<rest>.*)$",
    re.IGNORECASE,
)


def month_number(word: str) -> int | None:
    """The month a word names in any listed language ("сентября", "қаз", "Set." -> 9, 10, 9)."""
    key = word.strip().rstrip(".").casefold()
    if len(key) < 3:
        return None
    return next((month for stem, month in _STEMS if key.startswith(stem)), None)


def english_date(value: str) -> str | None:
    """``value`` with its month in English and a foreign weekday dropped; None if already so."""
    match = _DATE.match(value)
    if match is None:
        return None
    month = month_number(match["month"])
    if month is None:
        return None
    wday = (match["wday"] or "").casefold()
    foreign_day = bool(wday) and wday[:3] not in _ENGLISH_DAYS
    if match["month"][:3].casefold() == _EN[month - 1].casefold() and not foreign_day:
        return None  # plain English: the standard parsers read it as is
    return f"{match['day']} {_EN[month - 1]} {match['year']}{match['rest']}".strip()


def parse_localized(value: str) -> datetime | None:
    """An RFC 822 date with a month name in any listed language, as aware UTC (None if not)."""
    english = english_date(value)
    parsed = parsedate_tz(english) if english else None
    if parsed is None:
        return None
    offset = parsed[9] or 0  # no zone given: UTC, as feedparser reads RFC 822 dates
    try:
        local = datetime(*parsed[:6], tzinfo=UTC)  # the wall time; its offset follows
    except ValueError:  # "31 фев 2026": no such day
        return None
    return datetime.fromtimestamp(local.timestamp() - offset, UTC)


def feedparser_handler(value: str) -> time.struct_time | None:
    """A ``feedparser.registerDateHandler`` handler: localized dates as UTC time tuples."""
    parsed = parse_localized(value)
    return parsed.utctimetuple() if parsed is not None else None
