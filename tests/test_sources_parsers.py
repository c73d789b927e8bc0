"""Pure parsers of the API and feed sources over the saved samples and hostile variants."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain import Platform, Status
from bot.errors import ParseError
from bot.sources import bluesky, facebook, instagram, mastodon, vk, x, youtube
from bot.sources.base import ParseContext
from bot.sources.html import parse_html_page, parse_page_date
from bot.sources.rss import parse_feed

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _read(path: str) -> bytes:
    return (DATA / path).read_bytes()


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


# --- Bluesky ----------------------------------------------------------------------------


def test_bluesky_profile_and_feed() -> None:
    obs = bluesky.BlueskySource.parse(
        [_read("bluesky/getProfile.json"), _read("bluesky/getAuthorFeed.json")],
        ParseContext("mayorwhitfield.bsky.social", NOW),
    )
    assert obs.status is Status.OK
    assert (obs.followers, obs.followers_exact, obs.posts_count) == (18342, True, 1207)
    assert obs.platform_id == "did:plc:q4w7z2m5xkd3r6tyhb2ncv7e"
    assert [p.id for p in obs.posts] == [
        "3lplrbkz6x22c",
        "3lplq7wz5bk2x",
        "3lpk2ab7c5s2h",  # the repost record's own key, not the reposted post's 3lpjx2mv4dc2q
        "3lph6mz2wkc2t",
        "3lnv4mxq2ak2r",
    ]
    by_id = {p.id: p for p in obs.posts}
    assert by_id["3lplrbkz6x22c"].is_reply
    assert by_id["3lpk2ab7c5s2h"].is_repost
    assert by_id["3lpk2ab7c5s2h"].forwarded_from == "portcallowfire.bsky.social"
    # dated when reposted (reasonRepost.indexedAt), not when the original was written
    assert by_id["3lpk2ab7c5s2h"].published_at == datetime(2026, 5, 4, 19, 3, 10, 771000, UTC)
    assert by_id["3lnv4mxq2ak2r"].pinned
    assert by_id["3lplq7wz5bk2x"].url == (
        "https://bsky.app/profile/mayorwhitfield.bsky.social/post/3lplq7wz5bk2x"
    )
    assert by_id["3lplq7wz5bk2x"].published_at == datetime(2026, 5, 5, 14, 31, 7, 402000, UTC)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (_read("bluesky/getProfile_404_profile_not_found.json"), Status.ABSENT, "not_found"),
        (
            _json({"error": "AccountTakedown", "message": "Account has been suspended"}),
            Status.ABSENT,
            "suspended",
        ),
        (_json({"error": "AccountDeactivated", "message": "x"}), Status.ABSENT, "deactivated"),
    ],
)
def test_bluesky_absent(body: bytes, status: Status, reason: str) -> None:
    obs = bluesky.parse_profile(body, handle="h.bsky.social", fetched_at=NOW)
    assert (obs.status, obs.reason, obs.followers) == (status, reason, None)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_read("bluesky/error_429_rate_limited.json"), "rate_limited"),
        (b"<html>login</html>", "bad_json"),
        (_json({"did": None}), "layout_changed"),
        (_json({"error": "InternalServerError"}), "api_error"),
    ],
)
def test_bluesky_unknown(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        bluesky.parse_profile(body, handle="h", fetched_at=NOW)
    assert caught.value.reason == reason


def test_bluesky_missing_count_is_none_not_zero() -> None:
    obs = bluesky.parse_profile(
        _json({"did": "did:plc:abc", "handle": "h"}), handle="h", fetched_at=NOW
    )
    assert obs.followers is None
    assert obs.followers_exact is None


# --- Mastodon ----------------------------------------------------------------------------


def test_mastodon_lookup_and_statuses() -> None:
    obs = mastodon.MastodonSource.parse(
        [_read("mastodon/accounts_lookup.json"), _read("mastodon/accounts_statuses.json")],
        ParseContext("cllr_nandakumar@civic.example", NOW),
    )
    assert (obs.followers, obs.followers_exact, obs.posts_count) == (3718, True, 1954)
    assert obs.platform_id == "109412873354209118"
    assert obs.description is not None
    assert "<p>" not in obs.description
    got = [(p.id, p.edited, p.is_reply, p.is_repost, p.forwarded_from) for p in obs.posts]
    assert got == [
        ("116502218734120957", False, False, False, None),
        ("116499630715338202", True, False, False, None),
        ("116497104228861415", False, False, False, None),
        ("116496010276514983", False, False, True, "eastmerecouncil@gov.example"),
        ("116490377021894126", False, True, False, None),
    ]
    assert obs.posts[3].text.startswith("Garden waste")  # the boosted status's text


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("mastodon/accounts_statuses_401_whitelist_mode.json", "login_wall"),
        ("mastodon/error_429_too_many_requests.json", "rate_limited"),
    ],
)
def test_mastodon_unknown(path: str, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        mastodon.parse_lookup(_read(path), handle="a@b.example", fetched_at=NOW)
    assert caught.value.reason == reason
    with pytest.raises(ParseError) as caught:
        mastodon.parse_statuses(_read(path))
    assert caught.value.reason == reason


def test_mastodon_absent() -> None:
    obs = mastodon.parse_lookup(
        _read("mastodon/accounts_lookup_404.json"), handle="a@b.example", fetched_at=NOW
    )
    assert (obs.status, obs.reason) == (Status.ABSENT, "not_found")


def test_mastodon_hidden_collections_are_not_zero() -> None:
    account = json.loads(_read("mastodon/accounts_lookup.json"))
    account.update(followers_count=0, hide_collections=True)
    obs = mastodon.parse_lookup(_json(account), handle="a@b.example", fetched_at=NOW)
    assert obs.followers is None


# --- YouTube --------------------------------------------------------------------------------


def test_youtube_feed_with_statistics() -> None:
    feed = youtube.parse_videos_feed(
        _read("youtube/feeds_videos_channel_id.xml"), handle="UC", fetched_at=NOW
    )
    api = youtube.parse_channels(
        _read("youtube/channels_list_statistics.json"), handle="UC", fetched_at=NOW
    )
    obs = youtube.merge_statistics(feed, api)
    assert obs.platform is Platform.YOUTUBE
    assert obs.platform_id == "UCq7ZtR3xWn0pLk5vHd2mFbA"
    assert (obs.followers, obs.followers_exact, obs.followers_margin, obs.posts_count) == (
        48200,
        False,
        100,
        312,
    )
    assert [(p.id, p.views) for p in obs.posts] == [
        ("Kp3vX9wQm2E", 8931),
        ("t8LhQ2zR0bY", 40522),
        ("Bq9nW4xEo7s", 2214),
    ]
    assert obs.posts[0].url == "https://www.youtube.com/watch?v=Kp3vX9wQm2E"
    assert obs.posts[0].published_at == datetime(2026, 5, 7, 7, 1, 55, tzinfo=UTC)


def test_youtube_feed_alone_has_no_subscribers() -> None:
    obs = youtube.parse_videos_feed(
        _read("youtube/feeds_videos_channel_id.xml"), handle="UC", fetched_at=NOW
    )
    assert obs.followers is None
    assert obs.followers_exact is None


def test_youtube_unknown_handle_is_absent() -> None:
    obs = youtube.parse_channels(
        _read("youtube/channels_list_forHandle_not_found.json"), handle="@x", fetched_at=NOW
    )
    assert (obs.status, obs.reason) == (Status.ABSENT, "not_found")


def test_youtube_hidden_subscribers_and_quota() -> None:
    data = json.loads(_read("youtube/channels_list_statistics.json"))
    data["items"][0]["statistics"]["hiddenSubscriberCount"] = True
    assert youtube.parse_channels(_json(data), handle="UC", fetched_at=NOW).followers is None
    quota = {"error": {"code": 403, "message": "quota", "errors": [{"reason": "quotaExceeded"}]}}
    with pytest.raises(ParseError) as caught:
        youtube.parse_channels(_json(quota), handle="UC", fetched_at=NOW)
    assert caught.value.reason == "rate_limited"


@pytest.mark.parametrize(
    ("value", "margin"), [(999, 0), (1234, 10), (48200, 100), (1230000, 10000)]
)
def test_youtube_rounding_margin(value: int, margin: int) -> None:
    assert youtube.rounding_margin(value) == margin


# --- RSS / Atom ---------------------------------------------------------------------------------


def test_rss_press_releases() -> None:
    obs = parse_feed(
        _read("generic/gov_press_releases.rss"), handle="https://gov.example/rss", fetched_at=NOW
    )
    assert obs.status is Status.OK
    assert obs.followers is None
    assert [p.id for p in obs.posts] == [
        "press-20260507-0412",
        "press-20260506-0409",
        "press-20260505-0401",
    ]
    first = obs.posts[0]
    assert first.published_at == datetime(2026, 5, 7, 8, 58, tzinfo=UTC)  # +0300 normalised
    assert "&nbsp;" not in first.text
    assert "<p>" not in first.text


def test_atom_press_releases() -> None:
    obs = parse_feed(
        _read("generic/gov_press_releases.atom"), handle="https://x.example/atom", fetched_at=NOW
    )
    assert obs.posts[0].id == "tag:portcallow.example,2026-05-05:news/1187"
    assert obs.posts[0].published_at == datetime(2026, 5, 5, 18, 0, tzinfo=UTC)


def test_mastodon_rss_without_titles() -> None:
    obs = parse_feed(
        _read("mastodon/user.rss"), handle="https://civic.example/@c.rss", fetched_at=NOW
    )
    assert len(obs.posts) == 3
    assert obs.posts[0].text.startswith("Eastmere ward surgery")


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rss version="2.0"><channel><title>&d;</title></channel></rss>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BOMB, "unsafe_xml"),
        (EXTERNAL, "unsafe_xml"),
        (b"<html><body>Sign in</body></html>", "not_a_feed"),  # a word is not a wall
        (b"<html><body><form><input type=password></form></body></html>", "login_wall"),
        (b"<html><body>Nothing to see</body></html>", "not_a_feed"),
        (b"\x00\xff\x13garbage", "not_a_feed"),
        (_read("generic/gov_press_releases.rss")[:900], "truncated"),
    ],
)
def test_hostile_feeds_are_unknown(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, handle="https://gov.example/rss", fetched_at=NOW)
    assert caught.value.reason == reason


# --- generic HTML -----------------------------------------------------------------------------

SELECTORS = {
    "followers": ".stat--followers .stat__value",
    "posts_count": ".stat--posts .stat__value",
    "post": ".news-item",
    "post_date": "time",
    "post_text": ".news-item__link",
    "post_link": "a",
}


def test_html_page_with_selectors() -> None:
    obs = parse_html_page(
        _read("generic/official_profile_page_with_counter.html"),
        url="https://gov.example/varga/",
        selectors=SELECTORS,
        fetched_at=NOW,
        tz=ZoneInfo("Europe/Moscow"),
    )
    assert (obs.followers, obs.followers_exact, obs.followers_margin, obs.posts_count) == (
        35000,
        False,
        1000,
        1207,
    )
    assert [(p.id, p.url, p.published_at) for p in obs.posts] == [
        (
            "4412",
            "https://gov.example/news/4412-pryamaya-liniya",
            datetime(2026, 5, 7, 8, 58, tzinfo=UTC),
        ),
        (
            "4409",
            "https://gov.example/news/4409-lgotnyj-proezd",
            datetime(2026, 5, 5, 21, 0, tzinfo=UTC),
        ),
    ]
    assert obs.posts[0].text == "Прямая линия с губернатором"


def test_html_login_wall_is_named() -> None:
    page = b"<html><head><title>Sign in</title></head><body><input type=password></body></html>"
    with pytest.raises(ParseError) as caught:
        parse_html_page(page, url="https://gov.example/", selectors=SELECTORS, fetched_at=NOW)
    assert caught.value.reason == "login_wall"


@pytest.mark.parametrize(
    ("selectors", "reason"),
    [
        ({}, "no_selectors"),
        ({"followers": ".gone"}, "layout_changed"),
        ({"post": ".gone"}, "layout_changed"),
        ({"followers": "[[[bad"}, "bad_selector"),
    ],
)
def test_html_page_failures_are_unknown(selectors: dict[str, str], reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_html_page(
            _read("generic/official_profile_page_with_counter.html"),
            url="https://gov.example/",
            selectors=selectors,
            fetched_at=NOW,
        )
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-07T11:58:00+03:00", datetime(2026, 5, 7, 8, 58, tzinfo=UTC)),
        ("7 мая 2026, 11:58", datetime(2026, 5, 7, 8, 58, tzinfo=UTC)),
        ("6 мая 2026", datetime(2026, 5, 5, 21, 0, tzinfo=UTC)),
        ("May 6, 2026", datetime(2026, 5, 5, 21, 0, tzinfo=UTC)),
        ("06.05.2026 10:30", datetime(2026, 5, 6, 7, 30, tzinfo=UTC)),
        ("31 февраля 2026", None),
        ("вчера", None),
    ],
)
def test_page_dates(text: str, expected: datetime | None) -> None:
    assert parse_page_date(text, tz=ZoneInfo("Europe/Moscow")) == expected


# --- token platforms --------------------------------------------------------------------------


def test_facebook_page_and_posts() -> None:
    page = _json({"id": "123", "name": "Ministry", "followers_count": 5012, "fan_count": 4000})
    posts = _json(
        {
            "data": [
                {
                    "id": "123_1",
                    "message": "old",
                    "created_time": "2026-05-01T10:00:00+0000",
                    "permalink_url": "https://fb/1",
                },
                {
                    "id": "123_2",
                    "message": "new",
                    "created_time": "2026-05-02T10:00:00+0000",
                    "updated_time": "2026-05-03T10:00:00+0000",
                },
            ]
        }
    )
    obs = facebook.parse_page(page, handle="ministry", fetched_at=NOW)
    assert (obs.followers, obs.followers_exact, obs.platform_id) == (5012, True, "123")
    got = facebook.parse_posts(posts)
    # updated_time moves with every comment: never an edit (an edit is a changed text)
    assert [(p.id, p.edited) for p in got] == [("123_2", False), ("123_1", False)]


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        ({"code": 803, "message": "alias"}, Status.ABSENT, "not_found"),
        ({"code": 4, "message": "limit"}, None, "rate_limited"),
        ({"code": 190, "message": "expired"}, None, "token_invalid"),
        ({"code": 10, "message": "permission"}, None, "not_permitted"),
    ],
)
def test_facebook_errors(error: dict[str, object], status: Status | None, reason: str) -> None:
    body = _json({"error": error})
    if status is None:
        with pytest.raises(ParseError) as caught:
            facebook.parse_page(body, handle="p", fetched_at=NOW)
        assert caught.value.reason == reason
    else:
        assert facebook.parse_page(body, handle="p", fetched_at=NOW).reason == reason


def test_instagram_business_discovery() -> None:
    body = _json(
        {
            "business_discovery": {
                "id": "1784",
                "username": "minister",
                "followers_count": 12000,
                "media_count": 2,
                "media": {
                    "data": [
                        {
                            "id": "m1",
                            "caption": "hi",
                            "timestamp": "2026-05-01T10:00:00+0000",
                            "permalink": "https://ig/p/1",
                        }
                    ]
                },
            },
            "id": "1789",
        }
    )
    obs = instagram.parse_discovery(body, handle="minister", fetched_at=NOW)
    assert (obs.followers, obs.posts_count, obs.platform_id) == (12000, 2, "1784")
    assert obs.posts[0].url == "https://ig/p/1"
    assert "business_discovery.username(minister)" in instagram.discovery_fields("minister")


def test_x_user_and_tweets() -> None:
    user = _json(
        {
            "data": {
                "id": "42",
                "name": "Min",
                "public_metrics": {"followers_count": 900, "tweet_count": 77},
            }
        }
    )
    tweets = _json(
        {
            "data": [
                {
                    "id": "2",
                    "text": "RT x",
                    "created_at": "2026-05-02T10:00:00.000Z",
                    "referenced_tweets": [{"type": "retweeted", "id": "1"}],
                },
                {
                    "id": "3",
                    "text": "fixed",
                    "created_at": "2026-05-03T10:00:00.000Z",
                    "edit_history_tweet_ids": ["2b", "3"],
                    "public_metrics": {"impression_count": 55},
                },
            ]
        }
    )
    obs = x.parse_user(user, handle="min", fetched_at=NOW)
    assert (obs.followers, obs.posts_count, obs.platform_id) == (900, 77, "42")
    got = x.parse_tweets(tweets, handle="min")
    assert [(p.id, p.edited, p.is_repost, p.views) for p in got] == [
        ("3", True, False, 55),
        ("2", False, True, None),
    ]
    missing = _json({"errors": [{"title": "Not Found Error", "detail": "Could not find user"}]})
    assert x.parse_user(missing, handle="min", fetched_at=NOW).reason == "not_found"


def test_vk_group_user_and_wall() -> None:
    group = _json(
        {
            "response": {
                "groups": [{"id": 55, "name": "Мэрия", "members_count": 15000}],
                "profiles": [],
            }
        }
    )
    obs = vk.parse_group(group, handle="meria", fetched_at=NOW)
    assert (obs.followers, obs.platform_id) == (15000, "-55")
    user = _json(
        {
            "response": [
                {"id": 7, "first_name": "Иван", "last_name": "Петров", "followers_count": 321}
            ]
        }
    )
    assert vk.parse_user(user, handle="ivan", fetched_at=NOW).followers == 321
    wall = _json(
        {
            "response": {
                "count": 2,
                "items": [
                    {
                        "id": 10,
                        "owner_id": -55,
                        "date": 1778000000,
                        "text": "a",
                        "views": {"count": 1200},
                        "edited": 1778000100,
                    },
                    {
                        "id": 11,
                        "owner_id": -55,
                        "date": 1778001000,
                        "text": "",
                        "copy_history": [{"owner_id": -9, "text": "shared"}],
                    },
                ],
            }
        }
    )
    posts = vk.parse_wall(wall, handle="meria")
    assert [(p.id, p.views, p.edited, p.is_repost, p.text) for p in posts] == [
        ("11", None, False, True, "shared"),
        ("10", 1200, True, False, "a"),
    ]
    assert posts[1].url == "https://vk.com/wall-55_10"
    gone = _json({"error": {"error_code": 18, "error_msg": "User was deleted or banned"}})
    assert vk.parse_group(gone, handle="x", fetched_at=NOW).status is Status.ABSENT
    with pytest.raises(ParseError) as caught:
        vk.parse_group(
            _json({"error": {"error_code": 6, "error_msg": "Too many"}}), handle="x", fetched_at=NOW
        )
    assert caught.value.reason == "rate_limited"
