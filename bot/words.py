"""Words as search and keyword matching see them: one normaliser for both databases.

Both the stored text and a query go through :func:`word_terms`, so PostgreSQL and SQLite
match the same terms and give the same answers. A query word matches a text word when
they share a term. A Cyrillic word's terms are its Snowball Russian stem (PyStemmer) and,
when it carries Kazakh endings, the stem left once they are taken off and that stem's
Russian stem (there is no Snowball Kazakh stemmer): ``тарифы``, ``тарифтер`` and
``тарифов`` all give ``тариф``; ``референдумға`` and ``референдума`` give ``референдум``.
A Kazakh ending is taken off only where Kazakh grammar puts it: after the letters it
follows (``-та`` after a voiceless consonant, ``-да`` after a vowel or a voiced one, ``-на``
after a possessive ``ы``/``і``...) and in harmony with the stem's last vowel, so Russian
words keep their endings (``газета`` is not ``газ`` + ``-та``, ``работа`` not ``рабо`` +
``-та``). Latin words get their Snowball English stem; anything else is its own term.

:func:`index_text` is what the full-text index stores for a text: every word's terms and
every pair of adjacent words (``a_b`` for each term ``a`` of a word and ``b`` of the next),
so both databases answer a two-word phrase from the index alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import Stemmer

#: Letters (and digits) with the marks and invisible characters that may sit inside a word.
_IN_WORD = r"[\u0300-\u036f\u0483-\u0489\u00ad\u200b-\u200f\u2060-\u2064\ufeff]"
_WORD = re.compile(rf"(?:[^\W_]{_IN_WORD}*)+(?:['’](?:[^\W_]{_IN_WORD}*)+)*")
#: Marks left after NFC (stress accents) and invisible characters are dropped; ё is е.
_DROP: dict[int, str | None] = {
    **dict.fromkeys(range(0x0300, 0x0370)),
    **dict.fromkeys(range(0x0483, 0x048A)),
    **dict.fromkeys((0x00AD, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF)),
    **dict.fromkeys(range(0x2060, 0x2065)),
    ord("ё"): "е",
    ord("Ё"): "е",
    ord("’"): "'",
}
_CYRILLIC = re.compile(r"[а-яәғқңөұүһі]")
_LATIN = re.compile(r"[a-z]")
_KAZAKH_LETTERS = re.compile(r"[әғқңөұүһі]")

#: A word longer than this has no terms (no word is; it keeps index entries small).
MAX_WORD = 64
#: Only words starting within the first this many characters of a text are indexed.
INDEX_CHARS = 50_000
#: Joins the two terms of an adjacent pair; never inside a term (words have no "_").
PAIR = "_"

# -- Kazakh endings -------------------------------------------------------------------
_VOWELS = frozenset("аәеёиоөуұүыіэюя")
_BACK = frozenset("аоұыяё")
_FRONT = frozenset("әеөүіэ")
# "у", "и" and "ю" take either harmony (loans: "референдумға", native: "келуде").
_VOICELESS = frozenset("кқпстфхцчшщбвгд")  # б в г д end loans and are said voiceless
_SONORANT = frozenset("лмнңрйу")
_VOICED = frozenset("зж")
_POSS3 = frozenset("ыі")  # after a third-person possessive
_AFTER_VOICED = _VOWELS | _SONORANT | _VOICED
# "у" is said [w] before a possessive ending, so it takes the consonants' ones (сайлауы).
_CONSONANTS = frozenset("бвгджзйклмнңпрстфхцчшщқғһу")
#: A voiced consonant between vowels was voiceless at the end of the stem (мектебі).
_ALTERNATION = str.maketrans({"б": "п", "г": "к", "ғ": "қ"})

#: Each ending with the letters it may follow, as Kazakh grammar attaches it.
_ENDINGS: dict[str, frozenset[str]] = {
    # plural
    **dict.fromkeys(("лар", "лер"), _VOWELS | frozenset("руй")),
    **dict.fromkeys(("дар", "дер"), frozenset("лмнңзж")),
    **dict.fromkeys(("тар", "тер"), _VOICELESS),
    # genitive
    **dict.fromkeys(("ның", "нің"), _VOWELS | frozenset("мнң")),
    **dict.fromkeys(("дың", "дің"), frozenset("лруйзж")),
    **dict.fromkeys(("тың", "тің"), _VOICELESS),
    # dative
    **dict.fromkeys(("ға", "ге"), _AFTER_VOICED),
    **dict.fromkeys(("қа", "ке"), _VOICELESS),
    **dict.fromkeys(("на", "не"), _POSS3),
    # accusative
    **dict.fromkeys(("ны", "ні"), _VOWELS),
    **dict.fromkeys(("ды", "ді"), _SONORANT | _VOICED),
    **dict.fromkeys(("ты", "ті"), _VOICELESS),
    "н": _POSS3,
    # locative, and the attributive locative (-дағы)
    **dict.fromkeys(("да", "де", "дағы", "дегі"), _AFTER_VOICED),
    **dict.fromkeys(("та", "те", "тағы", "тегі"), _VOICELESS),
    **dict.fromkeys(("нда", "нде", "ндағы", "ндегі"), _POSS3),
    # ablative
    **dict.fromkeys(("дан", "ден"), _VOWELS | frozenset("лруйзж")),
    **dict.fromkeys(("тан", "тен"), _VOICELESS),
    **dict.fromkeys(("нан", "нен"), frozenset("мнң") | _POSS3),
    # instrumental
    "мен": _VOWELS | _SONORANT,
    "бен": _VOICED,
    "пен": _VOICELESS,
    # possessive
    **dict.fromkeys(("ым", "ім", "ың", "ің", "ы", "і"), _CONSONANTS),
    **dict.fromkeys(("ымыз", "іміз", "ыңыз", "іңіз"), _CONSONANTS),
    **dict.fromkeys(("сы", "сі", "мыз", "міз", "ңыз", "ңіз", "ң"), _VOWELS),
}
#: Endings tried longest first.
_BY_LENGTH = tuple(sorted(_ENDINGS, key=len, reverse=True))
#: Endings whose vowel does not follow the stem's (the instrumental is invariant).
_NO_HARMONY = frozenset({"мен", "бен", "пен", "н", "ң"})
#: A Kazakh ending is taken off only when this much of the word remains.
_KK_MIN_STEM = 3
#: A final vowel is dropped (for one more term) only when this much of the word remains.
_LIGHT_MIN_STEM = 3
_LIGHT_ENDINGS = frozenset("аяыиуюеоэйь")
#: Up to this many endings are taken off (plural + possessive + case: "тарифтеріміз").
_KK_MAX_ENDINGS = 4


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: where it is and its normalised form."""

    start: int
    end: int
    word: str


