"""The /s/ parser's page-wide part queries find what per-message queries would find."""

from __future__ import annotations

from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.sources.base import _block_text, _inline_lines, node_text
from bot.sources.tme_messages import MESSAGES, message_parts

DATA = Path(__file__).parent / "data" / "telegram"
SELECTORS = {
    "date_link": "a.tgme_widget_message_date",
    "time": ".tgme_widget_message_date time[datetime]",
    "views": ".tgme_widget_message_views",
    "meta": ".tgme_widget_message_meta",
    "forwarded": ".tgme_widget_message_forwarded_from_name",
    "reply": "a.tgme_widget_message_reply",
}
TEXT = ".tgme_widget_message_text.js-message_text"


def _msg(post: int, inner: str) -> str:
    return (
        '<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" '
        f'data-post="c/{post}">{inner}</div></div>'
    )


_REPLY = (
    '<a class="tgme_widget_message_reply"><div class="tgme_widget_message_text js-message_text">'
    "quoted</div></a>"
)
_META = (
    '<span class="tgme_widget_message_views">5</span><span class="tgme_widget_message_meta">'
    '<a class="tgme_widget_message_date" href="https://t.me/c/1">'
    '<time datetime="2026-01-01T00:00:00+00:00">t</time></a></span>'
)
HOSTILE = {
    # A reply preview's text comes first; the message's own text is the next one.
    "reply first": _msg(
        1, _REPLY + '<div class="tgme_widget_message_text js-message_text">own</div>'
    ),
    # A message inside another: its parts belong to both, the outer one's first.
    "nested": _msg(2, '<span class="tgme_widget_message_views">9</span>' + _msg(3, _META)),
    # Parts outside every message belong to none; a time's date class may sit outside.
    "outside": '<span class="tgme_widget_message_views">1</span>'
    + _msg(4, _META)
    + '<div class="tgme_widget_message_date">'
    + _msg(5, '<time datetime="2026-02-02T00:00:00+00:00">x</time>')
    + "</div>",
    # Quirks mode (no doctype): lexbor matches class names in any case.
    "quirks": _msg(6, '<span class="TGME_WIDGET_MESSAGE_VIEWS">7</span>' + _REPLY),
}


def _pages() -> list[tuple[str, str]]:
    pages = sorted(DATA.glob("tme_s_*.html"))
    saved = [(p.name, p.read_text()) for p in pages if "no_posts" not in p.name]
    made = [
        (name, ("" if name == "quirks" else "<!DOCTYPE html>") + f"<body>{body}</body>")
        for name, body in HOSTILE.items()
    ]
    return saved + made


def _reference(message: LexborNode) -> dict[str, int]:
    """Each part as the message's own CSS queries find it (the parser's former way)."""
    found = {name: message.css_first(sel) for name, sel in SELECTORS.items()}
    reply = found["reply"]
    quoted = {n.mem_id for n in reply.css(".tgme_widget_message_text")} if reply else set()
    texts = [n for n in message.css(TEXT) if n.mem_id not in quoted]
    found["text"] = texts[0] if texts else None
    return {name: node.mem_id for name, node in found.items() if node is not None}


@pytest.mark.parametrize(("name", "page"), _pages(), ids=[n for n, _ in _pages()])
def test_parts_match_per_message_queries(name: str, page: str) -> None:
    messages = LexborHTMLParser(page).css(MESSAGES)
    assert messages, name
    parts = message_parts(messages)
    got = {m.mem_id: {k: n.mem_id for k, n in parts[m.mem_id].items()} for m in messages}
    assert got == {m.mem_id: _reference(m) for m in messages}


def test_hostile_pages_exercise_every_rule() -> None:
    def parts_of(name: str) -> list[dict[str, LexborNode]]:
        page = ("" if name == "quirks" else "<!DOCTYPE html>") + HOSTILE[name]
        messages = LexborHTMLParser(page).css(MESSAGES)
        found = message_parts(messages)
        return [found[m.mem_id] for m in messages]

    (reply_first,) = parts_of("reply first")
    assert node_text(reply_first["text"]) == "own"
    outer, inner = parts_of("nested")
    assert outer["views"].text() == "9"
    assert inner["views"].text() == "5"
    assert outer["time"].mem_id == inner["time"].mem_id
    four, five = parts_of("outside")
    assert four["views"].text() == "5"
    assert "views" not in five
    assert "time" in five
    (quirks,) = parts_of("quirks")
    assert quirks["views"].text() == "7"
    assert "text" not in quirks


INLINE = [
    "plain  text",
    "a<br>b<br/><br>c",
    " x <b>bold</b>&nbsp;y\n z <a href='#'>link</a> ",
    "<i>one<br>two</i><!-- c --> three",
    "tab\there\r\nand\u00a0\u202fthere<br> <br>  ",
    "",
]
BLOCK = ["a<p>b</p>c", "<pre> x\n y</pre>", "a<div>b</div>", "<script>x</script>y"]


@pytest.mark.parametrize("markup", INLINE)
def test_inline_fast_path_gives_the_general_text(markup: str) -> None:
    root = LexborHTMLParser(f"<!DOCTYPE html><div id=r>{markup}</div>").css_first("#r")
    assert root is not None
    assert _inline_lines(root) is not None
    assert node_text(root) == _block_text(root)


@pytest.mark.parametrize("markup", BLOCK)
def test_blocks_take_the_general_walk(markup: str) -> None:
    root = LexborHTMLParser(f"<!DOCTYPE html><span id=r>{markup}</span>").css_first("#r")
    assert root is not None
    assert _inline_lines(root) is None
