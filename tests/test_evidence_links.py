"""Post links and the pure parts of an evidence file, from tables (issue 16)."""

from __future__ import annotations

import hashlib

import pytest

from bot.domain import Platform
from bot.reports.evidence import (
    CHECK_MISMATCH,
    CHECK_MISSING_FRAGMENT,
    CHECK_NO_FRAGMENT,
    CHECK_NO_STORED_HASH,
    CHECK_OK,
    file_stem,
    iso_z,
    parse_time,
    raw_check,
    web_href,
)
from bot.reports.post_links import (
    InvalidLink,
    link_variants,
    looks_like_link,
    normalize_link,
    parse_post_link,
)

# Every link of a row is the same post, however it was written.
SAME_POST = [
    (
        "https://t.me/musin_digital/137",
        "t.me/musin_digital/137",
        "http://t.me/musin_digital/137",
        "https://t.me/s/musin_digital/137",
        "https://t.me/musin_digital/137/",
        "https://t.me/musin_digital/137?single",
        "https://t.me/s/Musin_Digital/137?embed=1&mode=tme",
        "https://telegram.me/musin_digital/137#comments",
        "https://www.t.me/musin_digital/137",
        "  <https://t.me/musin_digital/137>  ",
    ),
    (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?si=AbCdEf",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=42s&feature=share",
        "https://youtube.com/shorts/dQw4w9WgXcQ",
        "https://www.youtube.com/live/dQw4w9WgXcQ?feature=share",
    ),
    (
        "https://x.com/dana/status/1790000000000000000",
        "https://twitter.com/Dana/status/1790000000000000000?s=20&t=abc",
        "https://mobile.twitter.com/dana/status/1790000000000000000/",
    ),
    (
        "https://bsky.app/profile/dana.bsky.social/post/3kabc",
        "https://bsky.app/profile/Dana.bsky.social/post/3kabc/",
    ),
    (
        "https://vk.com/wall-123_45",
        "https://m.vk.com/wall-123_45?from=groups",
        "https://vk.com/minister_page?w=wall-123_45",
    ),
    (
        "https://gov.kz/memleket/entities/edu/press/news/details/101",
        "http://www.gov.kz/memleket/entities/edu/press/news/details/101/",
        "https://gov.kz/memleket/entities/edu/press/news/details/101?utm_source=telegram&fbclid=x",
        "https://GOV.KZ:443/memleket/entities/edu/press/news/details/101#top",
    ),
    (
        "https://news.example/article.php?id=5&lang=ru",
        "https://news.example/article.php?lang=ru&id=5&utm_medium=social",
    ),
    (
        "https://www.facebook.com/permalink.php?story_fbid=111&id=222",
        "https://m.facebook.com/permalink.php?id=222&story_fbid=111&ref=share",
    ),
]

# Links that must never be taken for each other.
DIFFERENT_POSTS = [
    ("https://t.me/musin_digital/137", "https://t.me/musin_digital/138"),
    ("https://t.me/musin_digital/137", "https://t.me/other_channel/137"),
    ("https://news.example/article.php?id=5", "https://news.example/article.php?id=6"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=aaaaaaaaaaa"),
    ("https://gov.kz/news/1", "https://gov.kz/news/10"),
    ("http://127.0.0.1:8080/@dana/99", "http://127.0.0.1:8081/@dana/99"),
]


@pytest.mark.parametrize("links", SAME_POST, ids=lambda links: links[0])
def test_every_way_of_writing_a_post_link_normalizes_alike(links: tuple[str, ...]) -> None:
    normal = {normalize_link(link) for link in links}
    assert len(normal) == 1, normal
    # Each written form is found by the exact-match lookup of the first one's variants
    # when it is one of the plain forms (scheme, www, trailing slash).
    assert normalize_link(links[0]) in link_variants(links[0])


@pytest.mark.parametrize(("one", "other"), DIFFERENT_POSTS)
def test_different_posts_stay_different(one: str, other: str) -> None:
    assert normalize_link(one) != normalize_link(other)


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("https://gov.kz/news/1/", "http://www.gov.kz/news/1"),
        ("http://gov.kz/news/1", "https://gov.kz/news/1/"),
        ("https://www.gov.kz/news/1", "gov.kz/news/1"),
        ("https://gov.kz/news/view?id=5", "https://gov.kz/news/view?id=5"),
    ],
)
def test_link_variants_cover_how_a_feed_may_have_stored_the_link(stored: str, typed: str) -> None:
    assert stored in link_variants(typed)


