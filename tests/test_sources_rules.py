"""Truth on real data (issue 16): each rule a table over saved pages and API answers.

Reposts are dated when reposted, under their own id; a comment is no edit; an API error
about parameters or permissions is unknown, never absent; a hidden count is None; a wall
is told by its structure; block elements end lines; every post carries its fragment as
served.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from bot.domain import Observation, Platform, PostSeen, Status
from bot.errors import ParseError
from bot.sources import REGISTRY, bluesky, facebook, instagram, mastodon, vk, x, youtube
from bot.sources.base import ParseContext, html_to_text, node_text, wall_reason
from bot.sources.html import parse_html_page
from bot.sources.probe import parse_saved
from bot.sources.rss import entry_fragments, parse_feed
from bot.sources.telegram import parse_channel_page

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _read(path: str) -> bytes:
    return (DATA / path).read_bytes()


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _parse(platform: Platform, handle: str, *paths: str) -> Observation:
    return REGISTRY[platform].parse([_read(p) for p in paths], ParseContext(handle, NOW))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- reposts and boosts: their own id, dated when reposted ------------------------------

MASTODON = ("mastodon/accounts_lookup.json", "mastodon/accounts_statuses.json")
BLUESKY = ("bluesky/getProfile.json", "bluesky/getAuthorFeed.json")
X_FILES = ("x/users_by_username.json", "x/users_tweets_with_retweet.json")
VK_GROUP = _json({"response": {"groups": [{"id": 55123456, "name": "Правительство"}]}})

# (platform, handle, files, post id, is_repost, published_at, forwarded_from, not this id)
REPOSTS: list[tuple[Platform, str, Sequence[str], str, bool, str, str | None, str | None]] = [
    (  # reason.uri's key and reason.indexedAt, not the reposted post's key and createdAt
        Platform.BLUESKY,
        "mayorwhitfield.bsky.social",
        BLUESKY,
        "3lpk2ab7c5s2h",
        True,
        "2026-05-04T19:03:10.771Z",
        "portcallowfire.bsky.social",
        "3lpjx2mv4dc2q",
    ),
    (  # the boost status: its id and created_at, not the boosted status's
        Platform.MASTODON,
        "cllr_nandakumar@civic.example",
        MASTODON,
        "116496010276514983",
        True,
        "2026-05-05T15:17:50.312Z",
        "eastmerecouncil@gov.example",
        "116495982330127764",
    ),
    (  # the retweet's own id and created_at, not the original's (in includes)
        Platform.X,
        "mayorwhitfield",
        X_FILES,
        "1787954012093321612",
        True,
        "2026-05-07T08:14:02Z",
        None,
        "1787861170335449317",
    ),
    (
        Platform.X,
        "mayorwhitfield",
        X_FILES,
        "1787911203577757901",
        False,
        "2026-05-07T05:24:00Z",
        None,
        None,
    ),
    (  # a copy of another owner's post: the wall item's id and date
        Platform.VK,
        "zarechye_gov",
        ("vk/wall_get_with_copy_history.json",),
        "4412",
        True,
        "2026-05-07T08:14:00Z",
        "-77001122",
        "9081",
    ),
    (  # a copy of the owner's own earlier post is the owner's post
        Platform.VK,
        "zarechye_gov",
        ("vk/wall_get_with_copy_history.json",),
        "4410",
        False,
        "2026-05-05T09:05:41Z",
        "-55123456",
        "4390",
    ),
    (  # a Telegram forward is the channel's own message: a post, its origin named
        Platform.TELEGRAM,
        "varga_zarechye",
        ("telegram/tme_s_channel_page_10_posts.html",),
        "1475",
        False,
        "2026-05-04T13:05:03Z",
        "Заречная областная дума",
        None,
    ),
]


def _posts(platform: Platform, handle: str, files: Sequence[str]) -> dict[str, PostSeen]:
    if platform is Platform.VK:  # wall.get after a community answer
        obs = vk.VkSource.parse([VK_GROUP, *(_read(f) for f in files)], ParseContext(handle, NOW))
    else:
        obs = _parse(platform, handle, *files)
    assert obs.status is Status.OK, obs.reason
    return {p.id: p for p in obs.posts}


@pytest.mark.parametrize(
    ("platform", "handle", "files", "post_id", "repost", "when", "origin", "not_id"), REPOSTS
)
def test_reposts_are_marked_and_dated_by_the_repost(
    platform: Platform,
    handle: str,
    files: Sequence[str],
    post_id: str,
    repost: bool,
    when: str,
    origin: str | None,
    not_id: str | None,
) -> None:
    posts = _posts(platform, handle, files)
    post = posts[post_id]
    assert (post.is_repost, post.published_at, post.forwarded_from) == (repost, _utc(when), origin)
    if not_id is not None:
        assert not_id not in posts  # never listed under the original's id


def test_a_bluesky_repost_without_its_uri_keeps_an_id_of_its_own() -> None:
    feed = json.loads(_read("bluesky/getAuthorFeed.json"))
    del feed["feed"][2]["reason"]["uri"]  # as older AppViews answer
    posts = bluesky.parse_feed(_json(feed), actor_did="did:plc:q4w7z2m5xkd3r6tyhb2ncv7e")
    reposts = [p for p in posts if p.is_repost]
    assert [(p.id, p.published_at) for p in reposts] == [
        ("repost:3lpjx2mv4dc2q", _utc("2026-05-04T19:03:10.771Z"))
    ]


# --- Facebook: updated_time is no edit ------------------------------------------------------


def test_facebook_updated_time_moved_by_comments_is_no_edit() -> None:
    answer = json.loads(_read("facebook/page_posts_commented.json"))
    first = facebook.parse_posts(_json(answer))
    answer["data"][0]["updated_time"] = "2026-05-08T10:00:00+0000"  # another comment
    second = facebook.parse_posts(_json(answer))
    rows = [(p.id, p.text, p.published_at, p.edited) for p in first]
    assert rows == [(p.id, p.text, p.published_at, p.edited) for p in second]
    assert not any(p.edited for p in first)
    assert first[0].published_at == _utc("2026-05-06T09:12:44Z")  # created, not updated


# --- API errors: only a positive "no such account" is absent ------------------------------

FB = "facebook/"
# (platform, saved answers, status, reason)
API_ERRORS: list[tuple[Platform, Sequence[str], Status, str]] = [
    (Platform.VK, ["vk/error_100_groups_getById.json"], Status.UNKNOWN, "bad_request"),
    (Platform.VK, ["vk/error_113_users_get.json"], Status.UNKNOWN, "bad_request"),
    (Platform.VK, ["vk/error_18_users_get.json"], Status.ABSENT, "deleted"),
    (Platform.VK, ["vk/users_get_deactivated.json"], Status.ABSENT, "deleted"),
    # A closed profile (is_closed, can_access_closed false) is read as ok and private, its
    # wall never asked: tests/test_visibility_sources.py. A wall refused anyway is unknown.
    (
        Platform.VK,
        ["vk/users_get_open_profile.json", "vk/error_15_wall_get.json"],
        Status.UNKNOWN,
        "not_permitted",
    ),
    (
        Platform.VK,
        ["vk/users_get_open_profile.json", "vk/error_30_wall_get.json"],
        Status.UNKNOWN,
        "not_permitted",
    ),
    (Platform.FACEBOOK, [FB + "error_100_33_unsupported_get.json"], Status.UNKNOWN, "bad_request"),
    (Platform.FACEBOOK, [FB + "error_100_nonexisting_field.json"], Status.UNKNOWN, "bad_request"),
    (Platform.FACEBOOK, [FB + "error_10_permission.json"], Status.UNKNOWN, "not_permitted"),
    (Platform.FACEBOOK, [FB + "error_200_permissions.json"], Status.UNKNOWN, "not_permitted"),
    (Platform.FACEBOOK, [FB + "error_803_alias.json"], Status.ABSENT, "not_found"),
    (
        Platform.INSTAGRAM,
        ["instagram/business_discovery_110_2207013.json"],
        Status.UNKNOWN,
        "bad_request",
    ),
    (Platform.X, ["x/users_by_username_not_found.json"], Status.ABSENT, "not_found"),
    (
        Platform.X,
        ["x/users_by_username.json", "x/users_tweets_not_authorized.json"],
        Status.UNKNOWN,
        "not_permitted",
    ),
]


@pytest.mark.parametrize(("platform", "files", "status", "reason"), API_ERRORS)
def test_api_errors_are_absent_only_on_a_positive_answer(
    platform: Platform, files: Sequence[str], status: Status, reason: str
) -> None:
    obs = parse_saved(platform, "zar_official", [_read(f) for f in files], fetched_at=NOW)
    assert (obs.status, obs.reason, obs.followers) == (status, reason, None)
    if status is Status.UNKNOWN:
        assert obs.detail  # the platform's own words, for the operator


def test_vk_asks_for_a_person_only_when_no_community_has_the_name() -> None:
    assert vk.no_community(_read("vk/error_100_groups_getById.json"))
    assert vk.no_community(_json({"response": {"groups": [], "profiles": []}}))
    assert not vk.no_community(VK_GROUP)
    assert not vk.no_community(_read("vk/error_18_users_get.json"))


def test_vk_error_words_name_the_code() -> None:
    with pytest.raises(ParseError) as caught:
        vk.parse_group(_read("vk/error_100_groups_getById.json"), handle="x", fetched_at=NOW)
    assert caught.value.detail is not None
    assert caught.value.detail.startswith("VK error 100: One of the parameters")


# --- hidden follower counts are None, never 0 ---------------------------------------------


def _hidden_mastodon_remote() -> bytes:
    account = json.loads(_read("mastodon/accounts_lookup.json"))
    account.update(followers_count=0, hide_collections=True)
    return _json(account)


def _youtube_hidden_with_a_count() -> bytes:
    data = json.loads(_read("youtube/channels_list_statistics.json"))
    data["items"][0]["statistics"]["hiddenSubscriberCount"] = True
    return _json(data)


# (what, parse, body)
HIDDEN: list[tuple[str, Callable[[bytes], Observation], bytes]] = [
    (
        "pleroma hide_followers_count",
        lambda b: mastodon.parse_lookup(b, handle="deputat_orlova@p.example", fetched_at=NOW),
        _read("mastodon/accounts_lookup_pleroma_hidden_count.json"),
    ),
    (
        "mastodon hide_collections with 0",
        lambda b: mastodon.parse_lookup(b, handle="a@civic.example", fetched_at=NOW),
        _hidden_mastodon_remote(),
    ),
    (
        "youtube hiddenSubscriberCount",
        lambda b: youtube.parse_channels(b, handle="UC", fetched_at=NOW),
        _read("youtube/channels_list_hidden_subscribers.json"),
    ),
    (
        "youtube hidden, a stale count still sent",
        lambda b: youtube.parse_channels(b, handle="UC", fetched_at=NOW),
        _youtube_hidden_with_a_count(),
    ),
    (
        "vk person hiding followers",
        lambda b: vk.parse_user(b, handle="ivan_petrov_zar", fetched_at=NOW),
        _read("vk/users_get_hidden_followers.json"),
    ),
    (
        "vk closed community without members_count",
        lambda b: vk.parse_group(b, handle="zar_closed_club", fetched_at=NOW),
        _read("vk/groups_getById_closed_no_members_count.json"),
    ),
    (
        "x protected account without public_metrics",
        lambda b: x.parse_user(b, handle="cllradamoss", fetched_at=NOW),
        _read("x/users_by_username_protected_no_metrics.json"),
    ),
]


@pytest.mark.parametrize(("what", "parse", "body"), HIDDEN, ids=[h[0] for h in HIDDEN])
def test_hidden_follower_counts_are_none(
    what: str, parse: Callable[[bytes], Observation], body: bytes
) -> None:
    obs = parse(body)
    assert obs.status is Status.OK, what
    assert (obs.followers, obs.followers_exact, obs.followers_margin) == (None, None, 0)


def test_shown_counts_still_count() -> None:
    shown = mastodon.parse_lookup(_read(MASTODON[0]), handle="a@civic.example", fetched_at=NOW)
    assert (shown.followers, shown.followers_exact) == (3718, True)
    with_hidden_lists = json.loads(_read(MASTODON[0]))
    with_hidden_lists["hide_collections"] = True  # Mastodon hides the lists, keeps the count
    obs = mastodon.parse_lookup(_json(with_hidden_lists), handle="a@civic.example", fetched_at=NOW)
    assert (obs.followers, obs.followers_exact) == (3718, True)
    user = x.parse_user(_read("x/users_by_username.json"), handle="mayorwhitfield", fetched_at=NOW)
    assert (user.followers, user.followers_exact) == (18342, True)


# --- walls are told by their structure ----------------------------------------------------

# (page, final address, reason)
WALLS: list[tuple[str, bytes, str | None, str]] = [
    ("keycloak login form", _read("generic/keycloak_login_wall.html"), None, "login_wall"),
    (
        "meta refresh to a sign-in page",
        _read("generic/meta_refresh_to_login.html"),
        None,
        "login_wall",
    ),
    (
        "redirected to a sign-in address",
        b"<html><body><div id='app'></div></body></html>",
        "https://www.instagram.com/accounts/login/?next=%2Fzar_minstroy%2F",
        "login_wall",
    ),
    (
        "google consent form",
        _read("generic/google_consent_interstitial.html"),
        None,
        "consent_page",
    ),
    ("onetrust consent gate", _read("generic/onetrust_consent_gate.html"), None, "consent_page"),
    (
        "redirected to a consent host",
        b"<html><body><p>Bitte warten</p></body></html>",
        "https://consent.youtube.com/m?continue=https%3A%2F%2Fwww.youtube.com",
        "consent_page",
    ),
    (
        "a cookie dialog",
        b'<html><body><div role="dialog" aria-label="Cookie settings"><button>OK</button>'
        b"</div></body></html>",
        None,
        "consent_page",
    ),
    # words are not structure: these pages only talk about logging in or cookies
    (
        "posts that say Login and Sign in, a sign-in box in the header",
        _read("generic/official_page_header_login_box.html"),
        "https://zarechye-gov.example/news/",
        "layout_changed",
    ),
    (
        "a text about logging in",
        "<html><body><h1>Please log in</h1><p>Войти · Кіру · Вход</p></body></html>".encode(),
        None,
        "layout_changed",
    ),
    (
        "a text about cookies",
        b"<html><body><p>We use cookies. Give your consent in the settings.</p></body></html>",
        None,
        "layout_changed",
    ),
    (
        "an article about an author",
        b'<html><body><form class="author-search" action="/authors/"><input name="q"></form>'
        b"</body></html>",
        None,
        "layout_changed",
    ),
]


@pytest.mark.parametrize(("what", "page", "url", "reason"), WALLS, ids=[w[0] for w in WALLS])
def test_walls_are_told_by_their_structure(
    what: str, page: bytes, url: str | None, reason: str
) -> None:
    assert wall_reason(page, url) == reason


def _mutated_tme(*pairs: tuple[str, str]) -> bytes:
    text = _read("telegram/tme_s_channel_page_10_posts.html").decode()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


LOGIN_POST = ("Подписала постановление", "Login / Войти: как зайти в личный кабинет. Подписала")


def test_a_channel_whose_post_says_login_is_read_as_a_channel() -> None:
    obs = parse_channel_page(_mutated_tme(LOGIN_POST), channel="varga_zarechye", fetched_at=NOW)
    assert obs.status is Status.OK
    assert any(p.text.startswith("Login / Войти") for p in obs.posts)


def test_a_changed_channel_layout_whose_post_says_login_is_no_login_wall() -> None:
    body = _mutated_tme(LOGIN_POST, ("tgme_channel_info", "tgme_channel_info_v2"))
    with pytest.raises(ParseError) as caught:
        parse_channel_page(body, channel="varga_zarechye", fetched_at=NOW)
    assert caught.value.reason == "layout_changed"


def test_the_html_source_names_a_login_wall_from_its_form() -> None:
    selectors = {"post": ".news-item"}
    with pytest.raises(ParseError) as caught:
        parse_html_page(
            _read("generic/keycloak_login_wall.html"),
            url="https://zarechye-gov.example/officials/varga/",
            selectors=selectors,
            fetched_at=NOW,
        )
    assert caught.value.reason == "login_wall"
    with pytest.raises(ParseError) as caught:
        parse_html_page(
            _read("generic/official_page_header_login_box.html"),
            url="https://zarechye-gov.example/news/",
            selectors=selectors,
            fetched_at=NOW,
        )
    assert caught.value.reason == "layout_changed"


def test_a_feed_address_answering_a_consent_page_is_named_so() -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(_read("generic/google_consent_interstitial.html"), handle="UC", fetched_at=NOW)
    assert caught.value.reason == "consent_page"


# --- block elements end lines -----------------------------------------------------------

BLOCKS = [
    ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
    ("<ol>\n  <li>one</li>\n  <li>two</li>\n</ol>", "one\ntwo"),
    ("<p>first</p><p>second</p>", "first\n\nsecond"),
    ("intro<div>a</div><div>b</div>tail", "intro\na\nb\ntail"),
    ("<h2>Title</h2>text", "Title\n\ntext"),
    ("before<blockquote>quoted</blockquote>after", "before\n\nquoted\n\nafter"),
    ("a<br>b<br/><br/>c", "a\nb\n\nc"),
    ("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>", "12\n3"),
    ("<p>Hello\n   world</p>", "Hello world"),  # a newline in markup is a space
    ("За&nbsp;три <b>часа</b>", "За три часа"),
    ("<p>x</p><script>alert(1)</script><style>p{}</style>", "x"),
    ("Bairros do leste:\nsegundas e quintas.", "Bairros do leste:\nsegundas e quintas."),
    ("AT&amp;T", "AT&T"),
    ("", ""),
]


@pytest.mark.parametrize(("markup", "text"), BLOCKS)
def test_block_elements_become_lines(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_deep_nesting_does_not_recurse() -> None:
    tree = LexborHTMLParser("<div>" * 5000 + "deep" + "</div>" * 5000)
    assert tree.body is not None
    assert node_text(tree.body) == "deep"


def test_feed_lists_are_lines() -> None:
    obs = parse_feed(
        _read("generic/olkhovsky_news_windows1251_ru_dates.rss"), handle="h", fetched_at=NOW
    )
    posts = {p.id: p for p in obs.posts}
    assert (
        "провёл приём граждан.\n\nобращений — 37;\nрешено на месте — 21;\n"
        "направлено в ведомства — 16.\n\nСледующий приём"
    ) in posts["olkh-news-1207"].text
    assert "Уровень — 3,1 м.\nКритическая отметка — 4,3 м." in posts["olkh-news-1205"].text


def test_telegram_lists_and_quotes_are_lines() -> None:
    body = _mutated_tme(
        (
            "Подписала постановление о&nbsp;продлении льготного проезда"
            " для&nbsp;студентов до&nbsp;31&nbsp;декабря.",
            "Подписала постановление:<blockquote>продлить льготный проезд</blockquote>"
            "<ul><li>студентам</li><li>пенсионерам</li></ul>",
        )
    )
    posts = {p.id: p for p in parse_channel_page(body, channel="c", fetched_at=NOW).posts}
    assert posts["1483"].text == (
        "Подписала постановление:\n\nпродлить льготный проезд\n\nстудентам\nпенсионерам"
    )


def test_html_source_items_keep_their_lines_and_their_ids() -> None:
    page = (
        b"<html><body><div class='news'>"
        b"<div class='item'><p>Decree 12</p><ul><li>roads</li><li>schools</li></ul></div>"
        b"</div></body></html>"
    )
    obs = parse_html_page(
        page, url="https://gov.example/", selectors={"post": ".item"}, fetched_at=NOW
    )
    (post,) = obs.posts
    assert post.text == "Decree 12\n\nroads\nschools"
    # the id of an item without id or link still comes from its one-line text
    assert post.id == hashlib.sha256(b"Decree 12 roads schools").hexdigest()[:16]


# --- every post carries its fragment as served ----------------------------------------------


def _api_items(path: str, key: Callable[[Any], list[Any]]) -> dict[str, Any]:
    return {str(item["id"]): item for item in key(json.loads(_read(path)))}


API_RAW: list[tuple[Platform, str, Sequence[str], str, Callable[[Any], list[Any]]]] = [
    (Platform.MASTODON, "cllr_nandakumar@civic.example", MASTODON, MASTODON[1], lambda d: d),
    (Platform.X, "mayorwhitfield", X_FILES, X_FILES[1], lambda d: d["data"]),
    (
        Platform.VK,
        "zarechye_gov",
        ("vk/wall_get_with_copy_history.json",),
        "vk/wall_get_with_copy_history.json",
        lambda d: d["response"]["items"],
    ),
]


@pytest.mark.parametrize(("platform", "handle", "files", "source", "items"), API_RAW)
def test_api_posts_carry_their_json_object(
    platform: Platform,
    handle: str,
    files: Sequence[str],
    source: str,
    items: Callable[[Any], list[Any]],
) -> None:
    served = _api_items(source, items)
    posts = _posts(platform, handle, files)
    assert set(posts) == set(served)
    for post_id, post in posts.items():
        assert post.raw == json.dumps(served[post_id], ensure_ascii=False, sort_keys=True)


def test_bluesky_posts_carry_their_feed_item() -> None:
    served = json.loads(_read(BLUESKY[1]))["feed"]
    posts = _parse(Platform.BLUESKY, "mayorwhitfield.bsky.social", *BLUESKY).posts
    raws = sorted(p.raw or "" for p in posts)
    assert raws == sorted(json.dumps(i, ensure_ascii=False, sort_keys=True) for i in served)
    repost = next(p for p in posts if p.is_repost)
    assert json.loads(repost.raw or "")["reason"]["indexedAt"] == "2026-05-04T19:03:10.771Z"


def test_graph_posts_carry_their_json_object() -> None:
    served = json.loads(_read("facebook/page_posts_commented.json"))["data"]
    posts = facebook.parse_posts(_read("facebook/page_posts_commented.json"))
    assert {p.raw for p in posts} == {
        json.dumps(i, ensure_ascii=False, sort_keys=True) for i in served
    }
    media = {"id": "m1", "caption": "Привет", "timestamp": "2026-05-01T10:00:00+0000"}
    answer = _json({"business_discovery": {"id": "1", "media": {"data": [media]}}})
    (post,) = instagram.parse_discovery(answer, handle="m", fetched_at=NOW).posts
    assert post.raw == '{"caption": "Привет", "id": "m1", "timestamp": "2026-05-01T10:00:00+0000"}'


def test_telegram_posts_carry_their_message_block() -> None:
    obs = parse_channel_page(
        _read("telegram/tme_s_channel_page_10_posts.html"), channel="varga_zarechye", fetched_at=NOW
    )
    for post in obs.posts:
        assert post.raw is not None
        assert post.raw.startswith('<div class="tgme_widget_message_wrap')
        block = LexborHTMLParser(post.raw)
        messages = block.css(".tgme_widget_message[data-post]")
        assert [m.attributes["data-post"] for m in messages] == [f"varga_zarechye/{post.id}"]
        assert block.css_first(".tgme_widget_message_views") is not None
    assert len({p.raw for p in obs.posts}) == len(obs.posts)


# (feed file, its encoding)
FEED_FILES = [
    ("generic/gov_press_releases.rss", "utf-8"),
    ("generic/gov_press_releases.atom", "utf-8"),
    ("generic/olkhovsky_news_windows1251_ru_dates.rss", "cp1251"),
    ("generic/akmola_news_kk_dates.rss", "utf-8"),
    ("youtube/feeds_videos_channel_id.xml", "utf-8"),
    ("mastodon/user.rss", "utf-8"),
]


@pytest.mark.parametrize(("path", "encoding"), FEED_FILES)
def test_feed_entries_carry_their_xml_as_served(path: str, encoding: str) -> None:
    served = _read(path).decode(encoding)
    obs = parse_feed(_read(path), handle="h", fetched_at=NOW)
    assert obs.posts
    for post in obs.posts:
        assert post.raw is not None
        assert post.raw in served  # the served text itself, not a re-serialisation
        assert post.raw.startswith(("<item", "<entry")), post.raw[:20]
    assert len({p.raw for p in obs.posts}) == len(obs.posts)


def test_a_feed_only_the_lenient_parser_reads_falls_back_to_the_entry_fields() -> None:
    body = _read("generic/porto_callow_noticias_pt_dates.rss").replace(
        b"Prefeito inaugura",
        b"Prefeito&nbsp;inaugura",  # an HTML entity XML does not define
    )
    assert entry_fragments(body) is None
    obs = parse_feed(body, handle="h", fetched_at=NOW)
    post = next(p for p in obs.posts if p.id == "pc-noticia-881")
    fields = json.loads(post.raw or "")
    assert fields["id"] == "pc-noticia-881"
    assert fields["link"] == "https://portocallow.example/noticias/881"
    assert fields["published"] == "Seg, 24 Set 2018 19:42:40 -0300"


def test_feed_fragments_never_read_a_dtd() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x">]>'
        b"<rss><channel><item><guid>1</guid></item></channel></rss>"
    )
    assert entry_fragments(body) is None


def test_html_items_carry_their_element() -> None:
    obs = parse_html_page(
        _read("generic/official_profile_page_with_counter.html"),
        url="https://gov.example/varga/",
        selectors={"post": ".news-item", "post_text": ".news-item__link"},
        fetched_at=NOW,
    )
    for post in obs.posts:
        assert post.raw is not None
        item = LexborHTMLParser(post.raw).css_first(".news-item")
        assert item is not None
        assert node_text(item).startswith(post.text.split("\n")[0][:10])


# --- a Mastodon profile address keeps its scheme and port ------------------------------------


PROFILES = [
    ("name@gov.example", "http://gov.example:8080/@name", "https", "http://gov.example:8080/@name"),
    ("name@gov.example", "https://gov.example/@name/", "http", "https://gov.example/@name"),
    ("name@gov.example", None, "https", "https://gov.example/@name"),
    ("name@gov.example", None, "http", "http://gov.example/@name"),
    ("name@127.0.0.1:8443", None, "https", "https://127.0.0.1:8443/@name"),
    ("name@gov.example", "https://gov.example/users/name", "https", "https://gov.example/@name"),
    ("name@gov.example", "ftp://gov.example/@name", "https", "https://gov.example/@name"),
    ("name@gov.example", "http://[::1", "https", "https://gov.example/@name"),
]


@pytest.mark.parametrize(("handle", "url", "scheme", "expected"), PROFILES)
def test_mastodon_profile_address(handle: str, url: str | None, scheme: str, expected: str) -> None:
    assert mastodon.profile_url(handle, url=url, scheme=scheme) == expected


def test_mastodon_post_links_are_built_from_the_profile() -> None:
    statuses = json.loads(_read(MASTODON[1]))
    statuses[0]["url"] = None  # a server that gives no link
    ctx = ParseContext(
        "cllr_nandakumar@civic.example", NOW, profile="http://civic.example:8080/@cllr_nandakumar"
    )
    obs = mastodon.MastodonSource.parse([_read(MASTODON[0]), _json(statuses)], ctx)
    by_id = {p.id: p for p in obs.posts}
    assert by_id["116502218734120957"].url == (
        "http://civic.example:8080/@cllr_nandakumar/116502218734120957"
    )
    assert by_id["116497104228861415"].url == (
        "https://civic.example/@cllr_nandakumar/116497104228861415"  # the server's own link
    )
