"""The one t.me renderer: its pages read back through the real parser, shaped like captures."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

from bot.demo.tme import TmeChannel, TmePost, channel_page, contact_page, plain_page
from bot.domain import Status
from bot.sources import telegram, tme_messages
from bot.sources.telegram import parse_channel_page, parse_plain_page

DATA = Path(__file__).parent / "data" / "telegram"
NOW = datetime(2026, 5, 7, 12, 0, tzinfo=UTC)
# {"c":-1987654321,...}: the channel id the parser takes from data-view
VIEW = "eyJjIjotMTk4NzY1NDMyMSwicCI6MTQ3MywidCI6MTc3ODE1MDQxMywiaCI6IjRjMWU5YTc3ZDIwYjNmNmU1MSJ9"
CHANNEL = TmeChannel(
    handle="varga",
    title="Елена Варга & co",
    followers=48_213,
    description="Депутат <областной> думы",
    avatar="https://cdn4.telesco.pe/file/a.jpg",
    verified=True,
    posts=(
        TmePost(7, "first<br/>line", datetime(2026, 5, 4, 6, 58, 12, 500, UTC), views=9870),
        TmePost(
            9,
            "<b>second</b>",
            datetime(2026, 5, 6, 17, 59, 27, tzinfo=UTC),
            views=912,
            edited=True,
            data_view=VIEW,
            photo="https://cdn4.telesco.pe/file/p.jpg",
            reactions=(("👍", "12"),),
        ),
    ),
    has_older=True,
    counters=(("1.12K", "photos"),),
)


def test_channel_page_reads_back_through_the_parser() -> None:
    obs = parse_channel_page(channel_page(CHANNEL), channel="varga", fetched_at=NOW)
    assert obs.status is Status.OK
    assert (obs.display_name, obs.description) == ("Елена Варга & co", "Депутат <областной> думы")
    assert obs.avatar_url == "https://cdn4.telesco.pe/file/a.jpg"
    assert (obs.followers, obs.followers_exact) == (48_200, False)
    assert obs.platform_id == "1987654321"
    newest, oldest = obs.posts
    assert (newest.id, newest.text, newest.views, newest.edited) == ("9", "second", 912, True)
    assert newest.url == "https://t.me/varga/9"
    assert newest.published_at == datetime(2026, 5, 6, 17, 59, 27, tzinfo=UTC)
    assert (oldest.text, oldest.views, oldest.edited) == ("first\nline", 9870, False)
    assert oldest.published_at == datetime(2026, 5, 4, 6, 58, 12, tzinfo=UTC)  # seconds, as t.me


def test_shown_counter_and_missing_parts() -> None:
    bare = TmeChannel(
        handle="c", title="C", followers=12_345, followers_text="12.3K",
        posts=(TmePost(1, "x", NOW),),
    )  # fmt: skip
    body = channel_page(bare)
    obs = parse_channel_page(body, channel="c", fetched_at=NOW)
    assert (obs.followers, obs.description, obs.avatar_url) == (12_300, None, None)
    assert obs.posts[0].views is None
    assert b'rel="prev"' not in body
    assert b'rel="prev" href="/s/varga?before=7"' in channel_page(CHANNEL)


def test_plain_and_contact_pages_read_back() -> None:
    obs = parse_plain_page(plain_page(CHANNEL), channel="varga", fetched_at=NOW)
    assert (obs.status, obs.followers, obs.followers_exact) == (Status.OK, 48_213, True)
    assert (obs.display_name, obs.avatar_url) == ("Елена Варга & co", CHANNEL.avatar)
    gone = parse_plain_page(contact_page("nobody"), channel="nobody", fetched_at=NOW)
    assert (gone.status, gone.reason) == (Status.ABSENT, "not_found")


def _classes(html: str) -> set[str]:
    return {c for attr in re.findall(r'class="([^"]*)"', html) for c in attr.split()}


def _parser_classes() -> set[str]:
    # The classes the /s/ and plain page parsers select on: every selector-like string
    # constant in bot/sources/telegram.py and bot/sources/tme_messages.py.
    strings = [
        node.value
        for module in (telegram, tme_messages)
        for node in ast.walk(ast.parse(Path(module.__file__ or "").read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    selectors = [
        s for s in strings if re.fullmatch(r"[\w\s.,:\[\]=\"-]*\.[a-z][\w\s.,:\[\]=\"-]*", s)
    ]
    return {c for sel in selectors for c in re.findall(r"\.([a-z][\w-]*)", sel)}


def test_structure_copies_the_captures() -> None:
    # Every class the parser reads that the captured pages show, the renderer shows too.
    read = _parser_classes() - {"tgme_widget_message_reply", "tme_no_messages_found"}
    read -= {"tgme_widget_message_forwarded_from_name"}  # replies and forwards: not rendered
    assert {"tgme_channel_info_counter", "tgme_widget_message_date"} <= read
    for capture, page in (
        ("tme_s_channel_page_10_posts.html", channel_page(CHANNEL)),
        ("tme_plain_channel_page_spaces_count.html", plain_page(CHANNEL)),
    ):
        shown = read & _classes((DATA / capture).read_text())
        assert shown
        assert shown <= _classes(page.decode()), capture
