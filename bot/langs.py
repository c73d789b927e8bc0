"""Which language a post is written in: lingua, restricted to a few languages, offline.

``LanguageIdentifier.identify(text)`` gives a code: ``kk``, ``ru``, ``en``, ``uk`` (the
configured set), ``mixed`` for a text in Kazakh *and* Russian, or ``unknown``. A text is
``unknown`` when it has fewer than ``MIN_WORDS`` words or ``MIN_LETTERS`` letters once
links, @mentions and numbers are left out, or when lingua cannot tell (no candidate in
the set, or the best one is less sure than ``MIN_CONFIDENCE``): never a guess.

Mixed texts: lingua's multi-language detection splits the text into runs of one
language; when Kazakh and Russian each hold at least ``MIXED_SHARE`` of the words (and at
least ``MIN_WORDS`` words each), the text is ``mixed`` (a bilingual announcement, common
for Kazakhstan's officials). Otherwise the language with most words wins, so a Russian
post quoting one Kazakh phrase is Russian.

Building the detector loads lingua's models (seconds, ~170 MB for four languages), so it
is built once, on first use, and only where identification runs (a background job),
never on the polling path.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

#: Languages identified by default: those of Kazakhstan's officials, and English and
#: Ukrainian so that Russian is not the answer for every Cyrillic text. lingua knows no
#: Kyrgyz or Uzbek.
DEFAULT_LANGUAGES: tuple[str, ...] = ("kk", "ru", "en", "uk")
UNKNOWN = "unknown"
MIXED = "mixed"
#: The two languages whose mixture is ``mixed``.
MIXED_PAIR = frozenset({"kk", "ru"})
MIN_WORDS = 3
MIN_LETTERS = 20
MIXED_SHARE = 0.25
MIN_CONFIDENCE = 0.5

_NOISE = re.compile(r"(https?://\S+|www\.\S+|[@#]\w+|\S+@\S+)", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def clean_text(text: str) -> str:
    """``text`` without links, @mentions, hashtags and e-mail addresses."""
    return _NOISE.sub(" ", text)


def words_of(text: str) -> list[str]:
    """The words (two letters or more) of an already cleaned text."""
    return _WORD.findall(text)


class LanguageIdentifier:
    """lingua restricted to ``codes`` (ISO 639-1), built lazily and shared by threads."""

    def __init__(self, codes: Sequence[str] = DEFAULT_LANGUAGES) -> None:
        self.codes = tuple(dict.fromkeys(c.lower() for c in codes))
        self._detector: LanguageDetector | None = None
        self._lock = threading.Lock()

    def _lingua(self) -> LanguageDetector:
        with self._lock:
            if self._detector is None:
                from lingua import IsoCode639_1, LanguageDetectorBuilder

                isos = [IsoCode639_1.from_str(c) for c in self.codes]
                builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
                self._detector = builder.build()
            return self._detector

    def identify(self, text: str) -> str:
        """The code of ``text``'s language, ``mixed`` or ``unknown`` (see the module doc)."""
        clean = clean_text(text)
        words = words_of(clean)
        if len(words) < MIN_WORDS or sum(len(w) for w in words) < MIN_LETTERS:
            return UNKNOWN
        detector = self._lingua()
        counts: Counter[str] = Counter()
        for run in detector.detect_multiple_languages_of(clean):
            counts[run.language.iso_code_639_1.name.lower()] += run.word_count
        total = sum(counts.values())
        if not total:
            return UNKNOWN
        if all(counts[c] >= max(MIN_WORDS, MIXED_SHARE * total) for c in MIXED_PAIR):
            return MIXED
        code, words_in = counts.most_common(1)[0]
        if len(counts) > 1:
            return code if words_in * 2 > total else UNKNOWN
        best = detector.compute_language_confidence_values(clean)
        if not best or best[0].value < MIN_CONFIDENCE:
            return UNKNOWN
        found = best[0].language.iso_code_639_1.name.lower()
        return found if found == code else UNKNOWN

    def identify_many(self, texts: Iterable[str]) -> list[str]:
        """``identify`` of each text, in order."""
        return [self.identify(t) for t in texts]
