"""A :class:`~bot.reply.Reply` (an alert as the notifier renders it) as escaped HTML.

Like the Telegram and Slack markup modules, this is the one place where a reply's plain
text becomes markup: every span is escaped, only web links become anchors, and buttons
(chat actions) are dropped.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from bot.reply import Line, Paragraph, Reply, Span, Table


def web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) link, else None (outside links are never javascript:)."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def span_html(span: Span) -> str:
    """One span, escaped, with its emphasis."""
    text = escape(span.text)
    for flag, tag in (
        (span.code, "code"),
        (span.bold or span.inserted, "strong"),
        (span.italic, "em"),
        (span.strike, "del"),
    ):
        if flag:
            text = f"<{tag}>{text}</{tag}>"
    link = web_link(span.link)
    if link is not None:
        text = f'<a href="{escape(link)}" rel="nofollow noopener noreferrer">{text}</a>'
    return text


def _line(line: Line) -> str:
    return "".join(span_html(s) for s in line)


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def reply_html(reply: Reply, *, skip_first: bool = False) -> Markup:
    """The reply's blocks as HTML (``skip_first``: drop the first line, the heading)."""
    out: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Paragraph):
            lines = block.lines[1:] if skip_first and not out else block.lines
            out.append("<p>" + "<br>".join(_line(line) for line in lines) + "</p>")
        else:
            out.append(_table(block))
    return Markup("".join(out))  # noqa: S704  # every piece above is escaped
