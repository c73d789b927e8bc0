"""Each source's parse says who may see the account, from saved answers: one contract for
live fetches and ``govwatch probe`` alike. A hidden account is read (``ok``) with no posts,
and its later answers (tweets, wall) are never asked for nor parsed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.domain import Platform, Status, Visibility
from bot.sources import REGISTRY
from bot.sources.base import ParseContext

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TG, MA, BS, VK = "telegram/", "mastodon/", "bluesky/", "vk/"

# (platform, saved answers, the address the first one came from, visibility, posts read)
CASES: list[tuple[Platform, Sequence[str], str | None, Visibility | None, int]] = [
    (Platform.TELEGRAM, [TG + "tme_s_channel_page_10_posts.html"], None, Visibility.PUBLIC, 10),
    (
        Platform.TELEGRAM,
        [TG + "tme_plain_channel_page_spaces_count.html"],
        None,
        Visibility.PUBLIC,
        0,
    ),
    # Saved without its address: told by the missing "Preview channel" link.
    (
        Platform.TELEGRAM,
        [TG + "tme_preview_disabled_channel_after_302.html"],
        None,
        Visibility.PREVIEW_OFF,
        0,
    ),
    # Live: /s/ redirected to the plain page.
    (
        Platform.TELEGRAM,
        [TG + "tme_preview_disabled_channel_after_302.html"],
        "https://t.me/zar_minstroy",
        Visibility.PREVIEW_OFF,
        0,
    ),
    (
        Platform.X,
        ["x/users_by_username.json", "x/users_tweets_with_retweet.json"],
        None,
        Visibility.PUBLIC,
        3,
    ),
    # A protected account: its tweets answer "not authorized", which is never read.
    (
        Platform.X,
        ["x/users_by_username_protected_no_metrics.json", "x/users_tweets_not_authorized.json"],
        None,
        Visibility.PRIVATE,
        0,
    ),
    (
        Platform.MASTODON,
        [MA + "accounts_lookup.json", MA + "accounts_statuses.json"],
        None,
        Visibility.PUBLIC,
        5,
    ),
    # Locked: followers are approved, the public posts are still read.
    (
        Platform.MASTODON,
        [MA + "accounts_lookup_locked.json", MA + "accounts_statuses.json"],
        None,
        Visibility.LOCKED,
        5,
    ),
    (
        Platform.BLUESKY,
        [BS + "getProfile.json", BS + "getAuthorFeed.json"],
        None,
        Visibility.PUBLIC,
        5,
    ),
    (
        Platform.BLUESKY,
        [BS + "getProfile_no_unauthenticated.json", BS + "getAuthorFeed.json"],
        None,
        Visibility.LOGGED_IN_ONLY,
        5,
    ),
    # VK: a closed community and a closed profile; their walls refuse, and are not asked.
    (
        Platform.VK,
        [VK + "groups_getById_closed_no_members_count.json", VK + "error_15_wall_get.json"],
        None,
        Visibility.PRIVATE,
        0,
    ),
    (
        Platform.VK,
        [VK + "users_get_hidden_followers.json", VK + "error_30_wall_get.json"],
        None,
        Visibility.PRIVATE,
        0,
    ),
    (
        Platform.VK,
        [VK + "users_get_open_profile.json", VK + "wall_get_with_copy_history.json"],
        None,
        Visibility.PUBLIC,
        4,
    ),
    # Sources that say nothing about it.
    (Platform.YOUTUBE, ["youtube/feeds_videos_channel_id.xml"], None, None, 3),
]


@pytest.mark.parametrize(("platform", "files", "url", "visibility", "posts"), CASES)
def test_parse_says_who_may_see(
    platform: Platform,
    files: Sequence[str],
    url: str | None,
    visibility: Visibility | None,
    posts: int,
) -> None:
    bodies = [(DATA / name).read_bytes() for name in files]
    obs = REGISTRY[platform].parse(bodies, ParseContext("someone", NOW, url=url))
    assert obs.status is Status.OK
    assert obs.visibility is visibility
    assert len(obs.posts) == posts
    assert obs.posts_hidden is (visibility is not None and visibility.hides_posts)
    if obs.posts_hidden:
        assert not obs.no_posts  # never "the account has no posts"


def test_a_negated_label_is_not_hidden() -> None:
    profile = json.loads((DATA / "bluesky/getProfile_no_unauthenticated.json").read_bytes())
    profile["labels"][0]["neg"] = True
    obs = REGISTRY[Platform.BLUESKY].parse([json.dumps(profile).encode()], ParseContext("a", NOW))
    assert obs.visibility is Visibility.PUBLIC


def test_preview_off_keeps_the_exact_count_and_no_other_avatar() -> None:
    body = (DATA / TG / "tme_preview_disabled_channel_after_302.html").read_bytes()
    obs = REGISTRY[Platform.TELEGRAM].parse([body], ParseContext("zar_minstroy", NOW))
    assert (obs.followers, obs.followers_exact) == (6905, True)
    # The plain page's og:image is another address than the /s/ avatar: never compared.
    assert obs.avatar_url is None


def test_probe_shows_visibility(capsys: pytest.CaptureFixture[str]) -> None:
    page = DATA / TG / "tme_preview_disabled_channel_after_302.html"
    args = ["probe", "--platform", "telegram", "--handle", "zar_minstroy", "--file", str(page)]
    assert cli_main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["status"], doc["visibility"], doc["posts"]) == ("ok", "preview_off", [])
    assert cli_main(args) == 0
    assert "visible:   preview_off (posts hidden from govwatch)" in capsys.readouterr().out
