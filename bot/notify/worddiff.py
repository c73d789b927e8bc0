"""A word-level diff of two post texts, shortened to the changes and bounded in length.

Words are what a reader sees between spaces (GNU wdiff's notion): punctuation, emoji and
URLs stay with the word they touch, so every removed or added run begins and ends at a
space or a line edge, where every chat markup (Telegram ``<s>``, Slack ``~…~``) works.
Whitespace is not compared: a text whose words are the same has no diff, whatever its
spacing or line breaks. Line breaks of the shown text are kept as ``"\\n"`` in the pieces.
Pure: no I/O, no govwatch imports; ``bot.notify.render`` turns the pieces into spans.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

#: Unchanged words shown on each side of a change.
CONTEXT_WORDS = 8
#: At most this many characters of unchanged context on each side of a change.
CONTEXT_CHARS = 200
#: The whole diff is kept within about this many characters (markup cost included).
DIFF_CHARS = 1500
#: Above this many pairs of equal words, the matcher's work would grow too large.
MATCH_PAIRS = 20_000
#: What one removed or added run costs on top of its text (``<s></s>``, ``<b></b>``).
RUN_COST = 8
GAP = "…"

PieceKind = Literal["same", "removed", "added", "gap"]
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Token:
    """One word and the whitespace before it, normalised to "", " " or "\\n"."""

    word: str
    sep: str


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of the diff: unchanged, removed or added text, or a gap (skipped text)."""

    kind: PieceKind
    text: str


@dataclass(frozen=True, slots=True)
class WordDiff:
    """The shown pieces; ``changes`` runs in all, ``hidden`` of them left out for length."""

    pieces: tuple[Piece, ...]
    changes: int
    hidden: int
    #: A shown run or its context was shortened (ends in "…").
    cut: bool

    @property
    def empty(self) -> bool:
        """True when the two texts have the same words."""
        return self.changes == 0


def tokens(text: str) -> list[Token]:
    """The words of ``text`` with their separators (a line break wins over spaces)."""
    out: list[Token] = []
    end = 0
    for match in _WORD.finditer(text):
        gap = text[end : match.start()]
        sep = "\n" if "\n" in gap or "\r" in gap else (" " if gap else "")
        out.append(Token(match.group(), sep if out else ""))
        end = match.end()
    return out


def word_diff(
    old: str, new: str, *, context: int = CONTEXT_WORDS, limit: int = DIFF_CHARS
) -> WordDiff:
    """What changed from ``old`` to ``new``: groups of changes with a little context."""
    a, b = tokens(old), tokens(new)
    groups = _grouped(opcodes([t.word for t in a], [t.word for t in b]), context)
    total = sum(1 for group in groups for op in group if op[0] != "equal")
    out = _Out(limit)
    started = 0
    for index, group in enumerate(groups):
        rendered = _Out(limit)
        count = _group(rendered, group, a, b, budgeted=False)
        if out.size + rendered.size + 1 <= limit:
            out.extend(rendered, newline=index > 0)
            started += count
            continue
        if index == 0:
            started += _group(out, group, a, b, budgeted=True)
        break
    pieces = tuple(out.pieces)
    return WordDiff(pieces=pieces, changes=total, hidden=total - started, cut=out.cut)


_Op = tuple[str, int, int, int, int]


def opcodes(a: list[str], b: list[str]) -> list[_Op]:
    """difflib-style opcodes turning ``a`` into ``b``, in bounded time whatever the input.

    The common start and end are matched first (an edit usually touches one place).
    ``SequenceMatcher`` runs on the rest only while its work stays small: its cost grows
    with the pairs of equal words, so words too frequent in ``b`` become junk (matched
    only next to other words), and when even that is too much the rest is one replacement.
    """
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    codes: list[_Op] = [("equal", 0, head, 0, head)] if head else []
    for tag, i1, i2, j1, j2 in _middle(mid_a, mid_b):
        codes.append((tag, head + i1, head + i2, head + j1, head + j2))
    if tail:
        codes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return codes


