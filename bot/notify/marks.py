"""How an alert shows the words that matched its post: highlighted in the excerpt, and
named on a marker line (the chat's keywords; the watchlists' watchwords)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.detect.keywords import AlertWords, Item, Marks
from bot.i18n import t
from bot.reply import Line, Span

#: Events whose alerts are marked: they are about one post and carry its text.
MARKED_KINDS = frozenset({"new_post", "post_edited", "post_deleted"})


def highlight_quotes(
    lines: list[Line], payload: Mapping[str, Any], words: AlertWords | None
) -> list[Line]:
    """``lines`` with the matched words also bold where a line quotes the post's text (a
    lone italic span found in it, in order); every other line is left as it was."""
    text = payload.get("text")
    if words is None or not isinstance(text, str) or not text:
        return lines
    ranges = words.marks(text).ranges
    if not ranges:
        return lines
    out: list[Line] = []
    cursor = 0
    for line in lines:
        if any(span.strike or span.inserted for span in line):
            out.append(_highlight_diff(line, words))
            continue
        body = _quoted(line)
        at = text.find(body, cursor) if body else -1
        if at < 0:
            out.append(line)
            continue
        cursor = at + len(body)
        out.append(_highlight(line[0].text, at, len(body), ranges))
    return out


def _highlight_diff(line: Line, words: AlertWords) -> Line:
    """A diff line with the matched words of its kept and added runs bold (removed words
    are not in the new text; a phrase across runs is matched, not highlighted)."""
    out: list[Span] = []
    for span in line:
        ranges = () if span.strike else words.marks(span.text).ranges
        at = 0
        for start, end in ranges:
            if start > at:
                out.append(replace(span, text=span.text[at:start]))
            out.append(replace(span, text=span.text[start:end], bold=True))
            at = end
        if at < len(span.text):
            out.append(replace(span, text=span.text[at:]))
    return tuple(out)


def _quoted(line: Line) -> str:
    """The text a line may quote from the post: a lone plain italic span, less its "…"."""
    if len(line) != 1:
        return ""
    span = line[0]
    if not span.italic or span.bold or span.code or span.link or span.strike:
        return ""
    body = span.text.removesuffix("…")
    return body if body.strip() else ""


def _highlight(text: str, offset: int, limit: int, ranges: Sequence[tuple[int, int]]) -> Line:
    """``text`` (its first ``limit`` characters found at ``offset`` of the post) cut into
    italic spans, the parts inside ``ranges`` also bold."""
    spans: list[Span] = []
    at = 0
    for start, end in ranges:
        start, end = max(start - offset, at), min(end - offset, limit)
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
