"""Reply -> Block Kit: outside text can never ping, link or break our markup."""

from __future__ import annotations

import json
import re

import pytest

from bot.chat.slack_blocks import (
    SECTION_TEXT_MAX,
    escape,
    fallback_text,
    home_view,
    plain_text,
    reply_blocks,
    span_mrkdwn,
)
from bot.reply import Attachment, Button, Paragraph, Reply, Span, Table


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("<!here>", "&lt;!here&gt;"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("hi <@U123>", "hi &lt;@U123&gt;"),
        ("<@U123|boss>", "&lt;@U123|boss&gt;"),
        ("see <#C1>", "see &lt;#C1&gt;"),
        ("<!subteam^S1|@team>", "&lt;!subteam^S1|@team&gt;"),
        ("<http://evil|bank>", "&lt;http://evil|bank&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"),
        ("*bold* _it_ ~st~", "*bold* _it_ ~st~"),
        ("`code` ```pre```", "ˋcodeˋ ˋˋˋpreˋˋˋ"),
        ("zero\u200bwidth\u2060joiner\ufeff", "zerowidthjoiner"),
        ("\u202egnp.exe", "gnp.exe"),
        ("\u2066isolated\u2069 \u200fmark", "isolated mark"),
        ("ctrl\x00\x1b[31m", "ctrl[31m"),
        ("line1\nline2\ttab", "line1\nline2\ttab"),
        ("emoji 👨\u200d👩\u200d👧", "emoji 👨\u200d👩\u200d👧"),
        ("Қазақстан Республикасы", "Қазақстан Республикасы"),
    ],
)
def test_escape(raw: str, expected: str) -> None:
    assert escape(raw) == expected


def _no_control_sequences(text: str, allowed_links: tuple[str, ...] = ()) -> None:
    """No ``<...>`` in ``text`` except the links we put there ourselves."""
    for match in re.finditer(r"<([^>]*)>", text):
        assert match.group(1).split("|")[0] in allowed_links, match.group(0)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (Span("Dana"), "Dana"),
        (Span("Dana", bold=True), "*Dana*"),
        (Span(" Dana ", bold=True), " *Dana* "),
        (Span("Dana", italic=True), "_Dana_"),
        (Span("Dana", bold=True, italic=True), "_*Dana*_"),
        (Span("a`b", code=True), "`aˋb`"),
        (Span("<!channel>", bold=True), "*&lt;!channel&gt;*"),
        (Span("two\nlines", bold=True), "*two*\n*lines*"),
        # Struck (a diff's removed words): markers at word boundaries, as for bold.
        (Span("old", strike=True), "~old~"),
        (Span(" old words ", strike=True), " ~old words~ "),
        (Span("   ", strike=True), "   "),
        (Span("A & <!here>", strike=True), "~A &amp; &lt;!here&gt;~"),
        (Span("x", bold=True, strike=True), "~*x*~"),
        (Span("two\nlines", strike=True), "~two~\n~lines~"),
        (Span("gone", strike=True, link="https://t.me/x/1"), "<https://t.me/x/1|~gone~>"),
        (Span("post", link="https://t.me/x/1?a=1&b=2"), "<https://t.me/x/1?a=1&amp;b=2|post>"),
        (Span("a|b", link="https://x.example/"), "<https://x.example/|a∣b>"),
        (Span("<@U1>", link="https://x.example/"), "<https://x.example/|&lt;@U1&gt;>"),
        (
            Span("x", link="https://x.example/<!channel>|y"),
            "<https://x.example/%3C!channel%3E%7Cy|x>",
        ),
        (Span("x", link="javascript:alert(1)"), "x (javascript:alert(1))"),
        (Span("x", link="https://x.example/a b"), "x (https://x.example/a b)"),
        (Span("x", link="<!channel>"), "x (&lt;!channel&gt;)"),
        (Span("", link="https://x.example/"), "<https://x.example/|https://x.example/>"),
    ],
)
def test_span_mrkdwn(span: Span, expected: str) -> None:
    assert span_mrkdwn(span) == expected


