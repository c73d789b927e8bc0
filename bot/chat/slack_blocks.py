"""Turn a platform-neutral Reply into Slack Block Kit with mrkdwn, escaping outside text.

Slack reads ``<...>`` as control sequences (``<!channel>``, ``<@U123>``, ``<url|label>``),
so every ``&``, ``<`` and ``>`` of outside text becomes an entity; this is the only
escaping Slack decodes, and it guarantees that a quoted post can never ping anyone or
fake a link. Bidi and zero-width controls are dropped (they can make a link or a name
read differently from what it is), and backticks become a look-alike so outside text can
never close or open a code span around our own markup. Slack has no escape for ``*``,
``_`` and ``~``: outside text may come out bold or italic, which is cosmetic only.

Our own markers go around a span's text with its edge spaces outside (Slack reads
``*bold*`` only at word boundaries): bold ``*``, italic ``_``, struck ``~``. A message is
cut to what Slack accepts (:func:`message_blocks`); lengths are counted in UTF-16 code
units, the stricter reading of Slack's "characters".
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from bot.chat.fit import fit
from bot.reply import Line, Paragraph, Reply, Span, Table, format_table, render_plain

#: Slack's limits (Block Kit reference).
SECTION_TEXT_MAX = 3000
BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
BUTTON_TEXT_MAX = 75
FALLBACK_MAX = 3000
HEADER_MAX = 150
#: chat.postMessage refuses a ``text`` longer than this (msg_too_long).
TEXT_MAX = 40_000
#: Slack refuses a message whose blocks hold about 12,000 characters of text in all
#: (msg_blocks_too_long; not documented, so a message stays well below it).
MESSAGE_TEXT_MAX = 10_000

# Bidi embeddings/overrides/isolates and marks, zero-width space, word joiner and friends,
# BOM, soft hyphen, and C0/C1 controls other than newline and tab. ZWJ/ZWNJ stay: emoji
# sequences and some scripts need them, and they cannot reorder or hide text.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
_BACKTICK_LOOKALIKE = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def slack_len(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` UTF-16 code units."""
    if slack_len(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def clean(text: str) -> str:
    """Outside text with bidi, zero-width and control characters removed."""
    return _INVISIBLE.sub("", text)


def escape(text: str) -> str:
    """Outside text made inert for Slack mrkdwn (entities, no controls, no backticks)."""
    text = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("`", _BACKTICK_LOOKALIKE)


def label(text: str) -> str:
    """Outside text for a ``plain_text`` object: Slack does not parse it, but angle
    brackets become look-alikes anyway so no payload ever carries ``<!...>``."""
    return clean(text).replace("<", "\u2039").replace(">", "\u203a")


def _safe_url(url: str) -> str | None:
    """The URL escaped for ``<url|label>``, or None when it is not an http(s)/mailto link."""
    url = clean(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES or any(c.isspace() for c in url):
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    escaped = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    return escaped.replace("|", "%7C")


def _wrap(text: str, marker: str) -> str:
    """Wrap escaped text in a mrkdwn marker, keeping edge spaces outside (Slack needs that)."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{marker}{core}{marker}{trail}"


def span_mrkdwn(span: Span) -> str:
    """One span as mrkdwn: escaped text with our own emphasis, code or link markup."""
    parts = []
    for piece in span.text.split("\n"):
        text = escape(piece)
        if span.code:
            text = _wrap(text, "`")
        else:
            if span.bold:
                text = _wrap(text, "*")
            if span.italic:
                text = _wrap(text, "_")
            if span.strike:
                text = _wrap(text, "~")
        parts.append(text)
    text = "\n".join(parts)
    if span.link:
        url = _safe_url(span.link)
        if url is None:
            return f"{text} ({escape(span.link)})" if span.link != span.text else text
        label = text.replace("|", "\u2223") or url  # "|" would end the label early
        return f"<{url}|{label}>"
    return text


def line_mrkdwn(line: Line) -> str:
    """One line of spans as mrkdwn."""
    return "".join(span_mrkdwn(span) for span in line)


def table_mrkdwn(table: Table) -> list[str]:
    """A table as mrkdwn code blocks, each under Slack's section limit (title on the first)."""
    out: list[str] = []
    chunk: list[str] = []
    budget = SECTION_TEXT_MAX - 200
    # Columns are aligned on the displayed text: entities show as one character each.
    cleaned = Table(
        tuple(clean(c) for c in table.header),
        tuple(tuple(clean(c) for c in row) for row in table.rows),
        table.align,
    )
    for row in format_table(cleaned):
        line = _cut_at(escape(row), budget)
        if chunk and sum(slack_len(x) + 1 for x in chunk) + slack_len(line) > budget:
            out.append("```\n" + "\n".join(chunk) + "\n```")
            chunk = []
        chunk.append(line)
    if chunk:
        out.append("```\n" + "\n".join(chunk) + "\n```")
    if table.title and out:
        out[0] = _wrap(_cut_at(escape(table.title), HEADER_MAX), "*") + "\n" + out[0]
    return out


def _split_text(lines: list[str]) -> list[str]:
    """Join mrkdwn lines into section texts no longer than Slack allows."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        for piece in _hard_split(line):
            if current and size + slack_len(piece) + 1 > SECTION_TEXT_MAX:
                out.append("\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += slack_len(piece) + 1
    if current:
        out.append("\n".join(current))
    return out


def _line_texts(line: Line) -> list[str]:
    """One line as mrkdwn, in pieces that each fit a section (cut between words, each
    piece with its own markers, so bold or italic never runs across two sections)."""
    pieces: list[str] = []
    rest = line
    while rest:
        text = line_mrkdwn(rest)
        if slack_len(text) <= SECTION_TEXT_MAX:
            pieces.append(text)
            break
        cut = _section_cut(rest)
        if cut == 0:  # not even one character fits with its markup: cut the mrkdwn itself
            pieces.extend(_hard_split(text))
            break
        pieces.append(line_mrkdwn(_line_head(rest, cut)))
        rest = _line_rest(rest, cut)
    return pieces


def _section_cut(line: Line) -> int:
    """How many characters of ``line`` go in one section (at a space when one is near)."""
    lo, hi = 0, min(SECTION_TEXT_MAX, sum(len(s.text) for s in line))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if slack_len(line_mrkdwn(_line_head(line, mid))) <= SECTION_TEXT_MAX:
            lo = mid
        else:
            hi = mid - 1
    text = "".join(s.text for s in line)[:lo]
    space = text.rfind(" ", max(0, lo - 200))
    return space + 1 if space > 0 else lo


def _line_head(line: Line, size: int) -> Line:
    """The first ``size`` characters of ``line`` (spans keep their marks)."""
    out: list[Span] = []
    for span in line:
        if size <= 0:
            break
        out.append(replace(span, text=span.text[:size]))
        size -= len(span.text)
    return tuple(out)


def _line_rest(line: Line, size: int) -> Line:
    """``line`` without its first ``size`` characters."""
    out: list[Span] = []
    for span in line:
        if size >= len(span.text):
            size -= len(span.text)
            continue
        out.append(replace(span, text=span.text[size:]) if size > 0 else span)
        size = 0
    return tuple(out)


def _hard_split(line: str) -> list[str]:
    """Cut a single over-long line, never inside an entity such as ``&amp;``."""
    pieces = []
    while slack_len(line) > SECTION_TEXT_MAX:
        piece = _cut_at(line, SECTION_TEXT_MAX)
        pieces.append(piece)
        line = line[len(piece) :]
    pieces.append(line)
    return pieces


def _cut_at(text: str, limit: int) -> str:
    """The start of escaped text within ``limit`` UTF-16 units, backing off a split entity."""
    cut = _prefix(text, limit)
    if len(cut) == len(text):
        return text
    end = len(cut)
    amp = text.rfind("&", max(end - 5, 0), end)
    if amp > 0 and ";" not in text[amp:end]:
        return text[:amp]
    return cut


def _section(text: str) -> dict[str, Any]:
    # verbatim: Slack must not auto-link channel names or parse mentions in our text.
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _buttons(reply: Reply) -> list[dict[str, Any]]:
    blocks = []
    for row_no, row in enumerate(reply.buttons):
        elements = [
            {
                "type": "button",
                "action_id": f"gw.{row_no}.{col}",
                "text": {
                    "type": "plain_text",
                    "text": _prefix(label(button.text), BUTTON_TEXT_MAX) or "…",
                    "emoji": True,
                },
                "value": button.action,
            }
            for col, button in enumerate(row[:25])
        ]
        if elements:
            blocks.append(
                {"type": "actions", "block_id": f"gw.actions.{row_no}", "elements": elements}
            )
    return blocks


def content_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The reply's paragraphs and tables as section blocks (no buttons, no limit applied)."""
    blocks: list[dict[str, Any]] = []
    for block in reply.blocks:
        if isinstance(block, Paragraph):
            texts = _split_text([piece for line in block.lines for piece in _line_texts(line)])
        else:
            texts = table_mrkdwn(block)
        blocks.extend(_section(text) for text in texts if text.strip())
    return blocks


def reply_blocks(reply: Reply, *, limit: int = BLOCKS_MAX) -> list[dict[str, Any]]:
    """The whole reply as Block Kit blocks (sections, then one actions block per row)."""
    buttons = _buttons(reply)
    content = content_blocks(reply)
    room = limit - len(buttons)
    if len(content) > room:
        content = [*content[: room - 1], _section("…")]
    return content + buttons


def message_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The reply as the blocks of one message Slack accepts, cut (with a linked "…") if long."""
    return reply_blocks(fit(reply, _blocks_size, MESSAGE_TEXT_MAX))


def _blocks_size(reply: Reply) -> int:
    """The text Slack counts in the reply's blocks; too many blocks count as too long."""
    content = content_blocks(reply)
    if len(content) + len(_buttons(reply)) > BLOCKS_MAX:
        return MESSAGE_TEXT_MAX + 1
    labels = sum(slack_len(label(b.text)) for row in reply.buttons for b in row)
    return sum(slack_len(b["text"]["text"]) for b in content) + labels


def _plain(reply: Reply) -> str:
    return escape(render_plain(reply))


def plain_text(reply: Reply, *, limit: int = FALLBACK_MAX) -> str:
    """The reply as escaped plain text: the notification fallback and the ``plain`` mode."""
    text = _plain(fit(reply, lambda r: slack_len(_plain(r)), limit))
    return text if slack_len(text) <= limit else _cut_at(text, limit - 1) + "…"


def fallback_text(reply: Reply) -> str:
    """The short text Slack shows in notifications: the summary, else the plain reply."""
    if reply.summary:
        summary = escape(reply.summary)
        return _cut_at(summary, FALLBACK_MAX)
    return plain_text(reply)


def home_view(title: str, reply: Reply) -> dict[str, Any]:
    """An App Home tab: a header followed by the reply's content."""
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": _prefix(label(title), HEADER_MAX) or "govwatch"},
    }
    return {"type": "home", "blocks": [header, *reply_blocks(reply, limit=VIEW_BLOCKS_MAX - 1)]}
