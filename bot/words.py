"""Words as search and keyword matching see them: one normaliser for both databases.

Both the stored text and a query go through :func:`word_terms`, so PostgreSQL and SQLite
match the same terms and give the same answers. A word's terms are its Snowball stem
(Russian for Cyrillic, English for Latin, from PyStemmer) and, for Cyrillic, the stem left
after Kazakh inflectional suffixes are taken off (there is no Snowball Kazakh stemmer):
``тарифтер`` and ``тарифы`` both give ``тариф``; ``референдумға`` gives ``референдум``.
A text is indexed under every term of every word; a query word matches when one of its
terms is among a text's terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import Stemmer

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")
_LATIN = re.compile(r"[a-z]")
#: Kazakh case, plural and possessive endings, longest first; applied up to three times.
_KK_SUFFIXES = tuple(
    sorted(
        {
            *("лар", "лер", "дар", "дер", "тар", "тер"),
            *("ның", "нің", "дың", "дің", "тың", "тің"),
            *("ға", "ге", "қа", "ке", "на", "не"),
            *("ны", "ні", "ды", "ді", "ты", "ті"),
            *("да", "де", "та", "те", "нда", "нде"),
            *("дан", "ден", "тан", "тен", "нан", "нен"),
            *("мен", "бен", "пен"),
            *("дағы", "дегі", "тағы", "тегі", "ндағы", "ндегі"),
            *("ым", "ім", "ың", "ің", "сы", "сі", "мыз", "міз", "ңыз", "ңіз"),
        },
        key=len,
        reverse=True,
    )
)
#: A Kazakh suffix is taken off only when this much of the word remains.
_KK_MIN_STEM = 3


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: where it is and its normalised form."""

    start: int
    end: int
    word: str


def normalise(word: str) -> str:
    """Lower case, ``ё`` as ``е``: the form stemmers and the index see."""
    return word.lower().replace("ё", "е").replace("’", "'")


def tokens(text: str) -> list[Token]:
    """The words of ``text`` with their positions (for highlighting matches)."""
    return [Token(m.start(), m.end(), normalise(m.group())) for m in _WORD.finditer(text)]


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def _kazakh_stem(word: str) -> str:
    """``word`` without up to three Kazakh endings (itself when none applies)."""
    for _ in range(3):
        cut = next(
            (s for s in _KK_SUFFIXES if word.endswith(s) and len(word) - len(s) >= _KK_MIN_STEM),
            None,
        )
        if cut is None:
            break
        word = word[: -len(cut)]
    return word


@cache
def word_terms(word: str) -> frozenset[str]:
    """The index terms of one normalised word (its stems; the word itself for others)."""
    if _CYRILLIC.search(word):
        # The Kazakh stem is kept as cut: stemming it again as Russian would over-reach
        # (``газета`` cut to ``газе`` would become ``газ``).
        return frozenset({_stemmer("russian").stemWord(word), _kazakh_stem(word)})
    if _LATIN.search(word):
        return frozenset({_stemmer("english").stemWord(word)})
    return frozenset({word})


def text_terms(text: str) -> list[frozenset[str]]:
    """The terms of each word of ``text``, in order."""
    return [word_terms(t.word) for t in tokens(text)]


def index_text(text: str) -> str:
    """Every term of ``text`` once, space-separated: what the full-text index stores."""
    seen: dict[str, None] = {}
    for terms in text_terms(text):
        for term in sorted(terms):
            seen.setdefault(term, None)
    return " ".join(seen)


def terms_in(text: str) -> list[frozenset[str]]:
    """What :func:`text_terms` gives, faster (no positions; cached per word as written):
    the fast path of keyword matching, run on every new post."""
    return list(map(_written_terms, _WORD.findall(text)))


@lru_cache(maxsize=1 << 17)
def _written_terms(word: str) -> frozenset[str]:
    return word_terms(normalise(word))