def _alert() -> Reply:
    post = "Срочно <!channel> <@U999> смотрите <http://evil.example|kaspi.kz> & *всё*"
    return Reply(
        blocks=(
            Paragraph(
                (
                    (Span("Dana Omarova", bold=True), Span(" — new post")),
                    (Span(post),),
                    (Span("open", link="https://t.me/dana/5"),),
                )
            ),
            Table(("Name", "Followers"), (("<!here>", "1 000"), ("A & B", "5")), ("l", "r"), "Top"),
        ),
        buttons=((Button("Mute <!channel>", "mute:12"), Button("Chart", "chart:12")),),
        summary="Dana Omarova: <!channel> new post",
    )


def test_reply_blocks_never_carry_control_sequences() -> None:
    blocks = reply_blocks(_alert())
    dumped = json.dumps(blocks, ensure_ascii=False)
    assert "<!" not in dumped
    assert "<@" not in dumped
    assert "<http://evil" not in dumped
    sections = [block for block in blocks if block["type"] == "section"]
    assert sections
    for block in sections:
        assert block["text"]["type"] == "mrkdwn"
        assert block["text"]["verbatim"] is True
        _no_control_sequences(block["text"]["text"], allowed_links=("https://t.me/dana/5",))
    kinds = [b["type"] for b in blocks]
    assert kinds == ["section", "section", "actions"]
    table = blocks[1]["text"]["text"]
    assert table.startswith("*Top*")
    assert table.split("\n")[:5] == [
        "*Top*",
        "```",
        "Name     Followers",
        "-------  ---------",
        "&lt;!here&gt;      1 000",
    ]
    buttons = blocks[2]["elements"]
    assert [b["value"] for b in buttons] == ["mute:12", "chart:12"]
    assert len({b["action_id"] for b in buttons}) == 2
    assert buttons[0]["text"] == {"type": "plain_text", "text": "Mute ‹!channel›", "emoji": True}


def test_fallback_and_plain_are_escaped() -> None:
    reply = _alert()
    assert fallback_text(reply) == "Dana Omarova: &lt;!channel&gt; new post"
    plain = plain_text(reply)
    _no_control_sequences(plain)
    assert "&lt;!channel&gt;" in plain
    assert "A &amp; B" in plain
    no_summary = Reply.text("<@U1> & co")
    assert fallback_text(no_summary) == "&lt;@U1&gt; &amp; co"


def test_long_text_is_split_under_slack_limits() -> None:
    lines = tuple((Span("<" * 50 + f" line {i}"),) for i in range(400))
    blocks = reply_blocks(Reply(blocks=(Paragraph(lines),)))
    assert len(blocks) > 1
    for block in blocks:
        text = block["text"]["text"]
        assert len(text) <= SECTION_TEXT_MAX
        assert not re.search(r"&(?!(amp|lt|gt);)", text), "an entity was cut in half"
    one_line = reply_blocks(Reply.text("&" * 5000))
    assert all(len(b["text"]["text"]) <= SECTION_TEXT_MAX for b in one_line)
    assert "".join(b["text"]["text"] for b in one_line) == "&amp;" * 5000
    long_plain = plain_text(Reply.text("<" * 5000))
    assert len(long_plain) <= 3000
    assert long_plain.endswith("…")
    assert re.fullmatch(r"(&lt;)+…", long_plain)


def test_block_count_is_capped() -> None:
    many = Reply(
        blocks=tuple(Paragraph(((Span(f"p{i}"),),)) for i in range(80)),
        buttons=((Button("a", "cmd:/help"),),),
    )
    blocks = reply_blocks(many)
    assert len(blocks) == 50
    assert blocks[-1]["type"] == "actions"
    assert blocks[-2]["text"]["text"] == "…"


def test_home_view_and_attachment_text() -> None:
    view = home_view("govwatch: your subscriptions\u202e", Reply.text("<!channel> all"))
    assert view["type"] == "home"
    assert view["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "govwatch: your subscriptions"},
    }
    assert view["blocks"][1]["text"]["text"] == "&lt;!channel&gt; all"
    chart = Reply(attachment=Attachment(b"png", "chart.png", "image/png"))
    assert reply_blocks(chart) == []
