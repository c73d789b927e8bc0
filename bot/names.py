"""Forgiving name matching: case, Cyrillic or Latin spelling, partial names.

``search_key`` builds the text stored in ``officials.search_key``; ``query_tokens`` turns
what a journalist typed into tokens that must all appear in it. Both fold Russian and
Kazakh Cyrillic to a simple Latin transliteration, so "Аймагамбетов", "aimagambetov"
and "Aimagambetov" all match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol, TypeVar

_CYR = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia",
    # Kazakh letters
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}  # fmt: skip

# Latin spellings that differ only by convention are folded the same way.
_LATIN_FOLDS = (
    ("yu", "iu"), ("ya", "ia"), ("kh", "h"), ("ts", "c"), ("y", "i"), ("j", "zh"),
    ("zhzh", "zh"), ("ck", "k"), ("q", "k"), ("w", "v"), ("x", "ks"),
)  # fmt: skip
_NON_WORD = re.compile(r"[^a-z0-9]+")


def transliterate(text: str) -> str:
    """Lower-case ASCII words: accents stripped, Cyrillic transliterated."""
    text = unicodedata.normalize("NFKC", text).lower()
    # Zero-width and bidi controls are invisible: "Ai\u200bmagambetov" is "Aimagambetov".
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    out = "".join(_CYR.get(ch, ch) for ch in text)
    out = unicodedata.normalize("NFKD", out)
    out = "".join(ch for ch in out if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", out).strip()


def fold(text: str) -> str:
    """Transliterate, then fold Latin spelling variants ("Aymagambetov" ~ "Aimagambetov")."""
    out = transliterate(text)
    for src, dst in _LATIN_FOLDS:
        out = out.replace(src, dst)
    return _NON_WORD.sub(" ", out).strip()


def search_key(names: Iterable[str | None]) -> str:
    """The folded names of one official, joined by "|" (stored for lookups)."""
    keys = []
    for name in names:
        if name:
            folded = fold(name)
            if folded and folded not in keys:
                keys.append(folded)
    return "|".join(keys)


def query_tokens(query: str) -> list[str]:
    """The folded tokens of a typed name; each must be a word prefix in the key."""
    return [tok for tok in fold(query).split() if tok]


def matches(key: str, tokens: list[str]) -> bool:
    """True when every token starts some word of one of the key's names."""
    if not tokens:
        return False
    for name in key.split("|"):
        words = name.split()
        if all(any(w.startswith(tok) for w in words) for tok in tokens):
            return True
    return False


def exact(key: str, tokens: list[str]) -> bool:
    """True when the tokens are exactly one of the key's names (word for word, any order)."""
    return any(sorted(name.split()) == sorted(tokens) for name in key.split("|"))


class HasNames(Protocol):
    """Anything with an official's names (a model row or a report row)."""

    @property
    def name(self) -> str: ...
    @property
    def name_ru(self) -> str | None: ...
    @property
    def name_kk(self) -> str | None: ...
    @property
    def name_en(self) -> str | None: ...


def localized_name(official: HasNames, locale: str) -> str:
    """The official's name in ``locale`` when known, else the main name."""
    localized = {"ru": official.name_ru, "kk": official.name_kk, "en": official.name_en}
    return localized.get(locale) or official.name


# --- collation ---------------------------------------------------------------------------

#: The Kazakh Cyrillic alphabet in its own order; Russian's 33 letters are a subsequence
#: of it, so one table sorts both (ә after а, ғ after г, қ after к, і after ы...).
CYRILLIC_ORDER = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
LATIN_ORDER = "abcdefghijklmnopqrstuvwxyz"
_CYR_RANK = {ch: i for i, ch in enumerate(CYRILLIC_ORDER)}
_LAT_RANK = {ch: i for i, ch in enumerate(LATIN_ORDER)}
#: Script groups: digits first, then the locale's own script, then the other.
_DIGITS, _FIRST, _SECOND, _OTHER = 1, 2, 3, 4
SortKey = tuple[tuple[tuple[int, int], ...], str]
_N = TypeVar("_N", bound="HasNames")


def _letter_rank(ch: str, locale: str) -> tuple[int, int] | None:
    """(group, position) of one lower-case character, None for spaces and punctuation."""
    cyrillic_first = locale != "en"
    if ch in _CYR_RANK:
        # Russian dictionaries file "ё" under "е"; the Kazakh alphabet gives it a place.
        rank = _CYR_RANK["е"] if ch == "ё" and locale == "ru" else _CYR_RANK[ch]
        return (_FIRST if cyrillic_first else _SECOND, rank)
    base = unicodedata.normalize("NFKD", ch)[:1]
    if base in _LAT_RANK:
        return (_SECOND if cyrillic_first else _FIRST, _LAT_RANK[base])
    if ch.isdigit():
        return (_DIGITS, int(ch) if ch.isdecimal() else 0)
    if ch.isalpha():
        return (_OTHER, ord(ch))
    return None


def collation_key(text: str, locale: str) -> SortKey:
    """A sort key ordering ``text`` as a ``locale`` (ru, kk, en) reader expects.

    Case and punctuation are ignored at first; words compare one by one (a space sorts
    before any letter), and the text itself breaks ties so the order is always the same.
    """
    ranks: list[tuple[int, int]] = []
    for ch in unicodedata.normalize("NFC", text).lower():
        rank = _letter_rank(ch, locale)
        if rank is not None:
            ranks.append(rank)
        elif ch.isspace() and ranks and ranks[-1] != (0, 0):
            ranks.append((0, 0))
    while ranks and ranks[-1] == (0, 0):
        ranks.pop()
    return tuple(ranks), text


def name_sort_key(official: HasNames, locale: str) -> SortKey:
    """Sort officials by the name shown in ``locale`` (use with ``sorted(key=...)``)."""
    return collation_key(localized_name(official, locale), locale)


def sorted_by_name(officials: Iterable[_N], locale: str) -> list[_N]:
    """``officials`` in the order a ``locale`` reader expects (by their shown names)."""
    return sorted(officials, key=lambda official: name_sort_key(official, locale))
