"""Reply -> Telegram HTML: escaped, balanced, within 4096 UTF-16 units."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bot.chat.telegram_html import (
    MESSAGE_LIMIT,
    escape,
    render_html,
    render_text,
    span_html,
    text_len,
    tg_len,
)
from bot.reply import Paragraph, Reply, Span, Table

HOSTILE = '<b>&</b><a href="x">'


class _Checker(HTMLParser):
    """Collects text and checks that tags are balanced and allowed."""

    ALLOWED = frozenset({"b", "i", "s", "code", "pre", "a"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in self.ALLOWED, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack
        assert self.stack.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(message: str) -> str:
    parser = _Checker()
    parser.feed(message)
    parser.close()
    assert parser.stack == []
    return "".join(parser.text)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (Span(HOSTILE), '&lt;b&gt;&amp;&lt;/b&gt;&lt;a href="x"&gt;'),
        (Span("x", bold=True, italic=True), "<i><b>x</b></i>"),
        (Span("a<b", code=True), "<code>a&lt;b</code>"),
        (
            Span("go", link='https://e.x/?a=1&b="2"'),
            '<a href="https://e.x/?a=1&amp;b=&quot;2&quot;">go</a>',
        ),
        (Span("js", link="javascript:alert(1)"), "js"),
        # Struck (a diff's removed words), with the other marks inside.
        (Span("old", strike=True), "<s>old</s>"),
        (Span("a<b & c", strike=True), "<s>a&lt;b &amp; c</s>"),
        (Span("x", bold=True, strike=True), "<s><b>x</b></s>"),
        (Span("gone", strike=True, link="https://e.x"), '<a href="https://e.x"><s>gone</s></a>'),
    ],
)
def test_spans(span: Span, expected: str) -> None:
    assert span_html(span) == expected


def test_hostile_name_appears_literally() -> None:
    reply = Reply(blocks=(Paragraph(((Span(HOSTILE, bold=True),), (Span("ok"),))),))
    [message] = render_html(reply)
    assert check(message) == f"{HOSTILE}\nok"


def test_long_replies_split_between_lines_within_the_limit() -> None:
    lines = tuple((Span(f"{i} " + "я&<" * 40),) for i in range(300))
    table = Table(
        header=("name", "n"),
        rows=tuple((HOSTILE * 3, str(i)) for i in range(400)),
        align=("l", "r"),
    )
    reply = Reply(blocks=(Paragraph(lines), table))
    messages = render_html(reply)
    assert len(messages) > 3
    text = ""
    for message in messages:
        assert text_len(message) <= MESSAGE_LIMIT
        text += check(message) + "\n"
    for i in (0, 150, 299):
        assert f"{i} " + "я&<" * 40 in text
    assert text.count(HOSTILE * 3) == 400


def test_a_single_huge_line_is_chopped_without_breaking_entities() -> None:
    reply = Reply.text("&" * 5000 + "😀" * 3000)
    messages = render_html(reply)
    assert all(text_len(m) <= MESSAGE_LIMIT for m in messages)
    assert "".join(check(m) for m in messages) == "&" * 5000 + "😀" * 3000


def test_plain_fallback_and_empty_reply() -> None:
    reply = Reply(blocks=(Paragraph(((Span("x", link="https://e.x"),),)),), summary="s")
    assert render_text(reply) == ["x (https://e.x)"]
    assert render_html(Reply(summary="<s>")) == [escape("<s>")]
    long = render_text(Reply.text(*(["word " * 50] * 100)))
    assert all(tg_len(m) <= MESSAGE_LIMIT for m in long)
    assert len(long) > 1
