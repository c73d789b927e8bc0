"""Telegram page parsers over every saved page, plus pages they have never seen."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Status
from bot.errors import ParseError
from bot.sources.telegram import merge_plain, parse_channel_page, parse_plain_page

DATA = Path(__file__).parent / "data" / "telegram"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _page(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _s(name: str) -> Any:
    return parse_channel_page(_page(name), channel="chan", fetched_at=NOW)


def _plain(name: str) -> Any:
    return parse_plain_page(_page(name), channel="chan", fetched_at=NOW)


# (file, status, reason, followers, exact, margin, post count)
PLAIN_CASES = [
    ("tme_plain_channel_page_spaces_count.html", Status.OK, None, 48213, True, 0),
    ("tme_plain_channel_page_millions.html", Status.OK, None, 1234567, True, 0),
    ("tme_preview_disabled_channel_after_302.html", Status.OK, None, 6905, True, 0),
    ("tme_plain_group_page_members_online.html", Status.ABSENT, "is_group", None, None, 0),
    ("tme_nonexistent_contact_page_after_302.html", Status.ABSENT, "not_found", None, None, 0),
]


@pytest.mark.parametrize(("name", "status", "reason", "followers", "exact", "margin"), PLAIN_CASES)
def test_plain_pages(
    name: str,
    status: Status,
    reason: str | None,
    followers: int | None,
    exact: bool | None,
    margin: int,
) -> None:
    obs = _plain(name)
    assert (obs.status, obs.reason, obs.followers, obs.followers_exact, obs.followers_margin) == (
        status,
        reason,
        followers,
        exact,
        margin,
    )
    assert obs.posts == ()


def test_plain_page_profile_fields() -> None:
    obs = _plain("tme_plain_channel_page_spaces_count.html")
    assert obs.display_name == "Елена Варга | Заречная область"
    assert obs.description is not None
    assert obs.description.startswith("Официальный канал")
    assert obs.avatar_url is not None
    assert obs.avatar_url.startswith("https://cdn4.telesco.pe/")


def test_contact_page_has_no_avatar_from_the_logo() -> None:
    assert _plain("tme_nonexistent_contact_page_after_302.html").avatar_url is None


# (id, views, edited, forwarded_from, is_reply, text start, published_at)
MAIN_POSTS = [
    (
        "1484",
        912,
        False,
        None,
        False,
        "Завтра в 10:00 — прямая линия.",
        "2026-05-06T17:59:27+00:00",
    ),
    ("1483", 4120, False, None, False, "Подписала постановление", "2026-05-06T10:05:51+00:00"),
    (
        "1482",
        6500,
        False,
        None,
        False,
        "Итоги конкурса «Лучший двор-2026»",
        "2026-05-06T07:40:00+00:00",
    ),
    ("1481", 15800, False, None, False, "Видеообращение к жителям", "2026-05-05T15:02:18+00:00"),
    ("1480", 7060, False, None, True, "Многие спрашивают про запись", "2026-05-05T11:20:44+00:00"),
    ("1477", 10200, False, None, False, "Проверили готовность дамб", "2026-05-05T08:12:09+00:00"),
    ("1476", 11000, True, None, False, "Уточнение по графику", "2026-05-04T16:47:55+00:00"),
    (
        "1475",
        8410,
        False,
        "Заречная областная дума",
        False,
        "Депутаты приняли",
        "2026-05-04T13:05:03+00:00",
    ),
    ("1474", 12300, False, None, False, "Открыли новую поликлинику", "2026-05-04T09:31:40+00:00"),
    ("1473", 9870, False, None, False, "Ремонт моста через Лесную", "2026-05-04T06:58:12+00:00"),
]


def test_channel_page_header() -> None:
    obs = _s("tme_s_channel_page_10_posts.html")
    assert obs.status is Status.OK
    assert obs.display_name == "Елена Варга | Заречная область"
    assert (obs.followers, obs.followers_exact, obs.followers_margin) == (48200, False, 100)
    assert obs.platform_id == "1987654321"
    assert obs.posts_count is None
    assert not obs.no_posts


def test_channel_page_posts_newest_first_without_service_messages() -> None:
    obs = _s("tme_s_channel_page_10_posts.html")
    got = [
        (p.id, p.views, p.edited, p.forwarded_from, p.is_reply, p.published_at.isoformat())
        for p in obs.posts
    ]
    assert got == [(i, v, e, f, r, d) for i, v, e, f, r, _, d in MAIN_POSTS]
    for post, expected in zip(obs.posts, MAIN_POSTS, strict=True):
        assert post.text.startswith(expected[5])
        assert post.url == f"https://t.me/varga_zarechye/{post.id}"


def test_channel_page_text_traps() -> None:
    posts = {p.id: p for p in _s("tme_s_channel_page_10_posts.html").posts}
    assert "Открыли новую поликлинику" not in posts["1480"].text  # the reply preview
    assert posts["1477"].text.count("Проверили готовность дамб") == 1  # album double wrap
    assert posts["1481"].text.startswith("Видеообращение")  # inside .media_supported_cont
    assert "Please open Telegram" not in posts["1481"].text
    assert "\n\n" in posts["1473"].text  # <br/> kept as line breaks
    assert "\u00a0" not in posts["1473"].text
    # a forward is the channel's own post: not a repost, its origin named
    assert not posts["1475"].is_repost
    assert posts["1475"].forwarded_from == "Заречная областная дума"


def test_large_channel_millions() -> None:
    obs = _s("tme_s_large_channel_before_90231.html")
    assert (obs.followers, obs.followers_exact, obs.followers_margin) == (1230000, False, 10000)
    assert [(p.id, p.views, p.edited) for p in obs.posts] == [
        ("90230", 1030000, False),
        ("90229", 12000, True),
        ("90228", 987000, False),
        ("90227", 1100000, False),
    ]
    assert obs.posts[2].text == ""  # a photo without caption


def test_small_channel_start_of_history() -> None:
    obs = _s("tme_s_small_new_channel_start_of_history.html")
    assert (obs.followers, obs.followers_exact) == (23, True)
    assert [(p.id, p.views) for p in obs.posts] == [("3", 1), ("2", 27)]  # "1 view"
    assert obs.platform_id == "2101234567"


def test_no_posts_found_is_unknown_not_empty() -> None:
    with pytest.raises(ParseError) as caught:
        _s("tme_s_before_1_no_posts_found.html")
    assert caught.value.reason == "no_posts_found"


def test_merge_takes_the_exact_count_from_the_plain_page() -> None:
    merged = merge_plain(
        _s("tme_s_large_channel_before_90231.html"), _plain("tme_plain_channel_page_millions.html")
    )
    assert (merged.followers, merged.followers_exact, merged.followers_margin) == (1234567, True, 0)
    assert len(merged.posts) == 4


def test_s_url_redirected_to_plain_page_is_read_as_such() -> None:
    obs = _s("tme_plain_group_page_members_online.html")
    assert (obs.status, obs.reason) == (Status.ABSENT, "is_group")


# --- pages never seen before -----------------------------------------------------------------


def _mutate(name: str, *pairs: tuple[str, str]) -> bytes:
    text = _page(name).decode()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def test_user_and_bot_plain_pages_are_absent_with_reason() -> None:
    base = "tme_plain_group_page_members_online.html"
    user = _mutate(base, ("2 417 members, 86 online", "@zarechye_person"))
    bot = _mutate(base, ("2 417 members, 86 online", "@zarechye_helper_bot"))
    assert parse_plain_page(user, channel="c", fetched_at=NOW).reason == "is_user"
    assert parse_plain_page(bot, channel="c", fetched_at=NOW).reason == "is_bot"


def test_only_service_messages_means_no_posts() -> None:
    body = _mutate(
        "tme_s_small_new_channel_start_of_history.html",
        (
            'js-widget_message" data-post="orlova_deputat/2"',
            'service_message js-widget_message" data-post="orlova_deputat/2"',
        ),
        (
            'js-widget_message" data-post="orlova_deputat/3"',
            'service_message js-widget_message" data-post="orlova_deputat/3"',
        ),
    )
    obs = parse_channel_page(body, channel="c", fetched_at=NOW)
    assert obs.status is Status.OK
    assert obs.posts == ()
    assert obs.no_posts


def test_changed_layout_is_unknown_never_zero() -> None:
    body = _page("tme_s_channel_page_10_posts.html").replace(b"tgme_channel_info", b"tgme_chan_v2")
    body = body.replace(b"tgme_widget_message", b"tgme_msg_v2")
    with pytest.raises(ParseError) as caught:
        parse_channel_page(body, channel="c", fetched_at=NOW)
    assert caught.value.reason == "layout_changed"


def test_truncated_page_is_unknown() -> None:
    body = _page("tme_s_channel_page_10_posts.html")
    with pytest.raises(ParseError) as caught:
        parse_channel_page(body[: len(body) // 2], channel="c", fetched_at=NOW)
    assert caught.value.reason == "truncated"


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (
            b'<html><body><form action="/login" method="post"><input name="u">'
            b'<input type="password" name="p"></form></body></html>',
            "login_wall",
        ),
        (b'<html><body><div id="CybotCookiebotDialog">x</div></body></html>', "consent_page"),
        # words alone are not a structure
        (b"<html><body><h1>Please log in to continue</h1></body></html>", "layout_changed"),
        (b"<html><body>We use cookies. Give your consent.</body></html>", "layout_changed"),
        (b"<html><body>Something else entirely</body></html>", "layout_changed"),
        (b"", "truncated"),
    ],
)
def test_walls_and_strangers_are_unknown(page: bytes, reason: str) -> None:
    for parse in (parse_channel_page, parse_plain_page):
        if reason == "truncated" and parse is parse_plain_page:
            continue
        with pytest.raises(ParseError) as caught:
            parse(page, channel="c", fetched_at=NOW)
        assert caught.value.reason == reason


def test_forced_decimal_views_and_empty_counter() -> None:
    body = _mutate(
        "tme_s_channel_page_10_posts.html",
        ('views">912<', 'views">6.0K<'),
        ('counter_value">48.2K<', 'counter_value"><'),
    )
    obs = parse_channel_page(body, channel="c", fetched_at=NOW)
    assert obs.posts[0].views == 6000
    assert obs.followers is None  # an empty counter is not zero
    assert obs.followers_exact is None


def test_localised_plain_pages() -> None:
    channel = _mutate(
        "tme_plain_channel_page_spaces_count.html", ("48 213 subscribers", "48 213 подписчиков")
    )
    group = _mutate(
        "tme_plain_group_page_members_online.html", ("2 417 members, 86 online", "2 417 участников")
    )
    obs = parse_plain_page(channel, channel="c", fetched_at=NOW)
    assert (obs.followers, obs.followers_exact) == (48213, True)
    assert parse_plain_page(group, channel="c", fetched_at=NOW).reason == "is_group"


def test_unreadable_post_ids_are_a_layout_change_not_an_empty_channel() -> None:
    body = _page("tme_s_channel_page_10_posts.html").replace(
        b'data-post="varga_zarechye/', b'data-post="varga_zarechye/p'
    )
    with pytest.raises(ParseError) as caught:
        parse_channel_page(body, channel="c", fetched_at=NOW)
    assert caught.value.reason == "layout_changed"
