"""Near-identical texts: MinHash sketches of word shingles, their LSH band keys, grouping.

Two posts say "the same text" when the Jaccard similarity of their sets of 3-word
shingles is at least ``THRESHOLD`` (0.8), after the text is normalised: links, hashtags and
@mentions are taken out, then the text is folded by ``bot.words.normalise`` and cut into
words (case, ``ё``/``е``, accents and punctuation do not matter). A post with fewer than
``min_words`` words left (default 8) has no sketch: "Поздравляю!" from five officials
is not coordination.

A sketch is ``PERMUTATIONS`` (128) MinHash values (uint32, 512 bytes), so the similarity
of two posts is estimated from their sketches alone (the share of equal values; standard
error about 0.035 at 0.8). Candidates are found without comparing every pair: the first
``BANDS`` × ``ROWS`` (20 × 6) values are cut into bands, each hashed to one 64-bit key;
two posts with one equal key are candidates. A pair at Jaccard 0.8 shares a key with
probability 0.998, a pair at 0.4 with 0.08, so the store looks up only the keys of a new
post (``bot/store/sameness.py``) and checks those few candidates' sketches.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from bot.words import normalise

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Jaccard similarity (estimated from the sketches) at or above which two texts are the same.
THRESHOLD = 0.8
#: Words per shingle.
SHINGLE = 3
#: MinHash values per sketch.
PERMUTATIONS = 128
#: LSH bands and the values in each (BANDS * ROWS <= PERMUTATIONS).
BANDS = 20
ROWS = 6
#: Texts with fewer words (after links, hashtags and mentions are taken out) are ignored.
MIN_WORDS = 8
#: Only the first this many words are sketched (bounds the cost of a very long post).
MAX_WORDS = 2000


@dataclass(frozen=True, slots=True)
class _Params:
    """The fixed random parameters: sketches stored by one process are compared by every other."""

    a: npt.NDArray[np.uint64]
    b: npt.NDArray[np.uint64]
    mult: npt.NDArray[np.uint64]
    salt: npt.NDArray[np.uint64]
    shingle_mult: npt.NDArray[np.uint64]


@cache
def _params() -> _Params:
    # numpy is imported on the first sketch, not with the module: a poll that sees no new
    # post (and poll-once's start-up) never loads it (issue 18: start-up).
    import numpy as np

    rng = np.random.RandomState(1)
    a = rng.randint(1, 1 << 63, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.randint(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2)
    # Band keys: each band's values times random odd multipliers, summed (mod 2**64), plus
    # a random salt per band so equal values in different bands give different keys.
    mult = rng.randint(1, 1 << 62, size=(BANDS, ROWS), dtype=np.uint64) | np.uint64(1)
    salt = rng.randint(1, 1 << 62, size=BANDS, dtype=np.uint64)
    shingle_mult = rng.randint(1, 1 << 62, size=SHINGLE, dtype=np.uint64) | np.uint64(1)
    return _Params(a, b, mult, salt, shingle_mult)


#: Word characters, read from text that ``bot.words.normalise`` has folded.
_WORDS = re.compile(r"[^\W_]+")

#: A link (with a scheme, or a bare www./t.me/ address), a hashtag or an @mention.
_NOISE = re.compile(
    r"(?:https?://|www\.|t\.me/)\S*"  # links
    r"|(?<![\w@#])[#@][^\s#@]+",  # #hashtags and @mentions
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Sketch:
    """A text's MinHash signature (``PERMUTATIONS`` uint32 values) and its LSH band keys."""

    signature: bytes
    bands: tuple[int, ...]
    words: int


def clean_words(text: str) -> list[str]:
    """The normalised words of ``text`` without links, hashtags and mentions."""
    return _WORDS.findall(normalise(_NOISE.sub(" ", text)))[:MAX_WORDS]


