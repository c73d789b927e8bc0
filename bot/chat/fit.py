"""Cut a reply to one message of a platform's size: its start and its last line kept.

An alert is one message: a journalist expects the whole alert in one place, a follow-up
must stay one reply in its thread, and buttons act on what is above them. When it is too
long, the text is cut (at a word boundary when one is near, never inside an emoji) and a
"…" marks the cut, linked to the reply's own link (the post) so the full text is one tap
away; the last line (where and when, with that link) is always kept. ``size`` is the
adapter's own measure of the rendered message, so escaping and markup are counted as the
platform counts them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import replace

from bot.reply import Block, Line, Paragraph, Reply, Span

#: What stands where text was cut.
MARK = "…"
#: How far back a cut may move to fall between words.
WORD_BACKOFF = 40

Size = Callable[[Reply], int]


def fit(reply: Reply, size: Size, limit: int) -> Reply:
    """``reply`` itself when ``size(reply) <= limit``, else its cut form that fits."""
    if size(reply) <= limit:
        return reply
    body, tail = _split_tail(reply.blocks)
    link = _first_link(tail) or _last_link(reply.blocks)
    # Without room for the last line, everything is cut; without room for the link, the
    # marker goes bare.
    for head, kept, href in (
        (body, tail, link),
        (reply.blocks, None, link),
        (reply.blocks, None, None),
    ):
        cut = _Cutter(head, kept, href)
        if size(replace(reply, blocks=cut.blocks(0))) <= limit:
            return replace(reply, blocks=cut.blocks(_longest(reply, cut, size, limit)))
    return replace(reply, blocks=(Paragraph(((Span(MARK),),)),))


def _longest(reply: Reply, cut: _Cutter, size: Size, limit: int) -> int:
    """The most characters ``cut`` may keep within ``limit`` (it keeps 0 at least)."""
    lo, hi = 0, cut.total
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size(replace(reply, blocks=cut.blocks(mid))) <= limit:
            lo = mid
        else:
            hi = mid - 1
    better = cut.nicer(lo)
    if better != lo and size(replace(reply, blocks=cut.blocks(better))) <= limit:
        return better
    return lo


def _split_tail(blocks: tuple[Block, ...]) -> tuple[tuple[Block, ...], Line | None]:
    """The blocks before the reply's last line, and that line (None if it has only one)."""
    if not blocks or not isinstance(blocks[-1], Paragraph) or not blocks[-1].lines:
        return blocks, None
    last = blocks[-1]
    lines = sum(len(b.lines) if isinstance(b, Paragraph) else 1 for b in blocks)
    if lines < 2:
        return blocks, None
    rest = Paragraph(last.lines[:-1])
    return (*blocks[:-1], *((rest,) if rest.lines else ())), last.lines[-1]


def _first_link(line: Line | None) -> str | None:
    return next((s.link for s in line or () if s.link), None)


def _last_link(blocks: tuple[Block, ...]) -> str | None:
    links = [s.link for b in blocks if isinstance(b, Paragraph) for ln in b.lines for s in ln]
    return next((link for link in reversed(links) if link), None)


class _Cutter:
    """Builds the blocks that keep the first ``n`` characters of ``head``, then the tail."""

    def __init__(self, head: tuple[Block, ...], tail: Line | None, link: str | None) -> None:
        self.head = head
        self.tail = tail
        self.mark = Span(MARK, link=link)
        # A table is kept whole or not at all: it counts as one character.
        self.total = sum(
            sum(len(s.text) for ln in b.lines for s in ln) if isinstance(b, Paragraph) else 1
            for b in head
        )

    def blocks(self, n: int) -> tuple[Block, ...]:
        """The head cut after ``n`` characters, the marker, then the tail line."""
        out: list[Block] = []
        left = n
        whole = True  # the last line kept is all there: the marker starts a line of its own
        for block in self.head:
            if left <= 0:
                break
            if not isinstance(block, Paragraph):
                out.append(block)
                left -= 1
                continue
            lines: list[Line] = []
            for line in block.lines:
                if left <= 0:
                    break
                kept, left = _take(line, left)
                whole = kept is line
                lines.append(kept)
            if lines:
                out.append(Paragraph(tuple(lines)))
        return self._finish(out, whole)

    def _finish(self, out: list[Block], whole: bool) -> tuple[Block, ...]:
        last = out[-1] if out else None
        if isinstance(last, Paragraph) and last.lines and not whole:
            out[-1] = Paragraph((*last.lines[:-1], (*last.lines[-1], self.mark)))
        elif isinstance(last, Paragraph):
            out[-1] = Paragraph((*last.lines, (self.mark,)))
        else:
            out.append(Paragraph(((self.mark,),)))
        if self.tail is not None:
            final = out[-1]
            assert isinstance(final, Paragraph)
            out[-1] = Paragraph((*final.lines, self.tail))
        return tuple(out)

    def nicer(self, n: int) -> int:
        """``n`` moved back to the last word boundary nearby, or off a split character."""
        text, ends = self._text()
        if n <= 0 or n >= len(text) or n in ends:
            return n
        n = _grapheme_start(text, n)
        if n in ends or text[n - 1].isspace() or text[n].isspace():
            return n
        # Back to the space before the cut word, or to the start of its line; never
        # into an earlier line.
        start = max([e for e in ends if e < n], default=0)
        if n - start <= WORD_BACKOFF and start > 0:
            return max([start, *(i for i in range(start, n) if text[i].isspace())])
        window = text[max(start, n - WORD_BACKOFF) : n]
        space = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
        return n - len(window) + space if space >= 0 else n

    def _text(self) -> tuple[str, set[int]]:
        """The head's characters as ``blocks`` counts them, and where its lines end."""
        parts: list[str] = []
        ends: set[int] = set()
        size = 0
        for block in self.head:
            lines = block.lines if isinstance(block, Paragraph) else (((Span("\0"),),))
            for line in lines:
                piece = "".join(s.text for s in line)
                parts.append(piece)
                size += len(piece)
                ends.add(size)
        return "".join(parts), ends


def _length(line: Line) -> int:
    return sum(len(s.text) for s in line)


def _take(line: Line, left: int) -> tuple[Line, int]:
    """The start of ``line`` within ``left`` characters, and the characters left after it."""
    size = _length(line)
    if size <= left:
        return line, left - size
    spans: list[Span] = []
    for span in line:
        if left <= 0:
            break
        piece = span.text[:left]
        left -= len(piece)
        spans.append(replace(span, text=piece.rstrip() if left <= 0 else piece))
    return tuple(spans), 0


def _grapheme_start(text: str, n: int) -> int:
    """Move a cut at ``n`` back so that no emoji or accented letter is split."""
    while 0 < n < len(text) and _joins(text[n - 1], text[n]):
        n -= 1
    # Flags are pairs of regional indicators: an odd run before the cut splits one.
    run = 0
    while n - run > 0 and _regional(text[n - run - 1]):
        run += 1
    if run % 2 and n < len(text) and _regional(text[n]):
        n -= 1
    return n


def _joins(before: str, after: str) -> bool:
    """True when ``after`` belongs to the character before it (a joiner, mark or modifier)."""
    if "\u200d" in (before, after) or unicodedata.category(after) in ("Mn", "Me", "Mc"):
        return True
    code = ord(after)
    # Variation selectors, skin tones, and the tag letters of subdivision flags.
    return code in (0xFE0E, 0xFE0F) or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
