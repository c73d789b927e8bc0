"""The demo world serves pages and APIs that govwatch's real sources read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings, load_settings
from bot.demo import script
from bot.demo.tme import abbreviate, spaced
from bot.demo.world import PLACEHOLDER, World
from bot.domain import AccountRef, Platform, Status
from bot.net.client import HttpClient
from bot.sources.bluesky import BlueskySource
from bot.sources.facebook import FacebookSource
from bot.sources.rss import RssSource
from bot.sources.telegram import TelegramSource


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World(speed=60)
    await w.start(evolve=False)
    yield w
    await w.stop()


def world_settings(w: World, **extra: Any) -> Settings:
    urls = w.base_urls()
    sources: dict[str, Any] = {p.value: {"base_url": u} for p, u in urls.items()}
    sources["facebook"]["access_token"] = "demo-token"
    return load_settings(
        None,
        http={"allow_private_networks": True, "per_host_rate": 100.0, "timeout": "5s"},
        sources=sources,
        **extra,
    )


@pytest.fixture
async def http(world: World) -> AsyncIterator[HttpClient]:
    client = HttpClient(world_settings(world).http)
    yield client
    await client.aclose()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (912, "912"),
        (1000, "1K"),
        (9870, "9.87K"),
        (48213, "48.2K"),
        (104_400, "104K"),
        (200_500, "200K"),
        (1_234_567, "1.23M"),
    ],
)
def test_abbreviate_like_telegram(value: int, text: str) -> None:
    assert abbreviate(value) == text


def test_spaced_exact_count() -> None:
    assert spaced(48213) == "48 213"


def test_every_roster_account_is_served() -> None:
    from bot.roster import load_roster

    entries = load_roster(script.__file__.replace("script.py", "roster.toml"))
    assert len(entries) == 24
    roster = {(a.platform, a.handle) for e in entries for a in e.accounts}
    assert roster == set(script.PLANS)
    rss = [h for p, h in roster if p is Platform.RSS]
    assert rss
    assert all(h.startswith(PLACEHOLDER) for h in rss)


async def test_telegram_source_reads_world(world: World, http: HttpClient) -> None:
    source = TelegramSource(http=http, settings=world_settings(world))
    acc = world.account(Platform.TELEGRAM, "musin_digital")
    assert acc is not None
    seen = await source.fetch(AccountRef(Platform.TELEGRAM, "musin_digital"))
    assert seen.status is Status.OK, seen.reason
    assert seen.followers == int(acc.followers)
    assert seen.followers_exact is True
    assert [p.id for p in seen.posts] == [str(p.id) for p in reversed(acc.visible[-20:])]
    assert seen.posts[0].text == acc.visible[-1].text


async def test_telegram_unknown_channel_is_absent(world: World, http: HttpClient) -> None:
    source = TelegramSource(http=http, settings=world_settings(world))
    seen = await source.fetch(AccountRef(Platform.TELEGRAM, "nobody_channel"))
    assert seen.status is Status.ABSENT


async def test_plot_edit_delete_and_failure(world: World, http: HttpClient) -> None:
    source = TelegramSource(http=http, settings=world_settings(world))
    before = await source.fetch(AccountRef(Platform.TELEGRAM, "musin_digital"))
    world.advance(script.MINUTE * 40)
    after = await source.fetch(AccountRef(Platform.TELEGRAM, "musin_digital"))
    gone = {p.id for p in before.posts} - {p.id for p in after.posts}
    assert len(gone) == 1  # the deleted post, while older ones are still listed
    edited = await source.fetch(AccountRef(Platform.TELEGRAM, "aimagambetov_edu"))
    assert any(p.edited and p.text.endswith(script.EDIT_SUFFIX) for p in edited.posts)
    failing = await source.fetch(AccountRef(Platform.TELEGRAM, "balaeva_mion"))
    assert failing.status is Status.UNKNOWN
    assert failing.followers is None


async def test_bluesky_source_reads_world(world: World, http: HttpClient) -> None:
    source = BlueskySource(http=http, settings=world_settings(world))
    acc = world.account(Platform.BLUESKY, "bagdatmusin.bsky.social")
    assert acc is not None
    seen = await source.fetch(AccountRef(Platform.BLUESKY, "bagdatmusin.bsky.social"))
    assert seen.status is Status.OK, seen.reason
    assert seen.followers == int(acc.followers)
    assert seen.posts
    assert seen.posts[0].text == acc.visible[-1].text
    again = await source.fetch(
        AccountRef(Platform.BLUESKY, "bagdatmusin.bsky.social", platform_id=seen.platform_id)
    )
    assert again.status is Status.OK
    missing = await source.fetch(AccountRef(Platform.BLUESKY, "nobody.bsky.social"))
    assert missing.status is Status.ABSENT


def test_world_evolves_without_false_silence() -> None:
    start = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    elapsed = [0.0]
    w = World(speed=60, clock=lambda: start + timedelta(seconds=elapsed[0] / 60))
    quiet = w.account(Platform.FACEBOOK, "100021000000011")
    active = w.account(Platform.FACEBOOK, "100021000000006")
    assert quiet is not None
    assert active is not None
    quiet_posts, active_posts = len(quiet.posts), len(active.posts)
    for _ in range(int(4 * script.HOUR / 30)):
        elapsed[0] += 30
        w.advance(30)
        newest = active.visible[-1].published_at
        assert (w.clock() - newest).total_seconds() * w.speed < script.MAX_QUIET
    assert len(quiet.posts) == quiet_posts
    assert len(active.posts) > active_posts
    assert active.followers > 35_140 + 2_000  # growth plus the scripted jump


@pytest.mark.parametrize(("speed", "lead_s"), [(60, 40.0), (240, 12.0), (3600, 12.0)])
def test_the_quiet_minister_nears_the_real_silence_threshold(speed: float, lead_s: float) -> None:
    """Real time throughout: his last post turns 7 days old (what /silent counts) soon."""
    start = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    w = World(speed=speed, clock=lambda: start)
    assert w.silent_after == timedelta(days=7)
    assert w.silence_lead == timedelta(seconds=lead_s)
    quiet = w.account(Platform.FACEBOOK, "100021000000011")
    feed = w.account(Platform.RSS, "https://demo.invalid/rss/interior-press.xml")
    assert quiet is not None
    assert feed is not None
    newest = max(p.published_at for p in quiet.posts)
    assert start - newest == timedelta(days=7) - timedelta(seconds=lead_s)
    # every account of his is quieter still, so /silent lists him once this one is silent
    assert max(p.published_at for p in feed.posts) < newest
    # active accounts posted minutes ago, in real time: far inside the threshold
    for acc in w.accounts.values():
        if acc.post_every is not None:
            assert start - acc.visible[-1].published_at < timedelta(hours=1)


async def test_facebook_source_reads_world(world: World, http: HttpClient) -> None:
    source = FacebookSource(http=http, settings=world_settings(world))
    acc = world.account(Platform.FACEBOOK, "100021000000006")
    assert acc is not None
    seen = await source.fetch(AccountRef(Platform.FACEBOOK, "100021000000006"))
    assert seen.status is Status.OK, seen.reason
    assert seen.followers == int(acc.followers)
    assert seen.posts[0].text == acc.visible[-1].text
    assert seen.posts[0].published_at == acc.visible[-1].published_at.replace(microsecond=0)
    dormant = await source.fetch(AccountRef(Platform.FACEBOOK, "100021000000002"))
    assert dormant.status is Status.OK
    assert dormant.posts[0].published_at is not None
    assert (world.clock() - dormant.posts[0].published_at).days >= 30


async def test_facebook_wrong_token_is_unknown(world: World, http: HttpClient) -> None:
    settings = world_settings(world)
    wrong = settings.model_copy(
        update={
            "sources": settings.sources.model_copy(
                update={
                    "facebook": settings.sources.facebook.model_copy(
                        update={"access_token": SecretStr("not-the-token")}
                    )
                }
            )
        }
    )
    seen = await FacebookSource(http=http, settings=wrong).fetch(
        AccountRef(Platform.FACEBOOK, "100021000000006")
    )
    assert seen.status is Status.UNKNOWN
    assert seen.followers is None


async def test_rss_source_reads_world(world: World, http: HttpClient) -> None:
    source = RssSource(http=http, settings=world_settings(world))
    placeholder = f"{PLACEHOLDER}/rss/edu-press.xml"
    acc = world.account(Platform.RSS, placeholder)
    assert acc is not None
    url = world.rss_url(placeholder)
    seen = await source.fetch(AccountRef(Platform.RSS, url))
    assert seen.status is Status.OK, seen.reason
    assert len(seen.posts) == len(acc.visible)
    assert acc.visible[-1].text in seen.posts[0].text
    again = await source.fetch(AccountRef(Platform.RSS, url, validators=seen.validators))
    assert again.not_modified
