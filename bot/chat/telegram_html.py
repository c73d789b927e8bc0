"""Reply -> Telegram HTML: every piece of outside text escaped, within 4096 characters.

Telegram's HTML mode understands only a few tags and needs ``<``, ``>`` and ``&`` escaped
in text (and ``"`` in attributes). Lengths are what Telegram checks: 4096 (1024 for a
caption) UTF-16 code units of text after entity parsing, so tags and the URLs of links
do not count and ``&amp;`` is one. A long reply is split between lines, never inside a tag
or an entity; an alert is one message instead, cut by :func:`bot.chat.fit.fit`.
"""

from __future__ import annotations

import html
import re

from bot.chat.fit import fit
from bot.chat.slack_blocks import clean  # one list of invisible characters for all adapters
from bot.reply import Paragraph, Reply, Span, Table, format_table, render_plain

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def tg_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<[^>]*>")


def text_len(message: str) -> int:
    """The length Telegram checks for our HTML ``message``: its text after entity parsing."""
    # Our markup never has "<" or ">" inside text or attributes (both are escaped), so a
    # tag is everything between the two.
    return tg_len(html.unescape(_TAG.sub("", message)))


def escape(text: str) -> str:
    """Escape plain text for Telegram HTML (bidi and zero-width controls dropped)."""
    return html.escape(clean(text), quote=False)


def span_html(span: Span) -> str:
    """One span as Telegram HTML."""
    out = escape(span.text)
    if span.code:
        out = f"<code>{out}</code>"
    if span.bold:
        out = f"<b>{out}</b>"
    if span.italic:
        out = f"<i>{out}</i>"
    if span.strike:
        out = f"<s>{out}</s>"
    if span.link and span.link.startswith(("http://", "https://", "tg://")):
        out = f'<a href="{html.escape(span.link, quote=True)}">{out}</a>'
    return out


def _units(reply: Reply, limit: int) -> list[str]:
    """Self-contained HTML fragments (a line, or a piece of a table) in order."""
    units: list[str] = []
    for index, block in enumerate(reply.blocks):
        if index:
            units.append("")
        if isinstance(block, Paragraph):
            for line in block.lines:
                rendered = "".join(span_html(s) for s in line)
                if text_len(rendered) <= limit:
                    units.append(rendered)
                else:
                    units.extend(_chop("".join(s.text for s in line), limit))
        elif isinstance(block, Table):
            units.extend(_table_units(block, limit))
    return units


def _table_units(table: Table, limit: int) -> list[str]:
    lines = format_table(table)
    units: list[str] = []
    chunk: list[str] = []
    budget = limit
    for line in lines:
        escaped = escape(line)
        if text_len(escaped) > budget:
            escaped = _chop(line, budget // 2)[0]
        if chunk and text_len("\n".join([*chunk, escaped])) > budget:
            units.append("<pre>" + "\n".join(chunk) + "</pre>")
            chunk = []
        chunk.append(escaped)
    if chunk:
        units.append("<pre>" + "\n".join(chunk) + "</pre>")
    return units


def _chop(text: str, limit: int) -> list[str]:
    """Escape an over-long plain line into pieces of at most ``limit``, entities intact."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        escaped = escape(char)
        width = tg_len(clean(char))
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(escaped)
        size += width
    if current:
        pieces.append("".join(current))
    return pieces


def _pack(units: list[str], limit: int) -> list[str]:
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        extra = text_len(unit) + (1 if current else 0)
        if current and size + extra > limit:
            messages.append("\n".join(current).strip("\n"))
            current, size = [], 0
            extra = text_len(unit)
        current.append(unit)
        size += extra
    if current:
        messages.append("\n".join(current).strip("\n"))
    return [m for m in messages if m.strip()]


def render_html(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply as one or more Telegram HTML messages, each within ``limit``."""
    return _pack(_units(reply, limit), limit) or [escape(reply.summary or "…")]


def one_html(reply: Reply) -> str:
    """The whole reply as a single HTML message, however long."""
    return "\n".join(_units(reply, 1 << 30)).strip("\n") or escape(reply.summary or "…")


def one_text(reply: Reply) -> str:
    """The whole reply as a single plain-text message, however long."""
    return render_plain(Reply(blocks=reply.blocks)) or reply.summary or "…"


def fit_html(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> str:
    """The reply as one HTML message whose text Telegram accepts (cut with a linked "…")."""
    message = one_html(fit(reply, lambda r: text_len(one_html(r)), limit))
    if text_len(message) <= limit:
        return message
    return _chop(html.unescape(_TAG.sub("", message)), limit)[0]  # never expected: markup off


def fit_text(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> str:
    """The reply as one plain-text message within ``limit`` (cut with a "…")."""
    message = one_text(fit(reply, lambda r: tg_len(one_text(r)), limit))
    return message if tg_len(message) <= limit else message[: limit // 2]


def render_text(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply as plain-text messages (the fallback when markup was refused)."""
    text = one_text(reply)
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        while tg_len(line) > limit:
            messages.append(line[: limit // 2])
            line = line[limit // 2 :]
        extra = tg_len(line) + (1 if current else 0)
        if current and size + extra > limit:
            messages.append("\n".join(current))
            current, size, extra = [], 0, tg_len(line)
        current.append(line)
        size += extra
    if current:
        messages.append("\n".join(current))
    return [m for m in messages if m.strip()] or ["…"]
