"""Cutting a reply to one message: the start and the last line kept, a linked "…" between."""

from __future__ import annotations

import pytest

from bot.chat.fit import MARK, fit
from bot.reply import Button, Paragraph, Reply, Span, Table, render_plain

URL = "https://t.me/chan/7"


def text(reply: Reply) -> str:
    return render_plain(Reply(blocks=reply.blocks))


def size(reply: Reply) -> int:
    return len(text(reply))


def alert(body: str, *, strike: bool = False) -> Reply:
    """Shaped like an alert: who, what, the post's text, and where with the link."""
    return Reply(
        blocks=(
            Paragraph(
                (
                    (Span("✏️ "), Span("Dana", bold=True)),
                    (Span("A post was edited"),),
                    (Span(body, italic=True, strike=strike),),
                    (Span("Telegram · chan · "), Span("open the post", link=URL)),
                )
            ),
        ),
        buttons=((Button("Mute", "mute:1"),),),
        summary="Dana: A post was edited",
        reply_to="41",
    )


TAIL = f"Telegram · chan · open the post ({URL})"
HEAD = "✏️ Dana\nA post was edited\n"
LINKED = f"{MARK} ({URL})"


def room(body: int) -> int:
    """The limit that leaves ``body`` characters of the post's text beside the rest."""
    return len(HEAD + TAIL) + 1 + body + len(LINKED)


@pytest.mark.parametrize(
    ("body", "limit", "kept"),
    [
        # Fits: nothing changes.
        ("short text", 200, "short text"),
        # Cut between words, never inside one; the marker links to the post.
        (
            "alpha beta gamma delta",
            room(12),
            "alpha beta",
        ),
        # No space nearby: cut inside the word.
        ("x" * 300, room(50), "x" * 50),
        # A family emoji (joined by ZWJ) is kept whole or not at all.
        (
            "ab" + "👨\u200d👩\u200d👧" * 3,
            room(6),
            "ab👨\u200d👩\u200d👧",
        ),
        # A flag is two regional indicators: never split.
        ("🇰🇿🇰🇿🇰🇿", room(3), "🇰🇿"),
        # A letter with a combining accent stays whole.
        ("e\u0301e\u0301e\u0301", room(3), "e\u0301"),
        # The cut word is the line's first: the whole line goes rather than half a word.
        ("supercalifragilistic and more", room(10), ""),
        # Nothing of the body fits: the marker alone stands for it, on its own line.
        ("word " * 50, room(0), ""),
    ],
)
def test_alert_body_is_cut_and_the_last_line_kept(body: str, limit: int, kept: str) -> None:
    reply = alert(body)
    fitted = fit(reply, size, limit)
    assert size(fitted) <= limit
    if size(reply) <= limit:
        assert fitted is reply
        return
    assert text(fitted) == f"{HEAD}{kept}{LINKED}\n{TAIL}"
    assert (fitted.buttons, fitted.summary, fitted.reply_to) == (
        reply.buttons,
        reply.summary,
        reply.reply_to,
    )


def test_the_cut_span_keeps_its_style() -> None:
    limit = room(len("[-removed-]"))
    fitted = fit(alert("removed words here and there, and more", strike=True), size, limit)
    assert isinstance(fitted.blocks[0], Paragraph)
    body = fitted.blocks[0].lines[2]
    assert body[0].strike
    assert body[0].italic
    assert body[0].text == "removed"
    assert body[1] == Span(MARK, link=URL)


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        # No room for the last line: the start is kept, the marker still links.
        (len(f"✏️ Dana\n{MARK} ({URL})"), f"✏️ Dana\n{MARK} ({URL})"),
        (len(f"✏️ Dana\n{MARK} ({URL})") - 1, f"✏️{MARK} ({URL})"),
        # No room for the link either: a bare marker.
        (12, f"✏️ Dana\nA{MARK}"),
        (1, MARK),
        (0, MARK),
    ],
)
def test_too_small_for_the_last_line(limit: int, shown: str) -> None:
    fitted = fit(alert("some text"), size, limit)
    assert text(fitted) == shown


def test_a_single_line_is_cut_without_a_tail() -> None:
    fitted = fit(Reply.text("one two three four"), size, 10)
    assert text(fitted) == f"one two{MARK}"


def test_tables_are_kept_whole_or_dropped() -> None:
    table = Table(("a", "b"), tuple((str(i), "x" * 20) for i in range(10)))
    reply = Reply(blocks=(Paragraph(((Span("title"),),)), table, Paragraph(((Span("end"),),))))
    whole = size(Reply(blocks=reply.blocks[:2]))
    assert "x" * 20 in text(fit(reply, size, whole + 10))
    dropped = text(fit(reply, size, whole - 1))
    assert "x" * 20 not in dropped
    assert dropped.startswith("title")
    assert dropped.endswith("end")
