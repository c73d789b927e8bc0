"""Names sort as a reader of the locale expects: the ru and kk alphabets, then Latin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.commands.report_common import names_line
from bot.i18n import format_multiplier
from bot.names import CYRILLIC_ORDER, collation_key, name_sort_key, sorted_by_name
from bot.reports.scope import OfficialRow


@dataclass(frozen=True)
class _Person:
    name: str
    name_ru: str | None = None
    name_kk: str | None = None
    name_en: str | None = None


def _sorted(words: list[str], locale: str) -> list[str]:
    return sorted(words, key=lambda w: collation_key(w, locale))


@pytest.mark.parametrize(
    ("locale", "words", "expected"),
    [
        # Kazakh letters follow their base letters, in the Kazakh alphabet's order.
        ("kk", ["Бек", "Әлихан", "Алихан"], ["Алихан", "Әлихан", "Бек"]),
        ("kk", ["Ғабит", "Дана", "Гүл"], ["Гүл", "Ғабит", "Дана"]),
        ("kk", ["Лаура", "Қайрат", "Кенес"], ["Кенес", "Қайрат", "Лаура"]),
        ("kk", ["Оспан", "Нұр", "Ңа"], ["Нұр", "Ңа", "Оспан"]),
        ("kk", ["Пернe", "Өмір", "Орал"], ["Орал", "Өмір", "Пернe"]),
        ("kk", ["Үміт", "Ұлан", "Улан", "Фариза"], ["Улан", "Ұлан", "Үміт", "Фариза"]),
        ("kk", ["Цой", "Һәкім", "Хасен"], ["Хасен", "Һәкім", "Цой"]),
        ("kk", ["Ілияс", "Ыбырай", "Эльмира"], ["Ыбырай", "Ілияс", "Эльмира"]),
        # Kazakh gives Ё its own place after Е; Russian files it under Е.
        ("kk", ["Ёлка", "Ерлан"], ["Ерлан", "Ёлка"]),
        ("ru", ["Ерлан", "Ёлка"], ["Ёлка", "Ерлан"]),
        # The plain Russian alphabet, not code points ("Ё" is U+0401, before "А").
        ("ru", ["Яков", "Ёж", "Анна", "Жанна"], ["Анна", "Ёж", "Жанна", "Яков"]),
        ("ru", ["мамин", "Мусин", "Мамин"], ["Мамин", "мамин", "Мусин"]),
        # Cyrillic first for ru and kk readers, Latin first for en readers.
        ("ru", ["Zhanna", "Аскар", "Abai"], ["Аскар", "Abai", "Zhanna"]),
        ("kk", ["Zhanna", "Аскар"], ["Аскар", "Zhanna"]),
        ("en", ["Аскар", "Zhanna", "Abai"], ["Abai", "Zhanna", "Аскар"]),
        # Words compare one by one; accents and punctuation do not change the letter.
        ("ru", ["Аскарбек", "Аскар Мамин"], ["Аскар Мамин", "Аскарбек"]),
        ("en", ["Émile", "Edgar", "Fred"], ["Edgar", "Émile", "Fred"]),
        ("en", ["O'Neil", "Oman", "Olsen"], ["Olsen", "Oman", "O'Neil"]),
        ("en", ["b2", "b10", "a"], ["a", "b10", "b2"]),
    ],
)
def test_collation_table(locale: str, words: list[str], expected: list[str]) -> None:
    assert _sorted(words, locale) == expected
    assert _sorted(list(reversed(words)), locale) == expected  # the input order never matters


def test_the_alphabet_table_is_the_42_letters_of_kazakh() -> None:
    assert len(CYRILLIC_ORDER) == len(set(CYRILLIC_ORDER)) == 42
    russian = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    assert [ch for ch in CYRILLIC_ORDER if ch in russian] == list(russian)


def test_equal_letters_still_sort_the_same_way_every_time() -> None:
    assert collation_key("Мамин", "ru") != collation_key("мамин", "ru")
    assert collation_key("Мамин", "ru")[0] == collation_key("мамин", "ru")[0]


def test_russian_lists_sort_by_the_russian_names_not_the_english_ones() -> None:
    """Observed: a Russian list came out in the order of the English names."""
    people = [
        _Person("Yerlan Turgumbayev", name_ru="Ерлан Тургумбаев", name_kk="Ерлан Тұрғымбаев"),
        _Person("Askar Mamin", name_ru="Аскар Мамин", name_kk="Асқар Мамин"),
        _Person("Bagdat Musin", name_ru="Багдат Мусин"),
        _Person("Alikhan Smailov", name_ru="Алихан Смаилов", name_kk="Әлихан Смайылов"),
    ]
    assert [p.name_ru for p in sorted_by_name(people, "ru")] == [
        "Алихан Смаилов",
        "Аскар Мамин",
        "Багдат Мусин",
        "Ерлан Тургумбаев",
    ]
    # In Kazakh, Әлихан comes after Асқар (ә follows а); a name without a kk form is
    # sorted by the main name, after the Cyrillic ones.
    assert [p.name for p in sorted_by_name(people, "kk")] == [
        "Askar Mamin",
        "Alikhan Smailov",
        "Yerlan Turgumbayev",
        "Bagdat Musin",
    ]
    assert sorted(people, key=lambda p: name_sort_key(p, "en"))[0].name == "Alikhan Smailov"


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (5, "ru", "×5,0"),
        (36.7, "ru", "×36,7"),
        (5, "en", "×5.0"),
        (36.7, "en", "×36.7"),
        (4.96, "kk", "×5,0"),
        (1234.5, "en", "×1,234.5"),
        (1234.5, "ru", "×1\u00a0234,5"),
    ],
)
def test_multipliers_always_have_one_decimal(value: float, locale: str, expected: str) -> None:
    """Observed: "×5" stood next to "×36.7" in one column."""
    assert format_multiplier(value, locale) == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        # By the Russian names, not by the English ones (Tsoy, Musin, Aimagambetov).
        ("ru", "Аймагамбетов, Мусин, Цой"),
        ("en", "Aimagambetov, Musin, Tsoy"),
    ],
)
def test_report_name_lists_follow_the_locale(locale: str, expected: str) -> None:
    rows = [
        OfficialRow(1, "Tsoy", "Цой", None, None),
        OfficialRow(2, "Musin", "Мусин", None, None),
        OfficialRow(3, "Aimagambetov", "Аймагамбетов", None, None),
    ]
    assert names_line(locale, rows) == expected
