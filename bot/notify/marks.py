"""How an alert shows the words that matched its post: highlighted in the excerpt, and
named on a marker line (the chat's keywords; the watchlists' watchwords)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.detect.keywords import AlertWords, Item, Marks
from bot.i18n import t
from bot.reply import Line, Span

#: Events whose alerts are marked: they are about one post and carry its text.
MARKED_KINDS = frozenset({"new_post", "post_edited", "post_deleted"})


def excerpt_lines(excerpt: str, words: AlertWords | None) -> list[Line]:
    """The excerpt's non-blank lines in italics, matched words also in bold."""
    ranges = words.marks(excerpt).ranges if words is not None else ()
    lines: list[Line] = []
    offset = 0
    for part in excerpt.splitlines(keepends=True):
        body = part.rstrip("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")
        if body.strip():
            lines.append(_highlight(body, offset, ranges))
        offset += len(part)
    return lines


def _highlight(text: str, offset: int, ranges: Sequence[tuple[int, int]]) -> Line:
    """``text`` (found at ``offset`` of the excerpt) cut into plain and highlighted spans."""
    spans: list[Span] = []
    at = 0
    for start, end in ranges:
        start, end = max(start - offset, at), min(end - offset, len(text))
        if start >= end:
            continue
        if start > at:
            spans.append(Span(text[at:start], italic=True))
        spans.append(Span(text[start:end], bold=True, italic=True))
        at = end
    if at < len(text):
        spans.append(Span(text[at:], italic=True))
    return tuple(spans)


def marker_lines(
    kind: str, payload: Mapping[str, Any], words: AlertWords | None, locale: str
) -> list[Line]:
    """ "Matches: тариф" for the chat's keywords and one line per watchlist whose
    watchwords the post's text has (none when nothing matched)."""
    text = payload.get("text")
    if words is None or kind not in MARKED_KINDS or not isinstance(text, str):
        return []
    marks: Marks = words.marks(text)
    lines: list[Line] = []
    if marks.matched:
        shown = _shown(marks.matched, locale)
        lines.append((Span(t(locale, "keywords.alert.matches", words=shown)),))
    for name, items in marks.watch:
        shown = _shown(items, locale)
        lines.append((Span(t(locale, "keywords.alert.watchwords", watchlist=name, words=shown)),))
    return lines


def _shown(items: Sequence[Item], locale: str) -> str:
    return ", ".join(shown_item(i, locale) for i in items)


def shown_item(item: Item, locale: str) -> str:
    """An item as a chat sees it: a phrase in the language's quotes, exclusions with "-"."""
    text = t(locale, "keywords.quote", text=item.text) if " " in item.text else item.text
    return f"-{text}" if item.exclude else text
