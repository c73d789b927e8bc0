"""Reply -> Telegram HTML: every piece of outside text escaped, split within 4096 chars.

Telegram's HTML mode understands only a few tags and needs ``<``, ``>`` and ``&`` escaped
in text (and ``"`` in attributes). Messages are split between lines, never inside a tag
or an entity; lengths are counted in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import html

from bot.chat.slack_blocks import clean  # one list of invisible characters for all adapters
from bot.reply import Paragraph, Reply, Span, Table, format_table, render_plain

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def tg_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


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
                if tg_len(rendered) <= limit:
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
    budget = limit - len("<pre></pre>")
    for line in lines:
        escaped = escape(line)
        if tg_len(escaped) > budget:
            escaped = escaped[: budget // 2]
        if chunk and tg_len("\n".join([*chunk, escaped])) > budget:
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
        width = tg_len(escaped)
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
        extra = tg_len(unit) + (1 if current else 0)
        if current and size + extra > limit:
            messages.append("\n".join(current).strip("\n"))
            current, size = [], 0
            extra = tg_len(unit)
        current.append(unit)
        size += extra
    if current:
        messages.append("\n".join(current).strip("\n"))
    return [m for m in messages if m.strip()]


def render_html(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply as one or more Telegram HTML messages, each within ``limit``."""
    return _pack(_units(reply, limit), limit) or [escape(reply.summary or "…")]


def render_text(reply: Reply, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply as plain-text messages (the fallback when markup was refused)."""
    text = render_plain(Reply(blocks=reply.blocks)) or reply.summary or "…"
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