def shingles(words: Sequence[str]) -> set[str]:
    """The set of ``SHINGLE``-word shingles of ``words`` (one shingle for shorter texts)."""
    if len(words) <= SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets (0 when either is empty)."""
    left, right = shingles(clean_words(a)), shingles(clean_words(b))
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def sketch(text: str, *, min_words: int = MIN_WORDS) -> Sketch | None:
    """The sketch of ``text``, or None when it has fewer than ``min_words`` words."""
    words = clean_words(text)
    if len(words) < max(min_words, 1):
        return None
    import numpy as np

    p = _params()
    hashes = shingle_hashes(words).reshape(-1, 1)
    # multiply-shift hashing: the high 32 bits of (a*h + b) mod 2**64, a odd; no division
    with np.errstate(over="ignore"):
        values = (p.a * hashes + p.b) >> np.uint64(32)
    signature = values.min(axis=0).astype("<u4")
    return Sketch(signature.tobytes(), band_keys(signature), len(words))


def shingle_hashes(words: Sequence[str]) -> npt.NDArray[np.uint64]:
    """The distinct 32-bit hashes of the ``SHINGLE``-word shingles of ``words``.

    Each word is hashed once (CRC-32, the same in every process); a shingle's hash mixes
    its words' hashes with fixed random multipliers, so no string is built per shingle.
    """
    import numpy as np

    shingle_mult = _params().shingle_mult
    codes = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64)
    if codes.size < SHINGLE:
        codes = np.concatenate([codes, np.zeros(SHINGLE - codes.size, dtype=np.uint64)])
    count = codes.size - SHINGLE + 1
    with np.errstate(over="ignore"):  # the products wrap around 2**64 on purpose
        mixed = np.zeros(count, dtype=np.uint64)
        for i in range(SHINGLE):
            mixed += codes[i : i + count] * shingle_mult[i]
    return np.unique(mixed >> np.uint64(32))


def band_keys(signature: npt.NDArray[np.uint32]) -> tuple[int, ...]:
    """One signed 64-bit key per band: the band's values and number, hashed."""
    import numpy as np

    p = _params()
    rows = signature[: BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):  # the sums wrap around 2**64 on purpose
        keys = (rows * p.mult).sum(axis=1, dtype=np.uint64) + p.salt
    return tuple(int(k) for k in keys.view(np.int64))


def similarity(a: bytes, b: bytes) -> float:
    """The Jaccard similarity estimated from two signatures (share of equal values)."""
    import numpy as np

    left = np.frombuffer(a, dtype="<u4")
    right = np.frombuffer(b, dtype="<u4")
    if left.shape != right.shape or not left.size:
        return 0.0
    return float(np.count_nonzero(left == right)) / left.size


def same(a: str, b: str, *, threshold: float = THRESHOLD, min_words: int = MIN_WORDS) -> bool:
    """True when both texts have sketches whose estimated similarity reaches ``threshold``."""
    left, right = sketch(a, min_words=min_words), sketch(b, min_words=min_words)
    if left is None or right is None:
        return False
    return similarity(left.signature, right.signature) >= threshold


# --- grouping (pure: the store feeds it candidates and applies its decisions) -------------


@dataclass(frozen=True, slots=True)
class SameRules:
    """When posts of several officials count as one coordinated group."""

    officials: int = 3
    window: timedelta = timedelta(hours=2)
    min_words: int = MIN_WORDS
    threshold: float = THRESHOLD


@dataclass(slots=True)
class Sketched:
    """A stored sketch: a post, whose it is, when it was published, its group if any."""

    post_id: int
    official_id: int
    published_at: datetime
    signature: bytes
    group: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What a new post does: joins an existing group, forms a new one, or nothing."""

    join: int | None = None
    members: tuple[Sketched, ...] = ()


def decide(new: Sketched, candidates: Sequence[Sketched], rules: SameRules) -> Decision:
    """Whether ``new`` joins a group among ``candidates`` or forms one with them.

    A post matching a member of an announced group joins that group (no second alert);
    otherwise the posts it matches within the window form a group when they come from at
    least ``rules.officials`` different officials.
    """
    matches = [
        c
        for c in candidates
        if c.post_id != new.post_id
        and abs(c.published_at - new.published_at) <= rules.window
        and similarity(c.signature, new.signature) >= rules.threshold
    ]
    groups = sorted({c.group for c in matches if c.group is not None})
    if groups:
        return Decision(join=groups[0])
    members = (new, *sorted(matches, key=lambda c: (c.published_at, c.post_id)))
    if len({m.official_id for m in members}) < rules.officials:
        return Decision()
    return Decision(members=tuple(sorted(members, key=lambda c: (c.published_at, c.post_id))))