def normalise(word: str) -> str:
    """Case-folded NFC, accents and invisible characters dropped, ``ё`` as ``е``."""
    if not word.isascii():
        word = unicodedata.normalize("NFC", word).translate(_DROP)
    return word.casefold()


def tokens(text: str) -> list[Token]:
    """The words of ``text`` with their positions (for highlighting matches)."""
    return [Token(m.start(), m.end(), normalise(m.group())) for m in _WORD.finditer(text)]


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def _harmonic(stem: str, ending: str) -> bool:
    """The ending's vowel agrees with the stem's last vowel (or either may follow it)."""
    if ending in _NO_HARMONY:
        return True
    last = next((ch for ch in reversed(stem) if ch in _VOWELS), None)
    if last is None:
        return False
    back = any(ch in "аыұ" for ch in ending)
    if last in _BACK:
        return back
    if last in _FRONT:
        return not back
    return True


def _cut(word: str) -> str | None:
    """``word`` without its last Kazakh ending, or None when it has none."""
    for ending in _BY_LENGTH:
        if not word.endswith(ending):
            continue
        stem = word[: -len(ending)]
        if len(stem) < _KK_MIN_STEM or stem[-1] not in _ENDINGS[ending]:
            continue
        if not _VOWELS.intersection(stem) or not _harmonic(stem, ending):
            continue
        if ending in ("тан", "тен") and stem.endswith("с"):
            continue  # "-стан" ends place names (Қазақстан), not an ablative
        if ending[0] in _VOWELS and _KAZAKH_LETTERS.search(word):
            stem = stem[:-1] + stem[-1].translate(_ALTERNATION)
        return stem
    return None


def kazakh_stem(word: str) -> str:
    """``word`` without the Kazakh endings grammar allows there (itself when none)."""
    for _ in range(_KK_MAX_ENDINGS):
        stem = _cut(word)
        if stem is None:
            break
        word = stem
    return word


