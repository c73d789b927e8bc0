"""Hostile names and posts through the chat adapters: markup, mentions, links and bidi tricks.

Outside text (an official's name, a post, a profile's display name) must reach Telegram
HTML and Slack mrkdwn as inert text: no tag, mention, link or code span of its own, no
invisible character that reorders what the journalist reads; the handle stays visible.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.chat import slack_blocks, telegram_html
from bot.reply import Paragraph, Reply, Span, Table
from tests.crash_summary import Tally

HOSTILE = [
    "<script>alert(1)</script>",
    '<a href="tg://resolve?domain=evil">tap</a>',
    "</b></i><b>fake bold",
    "&lt;b&gt; already escaped &amp;",
    "*bold* _italic_ ~strike~ `code` ```block```",
    "[bank](https://evil.example) <https://evil.example|https://bank.example>",
    "@everyone @channel <!channel> <!here> <!everyone>",
    "<@U0123ABCD> <#C0123ABCD> <!subteam^S0123ABCD>",
    "Dana \u202eavoramO\u202c",  # right-to-left override
    "Ai\u200bmagambetov\u2060\ufeff",  # zero-width characters
    "\u2066evil\u2069 isolate \u200e\u200f marks",
    "line1\nline2\r\n<b>",
    "x" * 5000,
]
INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
POST_URL = "https://t.me/dana_official/42"
HANDLE = "dana_official"


def _alert(name: str, text: str) -> Reply:
    """An alert shaped like the renderer's: name, post excerpt, where (handle) and a link."""
    return Reply(
        blocks=(
            Paragraph(
                (
                    (Span("📝 "), Span(name, bold=True)),
                    (Span(text, italic=True),),
                    (
                        Span(f"Telegram @{HANDLE} · 1 Nov 2026"),
                        Span(" · "),
                        Span("open", link=POST_URL),
                    ),
                )
            ),
            Table(header=("name", "followers"), rows=((name, "1"),)),
        ),
        summary=f"{name}: {text[:50]}",
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_telegram_html_keeps_outside_text_inert(hostile: str, crash_tally: Tally) -> None:
    messages = telegram_html.render_html(_alert(hostile, hostile))
    parser = _Tags()
    for message in messages:
        assert telegram_html.text_len(message) <= telegram_html.MESSAGE_LIMIT
        parser.feed(message)
    assert {tag for tag, _ in parser.tags} <= {"b", "i", "pre", "a", "code"}
    hrefs = [attrs.get("href") for tag, attrs in parser.tags if tag == "a"]
    assert hrefs == [POST_URL]
    shown = "".join(parser.text)
    assert HANDLE in shown
    visible = INVISIBLE.sub("", hostile).replace("\r", "")
    for piece in visible.splitlines():
        assert piece.strip() in shown
    crash_tally.refusal()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_slack_mrkdwn_keeps_outside_text_inert(hostile: str, crash_tally: Tally) -> None:
    reply = _alert(hostile, hostile)
    texts = [b["text"]["text"] for b in slack_blocks.reply_blocks(reply) if "text" in b]
    texts.append(slack_blocks.fallback_text(reply))
    texts.append(slack_blocks.plain_text(reply))
    for text in texts:
        # The only control sequence allowed is our own link, to our own URL.
        for sequence in re.findall(r"<([^>]*)>", text):
            assert sequence.startswith(POST_URL + "|"), sequence
        assert not INVISIBLE.search(text)
    assert any(HANDLE in text for text in texts)
    sections = [b for b in slack_blocks.reply_blocks(reply) if b["type"] == "section"]
    assert sections
    assert all(block["text"]["verbatim"] is True for block in sections)
    crash_tally.refusal()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_plain_fallbacks_are_bounded(hostile: str) -> None:
    reply = _alert(hostile, hostile)
    messages = telegram_html.render_text(reply)
    assert messages
    for message in messages:
        assert telegram_html.tg_len(message) <= telegram_html.MESSAGE_LIMIT
    assert len(slack_blocks.fallback_text(reply)) <= slack_blocks.FALLBACK_MAX


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "tg://x\u202e"]
)
def test_links_with_foreign_schemes_are_not_links(link: str) -> None:
    reply = Reply(blocks=(Paragraph(((Span("click", link=link),),)),))
    html_out = "".join(telegram_html.render_html(reply))
    assert 'href="javascript' not in html_out
    assert 'href="file' not in html_out
    assert 'href="data' not in html_out
    mrkdwn = slack_blocks.reply_blocks(reply)[0]["text"]["text"]
    assert "<" not in mrkdwn.replace("&lt;", "")