@pytest.mark.parametrize(
    ("link", "platform", "handle", "post_id"),
    [
        ("https://t.me/s/Musin_Digital/137?single", Platform.TELEGRAM, "musin_digital", "137"),
        ("https://t.me/musin_digital", Platform.TELEGRAM, "musin_digital", None),
        ("https://t.me/c/1234567/89", Platform.TELEGRAM, None, "89"),
        (
            "https://bsky.app/profile/dana.bsky.social/post/3kabc",
            Platform.BLUESKY,
            "dana.bsky.social",
            "3kabc",
        ),
        (
            "https://bsky.app/profile/did:plc:abc/post/3kabc",
            Platform.BLUESKY,
            "did:plc:abc",
            "3kabc",
        ),
        ("https://twitter.com/Dana/status/179", Platform.X, "dana", "179"),
        ("https://x.com/i/web/status/179", Platform.X, None, "179"),
        ("https://youtu.be/dQw4w9WgXcQ", Platform.YOUTUBE, None, "dQw4w9WgXcQ"),
        ("https://www.youtube.com/@channel", Platform.YOUTUBE, None, None),
        ("https://vk.com/wall-123_45", Platform.VK, None, "45"),
        (
            "https://www.facebook.com/MinistryPage/posts/pfbid02abc",
            Platform.FACEBOOK,
            "MinistryPage",
            None,
        ),
        (
            "https://www.facebook.com/permalink.php?story_fbid=1&id=2",
            Platform.FACEBOOK,
            None,
            None,
        ),
        ("https://www.instagram.com/p/C1aBcD/", Platform.INSTAGRAM, None, None),
        ("https://mastodon.social/@Dana/1122", Platform.MASTODON, "Dana@mastodon.social", "1122"),
        ("http://127.0.0.1:8080/@dana/99", Platform.MASTODON, "dana@127.0.0.1:8080", "99"),
        (
            "https://mastodon.social/users/dana/statuses/1122",
            Platform.MASTODON,
            "dana@mastodon.social",
            "1122",
        ),
        (
            "https://mastodon.social/@dana@other.example/1122",
            Platform.MASTODON,
            "dana@other.example",
            None,
        ),
        ("https://gov.kz/ru/news/1", None, None, None),
    ],
)
def test_what_a_post_link_names(
    link: str, platform: Platform | None, handle: str | None, post_id: str | None
) -> None:
    parsed = parse_post_link(link)
    assert (parsed.platform, parsed.handle, parsed.post_id) == (platform, handle, post_id)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "hello world", "ftp://t.me/a/1", "javascript:alert(1)", "https://", "mailto:a@b.c",
     "https://exa mple.com/x", "http://[::1/x"],
)  # fmt: skip
def test_what_is_not_a_link_is_refused(text: str) -> None:
    with pytest.raises(InvalidLink):
        parse_post_link(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://t.me/a/1", True),
        ("t.me/musin_digital/137", True),
        ("gov.kz/news/1", True),
        ("137", False),
        ("Musin", False),
        ("=12", False),
        ("post:12", False),
        ("3kabc", False),
        ("./x/y", False),
    ],
)
def test_looks_like_link(text: str, expected: bool) -> None:
    assert looks_like_link(text) is expected


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("raw", "stored", "check"),
    [
        ("<div>привет</div>", _sha("<div>привет</div>"), CHECK_OK),
        ("<div>привет</div>", _sha("<div>привет</div>").upper(), CHECK_OK),
        ("<div>привет</div>", _sha("<div>привет!</div>"), CHECK_MISMATCH),
        ("<div>привет</div>", None, CHECK_NO_STORED_HASH),
        (None, None, CHECK_NO_FRAGMENT),
        (None, _sha("x"), CHECK_MISSING_FRAGMENT),
    ],
)
def test_raw_check(raw: str | None, stored: str | None, check: str) -> None:
    computed, result = raw_check(raw, stored)
    assert result == check
    assert computed == (None if raw is None else _sha(raw))


@pytest.mark.parametrize(
    ("platform", "post_id", "stem"),
    [
        ("telegram", "137", "evidence-telegram-137"),
        ("bluesky", "3kabc", "evidence-bluesky-3kabc"),
        ("facebook", "222_111", "evidence-facebook-222_111"),
        (
            "rss",
            "https://gov.kz/news/1",
            "evidence-rss-https_gov_kz_news_1-" + _sha("https://gov.kz/news/1")[:8],
        ),
        ("rss", "../../etc/passwd", "evidence-rss-etc_passwd-" + _sha("../../etc/passwd")[:8]),
        ("rss", "///", "evidence-rss-" + _sha("///")[:8]),
    ],
)
def test_file_stem_is_a_safe_name(platform: str, post_id: str, stem: str) -> None:
    assert file_stem(platform, post_id) == stem


def test_file_stems_of_ids_that_clean_up_alike_differ() -> None:
    assert file_stem("rss", "a/b") != file_stem("rss", "a?b")


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://t.me/a/1", "https://t.me/a/1"),
        ("HTTP://gov.kz/x", "HTTP://gov.kz/x"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        (None, None),
    ],
)
def test_only_web_links_become_links(url: str | None, href: str | None) -> None:
    assert web_href(url) == href


def test_times_are_utc_with_z_and_read_back() -> None:
    value = parse_time("2026-12-03T18:56:01+06:00")
    assert iso_z(value) == "2026-12-03T12:56:01Z"
    assert parse_time("2026-12-03T12:56:01Z") == value
    assert parse_time("not a time") is None
    assert parse_time(None) is None


def test_a_non_latin_path_is_found_encoded_or_not() -> None:
    typed = "https://gov.kz/ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1"
    assert "https://gov.kz/ru/новости/1" in link_variants(typed)
    assert normalize_link("https://gov.kz/ru/новости/1") == normalize_link(typed)
