"""Feed and page dates written in other languages are read, not dropped (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sources.dates import english_date, month_number, parse_localized
from bot.sources.html import parse_page_date
from bot.sources.rss import parse_feed

DATA = Path(__file__).parent / "data" / "generic"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

# Month names as the languages write them (written out here, not taken from the parser's
# table): full, genitive where the language declines them, and the usual abbreviations.
MONTHS: dict[str, list[tuple[str, ...]]] = {
    "ru": [
        ("январь", "января", "янв", "янв."),
        ("февраль", "февраля", "фев", "февр."),
        ("март", "марта", "мар"),
        ("апрель", "апреля", "апр"),
        ("май", "мая"),
        ("июнь", "июня", "июн"),
        ("июль", "июля", "июл"),
        ("август", "августа", "авг"),
        ("сентябрь", "сентября", "сен", "сент."),
        ("октябрь", "октября", "окт"),
        ("ноябрь", "ноября", "ноя", "нояб."),
        ("декабрь", "декабря", "дек"),
    ],
    "kk": [
        ("қаңтар", "қаңтардың", "қаң"),
        ("ақпан", "ақп"),
        ("наурыз", "нау"),
        ("сәуір", "сәу"),
        ("мамыр", "мам"),
        ("маусым", "мау"),
        ("шілде", "шіл"),
        ("тамыз", "там"),
        ("қыркүйек", "қыр"),
        ("қазан", "қаз"),
        ("қараша", "қар"),
        ("желтоқсан", "жел"),
    ],
    "uk": [
        ("січень", "січня"),
        ("лютий", "лютого"),
        ("березень", "березня"),
        ("квітень", "квітня"),
        ("травень", "травня"),
        ("червень", "червня"),
        ("липень", "липня"),
        ("серпень", "серпня"),
        ("вересень", "вересня"),
        ("жовтень", "жовтня"),
        ("листопад", "листопада"),
        ("грудень", "грудня"),
    ],
    "pt": [
        ("janeiro", "jan"),
        ("fevereiro", "fev"),
        ("março", "mar"),
        ("abril", "abr"),
        ("maio", "mai"),
        ("junho", "jun"),
        ("julho", "jul"),
        ("agosto", "ago"),
        ("setembro", "set"),
        ("outubro", "out"),
        ("novembro", "nov"),
        ("dezembro", "dez"),
    ],
    "es": [
        ("enero", "ene"),
        ("febrero", "feb"),
        ("marzo", "mar"),
        ("abril", "abr"),
        ("mayo", "may"),
        ("junio", "jun"),
        ("julio", "jul"),
        ("agosto", "ago"),
        ("septiembre", "setiembre", "sep", "sept."),
        ("octubre", "oct"),
        ("noviembre", "nov"),
        ("diciembre", "dic"),
    ],
    "de": [
        ("Januar", "Jänner", "Jan."),
        ("Februar", "Feb."),
        ("März", "Mär", "Mrz", "Maerz"),
        ("April", "Apr."),
        ("Mai",),
        ("Juni", "Jun."),
        ("Juli", "Jul."),
        ("August", "Aug."),
        ("September", "Sep.", "Sept."),
        ("Oktober", "Okt."),
        ("November", "Nov."),
        ("Dezember", "Dez."),
    ],
    "fr": [
        ("janvier", "janv."),
        ("février", "févr.", "fevrier"),
        ("mars",),
        ("avril", "avr."),
        ("mai",),
        ("juin",),
        ("juillet", "juil."),
        ("août", "aout"),
        ("septembre", "sept."),
        ("octobre", "oct."),
        ("novembre", "nov."),
        ("décembre", "déc.", "decembre"),
    ],
    "en": [
        ("January", "Jan"),
        ("February", "Feb"),
        ("March", "Mar"),
        ("April", "Apr"),
        ("May",),
        ("June", "Jun"),
        ("July", "Jul"),
        ("August", "Aug"),
        ("September", "Sep", "Sept"),
        ("October", "Oct"),
        ("November", "Nov"),
        ("December", "Dec"),
    ],
}
MONTH_CASES = [
    (lang, word, number)
    for lang, months in MONTHS.items()
    for number, forms in enumerate(months, start=1)
    for word in forms
]


@pytest.mark.parametrize(("lang", "word", "number"), MONTH_CASES)
def test_month_names_of_every_language(lang: str, word: str, number: int) -> None:
    assert month_number(word) == number, (lang, word)
    assert month_number(word.upper()) == number, (lang, word)


@pytest.mark.parametrize("word", ["", "ma", "ju", "вчера", "сегодня", "today", "2026", "GMT"])
def test_words_that_name_no_month(word: str) -> None:
    assert month_number(word) is None


# (feed date, the instant it names)
FEED_DATES = [
    ("Пн, 24 сен 2018 19:42:40 +0600", datetime(2018, 9, 24, 13, 42, 40, tzinfo=UTC)),
    ("Сс, 03 қаз 2023 10:00:00 +0600", datetime(2023, 10, 3, 4, 0, tzinfo=UTC)),
    ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
    ("Чт, 07 мая 2026 11:58:00 +0500", datetime(2026, 5, 7, 6, 58, tzinfo=UTC)),
    ("Бс, 07 мам 2026 11:00:00 +0500", datetime(2026, 5, 7, 6, 0, tzinfo=UTC)),
    ("Жм, 15 желтоқсан 2023 18:30:00 +0600", datetime(2023, 12, 15, 12, 30, tzinfo=UTC)),
    ("Вт, 5 сентября 2023 08:00 +0500", datetime(2023, 9, 5, 3, 0, tzinfo=UTC)),
    ("Ср, 24 вересня 2025 10:00:00 +0300", datetime(2025, 9, 24, 7, 0, tzinfo=UTC)),
    ("Mi, 02 Okt 2024 10:00:00 +0200", datetime(2024, 10, 2, 8, 0, tzinfo=UTC)),
    ("mer., 03 déc. 2025 10:00:00 +0100", datetime(2025, 12, 3, 9, 0, tzinfo=UTC)),
    ("mié, 14 ene 2026 09:00:00 -0500", datetime(2026, 1, 14, 14, 0, tzinfo=UTC)),
    ("24 de setembro de 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
    ("07 мая 2026 г. 11:58 +0300", datetime(2026, 5, 7, 8, 58, tzinfo=UTC)),
    ("07 мая 2026 11:58:00 GMT", datetime(2026, 5, 7, 11, 58, tzinfo=UTC)),
    ("07 мая 2026 11:58:00", datetime(2026, 5, 7, 11, 58, tzinfo=UTC)),  # no zone: UTC
    ("Пн, 31 фев 2026 10:00:00 +0300", None),  # no such day
    ("Пн, 24 сен 2018", None),  # RFC 822 needs the time
    ("вчера в 19:42", None),
]


@pytest.mark.parametrize(("value", "expected"), FEED_DATES)
def test_localized_feed_dates(value: str, expected: datetime | None) -> None:
    assert parse_localized(value) == expected


@pytest.mark.parametrize(
    "value",
    ["Mon, 24 Sep 2018 19:42:40 +0600", "24 Sep 2018 19:42:40 GMT", "2018-09-24T19:42:40Z"],
)
def test_english_dates_are_left_to_the_standard_parsers(value: str) -> None:
    assert english_date(value) is None


def test_a_foreign_weekday_alone_is_dropped() -> None:
    assert english_date("Qua, 06 May 2026 08:15:00 -0300") == "06 May 2026 08:15:00 -0300"


# (saved feed, item guid, its date): every item of each feed keeps its date.
FEEDS = [
    ("olkhovsky_news_windows1251_ru_dates.rss", "olkh-news-1207", datetime(2026, 5, 7, 6, 58)),
    ("olkhovsky_news_windows1251_ru_dates.rss", "olkh-news-1206", datetime(2026, 5, 6, 4, 30)),
    ("olkhovsky_news_windows1251_ru_dates.rss", "olkh-news-1205", datetime(2023, 9, 5, 3, 0)),
    ("akmola_news_kk_dates.rss", "akm-kk-5521", datetime(2026, 5, 7, 6, 0)),
    ("akmola_news_kk_dates.rss", "akm-kk-5518", datetime(2023, 10, 3, 4, 0)),
    ("akmola_news_kk_dates.rss", "akm-kk-5510", datetime(2023, 12, 15, 12, 30)),
    ("porto_callow_noticias_pt_dates.rss", "pc-noticia-881", datetime(2018, 9, 24, 22, 42, 40)),
    ("porto_callow_noticias_pt_dates.rss", "pc-noticia-1190", datetime(2026, 5, 6, 11, 15)),
]


@pytest.mark.parametrize(("name", "guid", "when"), FEEDS)
def test_saved_feeds_with_localized_dates(name: str, guid: str, when: datetime) -> None:
    obs = parse_feed((DATA / name).read_bytes(), handle="https://gov.example/rss", fetched_at=NOW)
    posts = {p.id: p for p in obs.posts}
    assert posts[guid].published_at == when.replace(tzinfo=UTC)
    assert all(p.published_at is not None for p in obs.posts)


# Dates as HTML pages print them, in the operator's zone.
PAGE_DATES = [
    ("24 вересня 2025", datetime(2025, 9, 23, 21, 0, tzinfo=UTC)),
    ("3 қазан 2023, 10:00", datetime(2023, 10, 3, 7, 0, tzinfo=UTC)),
    ("15 желтоқсан 2023", datetime(2023, 12, 14, 21, 0, tzinfo=UTC)),
    ("24 Set. 2018", datetime(2018, 9, 23, 21, 0, tzinfo=UTC)),
    ("2 Okt 2024 08:30", datetime(2024, 10, 2, 5, 30, tzinfo=UTC)),
    ("14 janv. 2026", datetime(2026, 1, 13, 21, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "expected"), PAGE_DATES)
def test_page_dates_in_more_languages(text: str, expected: datetime) -> None:
    assert parse_page_date(text, tz=ZoneInfo("Europe/Moscow")) == expected