def _light(word: str) -> str:
    """``word`` without one final vowel, ``й`` or ``ь`` (``астана`` -> ``астан``)."""
    if word[-1] in _LIGHT_ENDINGS and len(word) > _LIGHT_MIN_STEM:
        return word[:-1]
    return word


def _russian_terms(word: str) -> set[str]:
    # Snowball also strips verb endings from nouns ("казахстан" -> "казахста", but
    # "казахстане" -> "казахстан"; "аймагамбетов" -> "аймагамбет" beside
    # "аймагамбетова" -> "аймагамбетов"): the word less its last vowel bridges the gap.
    return {_stemmer("russian").stemWord(word), _light(word)}


@lru_cache(maxsize=200_000)
def word_terms(word: str) -> frozenset[str]:
    """The index terms of one normalised word (its stems; the word itself for others)."""
    if not word or len(word) > MAX_WORD:
        return frozenset()
    if _CYRILLIC.search(word):
        stem = kazakh_stem(word)
        if stem == word:
            return frozenset(_russian_terms(word))
        terms = _russian_terms(stem)
        if not _KAZAKH_LETTERS.search(word):
            terms |= _russian_terms(word)  # it may be Russian after all ("народа")
        return frozenset(terms)
    if _LATIN.search(word):
        return frozenset({_stemmer("english").stemWord(word)})
    return frozenset({word})


def text_terms(text: str) -> list[frozenset[str]]:
    """The terms of each word of ``text``, in order."""
    return [word_terms(t.word) for t in tokens(text)]


def pair_terms(left: frozenset[str], right: frozenset[str]) -> list[str]:
    """The index terms of two adjacent words with these terms (``a_b``), sorted."""
    return sorted(f"{a}{PAIR}{b}" for a in left for b in right)


@lru_cache(maxsize=200_000)
def _raw_terms(raw: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The terms of a word as written, as a set and sorted (millions of words are read)."""
    terms = word_terms(normalise(raw))
    return terms, tuple(sorted(terms))


def _indexed(text: str) -> list[tuple[frozenset[str], tuple[str, ...]]]:
    # A word starting inside the limit and running past the slice is longer than MAX_WORD.
    out = []
    for match in _WORD.finditer(text, 0, INDEX_CHARS + 2 * MAX_WORD):
        if match.start() >= INDEX_CHARS:
            break
        out.append(_raw_terms(match.group()))
    return out


def indexed_terms(text: str) -> list[frozenset[str]]:
    """The terms of each word the index covers (those starting in its first characters)."""
    return [terms for terms, _ in _indexed(text)]


def index_text(text: str) -> str:
    """Every term and adjacent pair of ``text`` once, space-separated: what the index stores."""
    seen: dict[str, None] = {}
    previous: tuple[str, ...] = ()
    for _, terms in _indexed(text):
        for term in terms:
            seen[term] = None
        for a in previous:
            for b in terms:
                seen[a + PAIR + b] = None
        previous = terms
    return " ".join(seen)


def terms_in(text: str) -> list[frozenset[str]]:
    """What :func:`text_terms` gives, faster (no positions; cached per word as written):
    the fast path of keyword matching, run on every new post."""
    return list(map(_written_terms, _WORD.findall(text)))


@lru_cache(maxsize=1 << 17)
def _written_terms(word: str) -> frozenset[str]:
    return word_terms(normalise(word))


@lru_cache(maxsize=200_000)
def written_terms(written: str) -> frozenset[str]:
    """:func:`word_terms` of a word as written in a text (normalised here first)."""
    return word_terms(normalise(written))


def terms_and_lead(text: str, lead: int) -> tuple[list[frozenset[str]], int]:
    """Each indexed word's terms, and how many of those words start before ``lead``."""
    if len(text) > INDEX_CHARS:
        found = starts_and_terms(text)
        return [terms for _, terms in found], sum(1 for start, _ in found if start < lead)
    # The whole text is indexed: no positions needed, so the faster cached path.
    return terms_in(text), len(_WORD.findall(text, 0, lead))


def starts_and_terms(text: str) -> list[tuple[int, frozenset[str]]]:
    """Each word's start and terms, within what the index covers (no Token objects: fast)."""
    found = _WORD.finditer(text, 0, INDEX_CHARS + 2 * MAX_WORD)
    return [(m.start(), written_terms(m.group())) for m in found if m.start() < INDEX_CHARS]
