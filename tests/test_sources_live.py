"""Every source end to end against a real loopback server that serves the saved samples."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.config import Settings, load_settings
from bot.domain import AccountRef, Platform, Status
from bot.net.client import HttpClient
from bot.sources import REGISTRY, build_sources
from bot.sources import base as source_base
from bot.sources.probe import main as probe_main
from bot.sources.probe import parse_saved

DATA = Path(__file__).parent / "data"


class SampleWorld:
    """One aiohttp app answering like t.me, the Bluesky AppView, Mastodon, YouTube and feeds."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def _file(path: str, status: int = 200, **headers: str) -> web.Response:
        ctype = "application/json" if path.endswith(".json") else "text/html"
        if path.endswith((".xml", ".rss", ".atom")):
            ctype = "application/xml"
        return web.Response(
            body=(DATA / path).read_bytes(), status=status, content_type=ctype, headers=headers
        )

    async def _telegram_s(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        pages = {
            "varga_zarechye": "telegram/tme_s_channel_page_10_posts.html",
            "gromov_official": "telegram/tme_s_large_channel_before_90231.html",
            "empty_throttled": "telegram/tme_s_before_1_no_posts_found.html",
        }
        if name in pages:
            return self._file(pages[name])
        if name == "slow_down":
            return web.Response(status=429, headers={"Retry-After": "120"})
        if name == "broken":
            return web.Response(status=500, text="oops")
        raise web.HTTPFound(location=f"{self.base}/tg/{name}")

    async def _telegram_plain(self, request: web.Request) -> web.Response:
        pages = {
            "varga_zarechye": "telegram/tme_plain_channel_page_spaces_count.html",
            "gromov_official": "telegram/tme_plain_channel_page_millions.html",
            "zar_minstroy": "telegram/tme_preview_disabled_channel_after_302.html",
            "zarechye_chat": "telegram/tme_plain_group_page_members_online.html",
        }
        return self._file(
            pages.get(
                request.match_info["name"], "telegram/tme_nonexistent_contact_page_after_302.html"
            )
        )

    async def _bsky_profile(self, request: web.Request) -> web.Response:
        if request.query["actor"] == "mayorwhitfield.bsky.social":
            return self._file("bluesky/getProfile.json")
        return self._file("bluesky/getProfile_404_profile_not_found.json", status=400)

    async def _bsky_feed(self, request: web.Request) -> web.Response:
        assert request.query["actor"].startswith("did:plc:")
        return self._file("bluesky/getAuthorFeed.json")

    async def _masto_lookup(self, request: web.Request) -> web.Response:
        if request.query["acct"] == "cllr_nandakumar":
            return self._file("mastodon/accounts_lookup.json")
        if request.query["acct"] == "limited":
            return self._file("mastodon/accounts_statuses_401_whitelist_mode.json", status=401)
        return self._file("mastodon/accounts_lookup_404.json", status=404)

    async def _masto_statuses(self, request: web.Request) -> web.Response:
        return self._file("mastodon/accounts_statuses.json")

    async def _yt_feed(self, request: web.Request) -> web.Response:
        if request.query.get("channel_id") == "UCq7ZtR3xWn0pLk5vHd2mFbA":
            return self._file("youtube/feeds_videos_channel_id.xml")
        return web.Response(status=404, text="not found")

    async def _yt_api(self, request: web.Request) -> web.Response:
        assert request.query["key"] == "test-api-key"
        if request.query.get("forHandle") == "@nosuchhandle":
            return self._file("youtube/channels_list_forHandle_not_found.json")
        return self._file("youtube/channels_list_statistics.json")

    async def _feed(self, request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"press-1"':
            return web.Response(status=304, headers={"ETag": '"press-1"'})
        return self._file("generic/gov_press_releases.rss", ETag='"press-1"')

    async def _page(self, request: web.Request) -> web.Response:
        return self._file("generic/official_profile_page_with_counter.html")

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.headers.append(dict(request.headers))
        result: web.StreamResponse = await handler(request)
        return result

    async def __aenter__(self) -> SampleWorld:
        app = web.Application(middlewares=[self._count])
        r = app.router
        r.add_get("/tg/s/{name}", self._telegram_s)
        r.add_get("/tg/{name}", self._telegram_plain)
        r.add_get("/xrpc/app.bsky.actor.getProfile", self._bsky_profile)
        r.add_get("/xrpc/app.bsky.feed.getAuthorFeed", self._bsky_feed)
        r.add_get("/api/v1/accounts/lookup", self._masto_lookup)
        r.add_get("/api/v1/accounts/{id}/statuses", self._masto_statuses)
        r.add_get("/feeds/videos.xml", self._yt_feed)
        r.add_get("/youtube/v3/channels", self._yt_api)
        r.add_get("/press.rss", self._feed)
        r.add_get("/official", self._page)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def world() -> AsyncIterator[SampleWorld]:
    async with SampleWorld() as w:
        yield w


def _settings(world: SampleWorld, **sources: dict[str, Any]) -> Settings:
    base = world.base
    config: dict[str, Any] = {
        "telegram": {"base_url": f"{base}/tg"},
        "bluesky": {"base_url": base},
        "mastodon": {"scheme": "http"},
        "youtube": {"base_url": base, "api_base_url": f"{base}/youtube/v3"},
    }
    for name, values in sources.items():
        config[name] = {**config.get(name, {}), **values}
    return load_settings(
        None,
        http={"allow_private_networks": True, "per_host_rate": 1000.0, "timeout": "3s"},
        sources=config,
    )


async def _fetch(settings: Settings, platform: Platform, handle: str, **ref: Any) -> Any:
    async with HttpClient(settings.http) as http:
        source = REGISTRY[platform](http=http, settings=settings)
        return await source.fetch(AccountRef(platform=platform, handle=handle, **ref))


# --- Telegram -------------------------------------------------------------------------------


async def test_telegram_channel_uses_both_pages(world: SampleWorld) -> None:
    obs = await _fetch(_settings(world), Platform.TELEGRAM, "varga_zarechye")
    assert obs.status is Status.OK
    assert (obs.followers, obs.followers_exact, obs.followers_margin) == (48213, True, 0)
    assert len(obs.posts) == 10
    assert obs.posts[0].id == "1484"
    assert world.hits["/tg/s/varga_zarechye"] == 1
    assert world.hits["/tg/varga_zarechye"] == 1


async def test_telegram_without_plain_page_keeps_rounded_count(world: SampleWorld) -> None:
    settings = _settings(world, telegram={"fetch_plain_page": False})
    obs = await _fetch(settings, Platform.TELEGRAM, "gromov_official")
    assert (obs.followers, obs.followers_exact) == (1230000, False)
    assert world.hits["/tg/gromov_official"] == 0


@pytest.mark.parametrize(
    ("handle", "status", "reason", "followers"),
    [
        ("zar_minstroy", Status.OK, None, 6905),  # preview disabled: counted from the plain page
        ("zarechye_chat", Status.ABSENT, "is_group", None),
        ("zar_gubernator_old", Status.ABSENT, "not_found", None),
        ("empty_throttled", Status.UNKNOWN, "no_posts_found", None),
        ("slow_down", Status.UNKNOWN, "rate_limited", None),
        ("broken", Status.UNKNOWN, "http_500", None),
    ],
)
async def test_telegram_classification(
    world: SampleWorld, handle: str, status: Status, reason: str | None, followers: int | None
) -> None:
    obs = await _fetch(_settings(world), Platform.TELEGRAM, handle)
    assert (obs.status, obs.reason, obs.followers) == (status, reason, followers)
    if status is not Status.OK:
        assert obs.posts == ()


async def test_telegram_retry_after_reaches_the_observation(world: SampleWorld) -> None:
    obs = await _fetch(_settings(world), Platform.TELEGRAM, "slow_down")
    assert obs.retry_after == pytest.approx(120)


# --- no-token APIs -----------------------------------------------------------------------------


async def test_bluesky(world: SampleWorld) -> None:
    settings = _settings(world)
    obs = await _fetch(settings, Platform.BLUESKY, "mayorwhitfield.bsky.social")
    assert (obs.status, obs.followers, obs.posts_count, len(obs.posts)) == (
        Status.OK,
        18342,
        1207,
        5,
    )
    gone = await _fetch(settings, Platform.BLUESKY, "nobody.bsky.social")
    assert (gone.status, gone.reason) == (Status.ABSENT, "not_found")


async def test_mastodon(world: SampleWorld) -> None:
    settings = _settings(world)
    host = f"127.0.0.1:{world.port}"
    obs = await _fetch(settings, Platform.MASTODON, f"cllr_nandakumar@{host}")
    assert (obs.status, obs.followers, obs.posts_count, len(obs.posts)) == (
        Status.OK,
        3718,
        1954,
        5,
    )
    gone = await _fetch(settings, Platform.MASTODON, f"nobody@{host}")
    assert (gone.status, gone.reason) == (Status.ABSENT, "not_found")
    limited = await _fetch(settings, Platform.MASTODON, f"limited@{host}")
    assert (limited.status, limited.reason) == (Status.UNKNOWN, "login_wall")


async def test_youtube_feed_only_and_with_api_key(world: SampleWorld) -> None:
    channel = "UCq7ZtR3xWn0pLk5vHd2mFbA"
    plain = await _fetch(_settings(world), Platform.YOUTUBE, channel)
    assert (plain.status, plain.followers, len(plain.posts)) == (Status.OK, None, 3)
    keyed = _settings(world, youtube={"api_key": "test-api-key"})
    full = await _fetch(keyed, Platform.YOUTUBE, channel)
    assert (full.followers, full.followers_exact, full.posts_count) == (48200, False, 312)
    missing = await _fetch(keyed, Platform.YOUTUBE, "@nosuchhandle")
    assert (missing.status, missing.reason) == (Status.ABSENT, "not_found")
    outage = await _fetch(_settings(world), Platform.YOUTUBE, "UC" + "x" * 22)
    assert (outage.status, outage.reason) == (Status.UNKNOWN, "http_404")  # never absent
    no_key = await _fetch(_settings(world), Platform.YOUTUBE, "@somehandle")
    assert (no_key.status, no_key.reason) == (Status.UNKNOWN, "channel_id_required")


async def test_rss_conditional_get_round_trip(world: SampleWorld) -> None:
    settings = _settings(world)
    url = f"{world.base}/press.rss"
    first = await _fetch(settings, Platform.RSS, url)
    assert (first.status, len(first.posts)) == (Status.OK, 3)
    assert url in first.validators
    second = await _fetch(settings, Platform.RSS, url, validators=first.validators)
    assert second.status is Status.OK
    assert second.not_modified
    assert second.posts == ()
    assert world.headers[-1]["If-None-Match"] == '"press-1"'


async def test_html_page_with_account_selectors(world: SampleWorld) -> None:
    options = {"followers": ".stat--followers .stat__value", "post": ".news-item", "post_text": "a"}
    obs = await _fetch(_settings(world), Platform.HTML, f"{world.base}/official", options=options)
    assert (obs.status, obs.followers, len(obs.posts)) == (Status.OK, 35000, 2)
    assert obs.posts[0].url == f"{world.base}/news/4412-pryamaya-liniya"


# --- tokens, registry, guard ----------------------------------------------------------------------


async def test_token_platforms_without_token_are_quiet_and_offline(
    world: SampleWorld, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_base, "_TOKEN_WARNED", set())
    settings = _settings(world)
    caplog.set_level(logging.WARNING, logger="bot.sources.base")
    async with HttpClient(settings.http) as http:
        sources = build_sources(settings, http)
        for platform in (Platform.FACEBOOK, Platform.INSTAGRAM, Platform.X, Platform.VK):
            for n in range(3):
                obs = await sources[platform].fetch(
                    AccountRef(platform=platform, handle=f"acct{n}")
                )
                assert (obs.status, obs.reason, obs.followers) == (
                    Status.UNKNOWN,
                    "token_required",
                    None,
                )
    assert world.hits == {}
    warnings = [r for r in caplog.records if "no token" in r.getMessage()]
    assert len(warnings) == 4  # once per platform, not once per account


async def test_facebook_with_token_sends_it_as_a_header(world: SampleWorld) -> None:
    async def page(request: web.Request) -> web.Response:
        if request.path.endswith("/posts"):
            return web.json_response(
                {
                    "data": [
                        {"id": "9_1", "message": "hi", "created_time": "2026-05-01T10:00:00+0000"}
                    ]
                }
            )
        return web.json_response({"id": "9", "name": "Ministry", "followers_count": 77})

    app = web.Application()
    app.router.add_get("/v21.0/{page}", page)
    app.router.add_get("/v21.0/{page}/posts", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        settings = _settings(
            world,
            facebook={"base_url": f"http://127.0.0.1:{port}/v21.0", "access_token": "fb-secret"},
        )
        obs = await _fetch(settings, Platform.FACEBOOK, "ministry")
    finally:
        await runner.cleanup()
    assert (obs.status, obs.followers, [p.id for p in obs.posts]) == (Status.OK, 77, ["9_1"])


def test_registry_covers_every_platform_and_respects_enabled() -> None:
    assert set(REGISTRY) == set(Platform)
    for platform, cls in REGISTRY.items():
        assert cls.platform is platform
    settings = load_settings(None, sources={"vk": {"enabled": False}})
    sources = build_sources(settings, HttpClient(settings.http))
    assert Platform.VK not in sources
    assert Platform.TELEGRAM in sources


async def test_private_address_without_allow_is_unknown_blocked(world: SampleWorld) -> None:
    settings = load_settings(None, sources={"telegram": {"base_url": world.base + "/tg"}})
    obs = await _fetch(settings, Platform.TELEGRAM, "varga_zarechye")
    assert (obs.status, obs.reason) == (Status.UNKNOWN, "blocked_address")
    assert world.hits == {}


# --- one parse contract: what the poller sees is what `probe --file` shows -------------------

_SAME: list[tuple[Platform, str, list[str], dict[str, str]]] = [
    (
        Platform.TELEGRAM,
        "varga_zarechye",
        [
            "telegram/tme_s_channel_page_10_posts.html",
            "telegram/tme_plain_channel_page_spaces_count.html",
        ],
        {},
    ),
    (
        Platform.TELEGRAM,
        "zar_minstroy",
        ["telegram/tme_preview_disabled_channel_after_302.html"],
        {},
    ),
    (Platform.TELEGRAM, "zarechye_chat", ["telegram/tme_plain_group_page_members_online.html"], {}),
    (
        Platform.BLUESKY,
        "mayorwhitfield.bsky.social",
        ["bluesky/getProfile.json", "bluesky/getAuthorFeed.json"],
        {},
    ),
    (Platform.BLUESKY, "nobody.bsky.social", ["bluesky/getProfile_404_profile_not_found.json"], {}),
    (
        Platform.MASTODON,
        "cllr_nandakumar@{host}",
        ["mastodon/accounts_lookup.json", "mastodon/accounts_statuses.json"],
        {},
    ),
    (
        Platform.YOUTUBE,
        "UCq7ZtR3xWn0pLk5vHd2mFbA",
        ["youtube/feeds_videos_channel_id.xml", "youtube/channels_list_statistics.json"],
        {},
    ),
    (Platform.RSS, "{base}/press.rss", ["generic/gov_press_releases.rss"], {}),
    (
        Platform.HTML,
        "{base}/official",
        ["generic/official_profile_page_with_counter.html"],
        {"followers": ".stat--followers .stat__value", "post": ".news-item", "post_text": "a"},
    ),
]


@pytest.mark.parametrize(("platform", "handle", "files", "options"), _SAME)
async def test_live_fetch_and_probe_file_parse_alike(
    world: SampleWorld, platform: Platform, handle: str, files: list[str], options: dict[str, str]
) -> None:
    handle = handle.format(host=f"127.0.0.1:{world.port}", base=world.base)
    settings = _settings(world, youtube={"api_key": "test-api-key"})
    live = await _fetch(settings, platform, handle, options=options)
    bodies = [(DATA / name).read_bytes() for name in files]
    tz = ZoneInfo(settings.i18n.timezone)  # as `govwatch probe` passes it
    saved = parse_saved(
        platform, handle, bodies, fetched_at=live.fetched_at, selectors=options, tz=tz
    )
    assert live.status is saved.status
    assert replace(live, validators={}) == saved


def test_every_source_names_its_responses() -> None:
    for platform, cls in REGISTRY.items():
        assert cls.platform is platform
        assert cls.responses
        assert all(isinstance(name, str) for name in cls.responses)
    with pytest.raises(TypeError, match="must name its responses"):
        type("Nameless", (source_base.Source,), {"platform": Platform.X})


# --- issue 16: a Mastodon profile address keeps its scheme and port; VK never guesses ------


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


async def test_mastodon_profile_url_keeps_its_scheme_and_port() -> None:
    statuses = json.loads((DATA / "mastodon/accounts_statuses.json").read_bytes())
    statuses[0]["url"] = None  # a status the server gives no link

    async def lookup(request: web.Request) -> web.Response:
        return SampleWorld._file("mastodon/accounts_lookup.json")

    async def listed(request: web.Request) -> web.Response:
        return web.json_response(statuses)

    app = web.Application()
    app.router.add_get("/api/v1/accounts/lookup", lookup)
    app.router.add_get("/api/v1/accounts/{id}/statuses", listed)
    runner, port = await _serve(app)  # plain http on a port of its own
    profile = f"http://127.0.0.1:{port}/@cllr_nandakumar"
    settings = load_settings(  # the configured scheme stays the default https
        None, http={"allow_private_networks": True, "per_host_rate": 1000.0, "timeout": "3s"}
    )
    try:
        obs = await _fetch(settings, Platform.MASTODON, "cllr_nandakumar@127.0.0.1", url=profile)
        without = await _fetch(settings, Platform.MASTODON, "cllr_nandakumar@127.0.0.1")
        args = argparse.Namespace(
            url=profile, platform=None, handle=None, file=[], json=True, selector=[]
        )
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert await asyncio.to_thread(probe_main, settings, args) == 0
    finally:
        await runner.cleanup()
    assert (obs.status, obs.followers, len(obs.posts)) == (Status.OK, 3718, 5)
    assert obs.posts[0].url == f"{profile}/116502218734120957"
    assert (without.status, without.reason) == (Status.UNKNOWN, "network")  # https: refused
    doc = json.loads(out.getvalue())
    assert (doc["status"], doc["posts"][0]["url"]) == ("ok", f"{profile}/116502218734120957")


class FakeVk:
    """The VK API methods the source calls, answering from saved samples."""

    def __init__(self, groups: str, users: str | None, wall: str) -> None:
        self.answers = {"groups.getById": groups, "users.get": users, "wall.get": wall}
        self.calls: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        assert request.query["access_token"] == "vk-secret"
        name = self.answers.get(method)
        if name is None:
            raise AssertionError(f"unexpected call {method}")
        return SampleWorld._file(name)


GROUP = "vk/groups_getById_closed_no_members_count.json"
WALL = "vk/wall_get_with_copy_history.json"


@pytest.mark.parametrize(
    ("groups", "users", "calls", "status", "reason"),
    [
        # A closed community: read, private, and its wall never asked for.
        (GROUP, None, ["groups.getById"], Status.OK, None),
        (
            "vk/error_100_groups_getById.json",
            "vk/users_get_open_profile.json",
            ["groups.getById", "users.get", "wall.get"],
            Status.OK,
            None,
        ),
        (
            "vk/error_100_groups_getById.json",
            "vk/error_113_users_get.json",
            ["groups.getById", "users.get"],
            Status.UNKNOWN,
            "bad_request",
        ),
        (
            "vk/error_100_groups_getById.json",
            "vk/error_18_users_get.json",
            ["groups.getById", "users.get"],
            Status.ABSENT,
            "deleted",
        ),
    ],
)
async def test_vk_reads_a_community_or_a_person_and_never_guesses_absence(
    groups: str, users: str | None, calls: list[str], status: Status, reason: str | None
) -> None:
    wall = "vk/error_15_wall_get.json" if groups == GROUP else WALL
    vk = FakeVk(groups, users, wall)
    app = web.Application()
    app.router.add_get("/method/{method}", vk.handle)
    runner, port = await _serve(app)
    settings = load_settings(
        None,
        http={"allow_private_networks": True, "per_host_rate": 1000.0, "timeout": "3s"},
        sources={
            "vk": {"base_url": f"http://127.0.0.1:{port}/method", "service_token": "vk-secret"}
        },
    )
    try:
        obs = await _fetch(settings, Platform.VK, "zarechye_gov")
    finally:
        await runner.cleanup()
    assert (obs.status, obs.reason, vk.calls) == (status, reason, calls)
    assert obs.followers is None  # hidden, or nothing read: never 0
    if status is Status.OK and "wall.get" in calls:
        assert [p.id for p in obs.posts if p.is_repost] == ["4412"]