def _middle(a: list[str], b: list[str]) -> list[_Op]:
    if not a and not b:
        return []
    if not a or not b:
        return [("insert" if b else "delete", 0, len(a), 0, len(b))]
    in_b = Counter(b)
    in_a = Counter(a)
    junk: set[str] = set()
    if _pairs(in_a, in_b, junk) > MATCH_PAIRS:
        junk = {word for word, n in in_b.items() if n > 1 + len(b) // 100}
        if _pairs(in_a, in_b, junk) > MATCH_PAIRS:
            return [("replace", 0, len(a), 0, len(b))]
    matcher = SequenceMatcher(junk.__contains__ if junk else None, a, b, autojunk=False)
    return list(matcher.get_opcodes())


def _pairs(in_a: Counter[str], in_b: Counter[str], junk: set[str]) -> int:
    """How many (old word, new word) pairs are equal: the matcher's work grows with it."""
    return sum(n * in_b[word] for word, n in in_a.items() if word not in junk)


def _grouped(codes: list[_Op], context: int) -> list[list[_Op]]:
    """Changes grouped with ``context`` unchanged words around them (as difflib groups)."""
    if not any(tag != "equal" for tag, *_ in codes):
        return []
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    groups: list[list[_Op]] = []
    group: list[_Op] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


class _Out:
    """Pieces being collected, with their size counted against a budget."""

    def __init__(self, limit: int) -> None:
        self.pieces: list[Piece] = []
        self.size = 0
        self.limit = limit
        self.cut = False

    @property
    def room(self) -> int:
        return self.limit - self.size

    def add(self, kind: PieceKind, text: str) -> None:
        if not text:
            return
        self.pieces.append(Piece(kind, text))
        self.size += len(text) + (RUN_COST if kind in ("removed", "added") else 0)

    def extend(self, other: _Out, *, newline: bool) -> None:
        if newline:
            self.add("same", "\n")
        for piece in other.pieces:
            self.add(piece.kind, piece.text)
        self.cut = self.cut or other.cut


def _group(out: _Out, group: list[_Op], a: list[Token], b: list[Token], *, budgeted: bool) -> int:
    """Render one group of opcodes into ``out``; returns the changes it started."""
    started = 0
    last = len(group) - 1
    for position, (tag, i1, i2, j1, j2) in enumerate(group):
        if budgeted and out.room <= 0:
            out.cut = True
            break
        if tag == "equal":
            whole = _context(out, b[j1:j2], position, last, budgeted=budgeted,
                             more=(i1 > 0 or j1 > 0, i2 < len(a) or j2 < len(b)))  # fmt: skip
            if not whole:
                break
            continue
        started += 1
        removed, added = a[i1:i2], b[j1:j2]
        out.add("same", ((removed or added)[0].sep or " ") if out.pieces else "")
        if removed and added:
            _run(out, "removed", removed, max(out.room // 2 - RUN_COST, 1) if budgeted else None)
            out.add("same", " ")
        _run(out, "added" if added else "removed", added or removed,
             max(out.room - RUN_COST, 1) if budgeted else None)  # fmt: skip
    return started


def _context(
    out: _Out,
    words: list[Token],
    position: int,
    last: int,
    *,
    budgeted: bool,
    more: tuple[bool, bool],
) -> bool:
    """Unchanged words: a group's ends are trimmed and marked "…"; False if cut short."""
    room = max(out.room, 0) if budgeted else len(_join(words)) + CONTEXT_CHARS
    if position == 0:
        kept = _fit(list(reversed(words)), min(CONTEXT_CHARS, room))[::-1]
        gap = more[0] or len(kept) < len(words)
        if gap:
            out.add("gap", GAP)
        if kept:
            out.add("same", _join([Token(kept[0].word, " " if gap else ""), *kept[1:]]))
        return True
    limit = min(CONTEXT_CHARS, room) if position == last else room
    kept = _fit(words, limit)
    if kept and not kept[0].sep:  # after a change at the very start of the text
        kept[0] = Token(kept[0].word, " ")
    out.add("same", _join(kept))
    short = len(kept) < len(words)
    if short or (position == last and more[1]):
        out.add("same", " ")
        out.add("gap", GAP)
    if short and position != last:
        out.cut = True
        return False
    return True


def _fit(words: list[Token], chars: int) -> list[Token]:
    """The leading words of ``words`` whose text fits in ``chars`` (possibly none)."""
    kept: list[Token] = []
    size = 0
    for token in words:
        size += len(token.sep) + len(token.word)
        if size > chars:
            break
        kept.append(token)
    return kept


def _run(out: _Out, kind: PieceKind, words: list[Token], room: int | None) -> None:
    """One removed or added run, cut to ``room`` characters (with "…") when given."""
    text = _join([Token(words[0].word, ""), *words[1:]])
    if room is not None and len(text) > room:
        text = _cut(text, room)
        out.cut = True
    out.add(kind, text)


def _cut(text: str, room: int) -> str:
    """``text`` shortened to ``room`` characters at a space when there is one, plus "…"."""
    head = text[: max(room - 1, 1)]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space > 0 and len(text) > len(head):
        head = head[:space]
    return head.rstrip() + GAP


def _join(words: list[Token]) -> str:
    return "".join(t.sep + t.word for t in words)
