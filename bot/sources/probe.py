"""``govwatch probe``: fetch one account (or parse saved responses) and show what the bot sees."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.domain import AccountRef, Observation, Platform
from bot.errors import ParseError, UserInputError
from bot.handles import normalize_handle, parse_platform
from bot.net.client import HttpClient
from bot.sources import REGISTRY, bluesky, facebook, instagram, mastodon, telegram, vk, x, youtube
from bot.sources.base import parse_json, unknown, utcnow
from bot.sources.html import SELECTOR_KEYS, parse_html_page
from bot.sources.rss import parse_feed

_HOSTS: dict[str, Platform] = {
    "t.me": Platform.TELEGRAM,
    "telegram.me": Platform.TELEGRAM,
    "bsky.app": Platform.BLUESKY,
    "youtube.com": Platform.YOUTUBE,
    "facebook.com": Platform.FACEBOOK,
    "fb.com": Platform.FACEBOOK,
    "instagram.com": Platform.INSTAGRAM,
    "x.com": Platform.X,
    "twitter.com": Platform.X,
    "vk.com": Platform.VK,
}
_FEED_SUFFIXES = (".rss", ".xml", ".atom", "/feed", "/rss", "/feed/", "/rss/")


def platform_of_url(url: str) -> Platform:
    """Guess the platform of a profile URL (an unknown site is a feed or an HTML page)."""
    try:
        parts = urlsplit(url if "://" in url else "https://" + url)
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 literal
        raise UserInputError(f"{url!r} is not a valid address") from exc
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host in _HOSTS:
        return _HOSTS[host]
    if parts.path.startswith("/@") and not parts.path.endswith(".rss"):
        return Platform.MASTODON
    if parts.path.lower().endswith(_FEED_SUFFIXES) or "format=rss" in parts.query:
        return Platform.RSS
    return Platform.HTML


def _selectors(raw: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in raw:
        key, sep, css = item.partition("=")
        if not sep or key.strip() not in SELECTOR_KEYS or not css.strip():
            known = ", ".join(SELECTOR_KEYS)
            raise UserInputError(f"--selector {item!r}: use KEY=CSS with KEY one of {known}")
        found[key.strip()] = css.strip()
    return found


def _is_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


def _pair(
    parse: Callable[..., Observation], bodies: Sequence[bytes], handle: str, at: datetime
) -> Observation:
    second = bodies[1] if len(bodies) > 1 else None
    result: Observation = parse(bodies[0], second, handle=handle, fetched_at=at)
    return result


def _telegram(bodies: Sequence[bytes], handle: str, at: datetime) -> Observation:
    observation = telegram.parse_channel_page(bodies[0], channel=handle, fetched_at=at)
    if len(bodies) > 1 and observation.ok:
        plain = telegram.parse_plain_page(bodies[1], channel=handle, fetched_at=at)
        observation = telegram.merge_plain(observation, plain)
    return observation


def _youtube(bodies: Sequence[bytes], handle: str, at: datetime) -> Observation:
    feeds = [b for b in bodies if not _is_json(b)]
    apis = [b for b in bodies if _is_json(b)]
    api = youtube.parse_channels(apis[0], handle=handle, fetched_at=at) if apis else None
    if not feeds:
        if api is None:
            raise ParseError("no feed given", reason="layout_changed")
        return api
    feed = youtube.parse_videos_feed(feeds[0], handle=handle, fetched_at=at)
    return youtube.merge_statistics(feed, api) if api is not None else feed


def _with_posts(
    first: Observation, posts: tuple[Any, ...] | None, *, no_posts: bool = False
) -> Observation:
    if not first.ok or posts is None:
        return first
    return replace(first, posts=posts, no_posts=no_posts)


def _vk(bodies: Sequence[bytes], handle: str, at: datetime) -> Observation:
    data = parse_json(bodies[0])
    response = data.get("response") if isinstance(data, dict) else None
    is_user = isinstance(response, list) and bool(response) and "first_name" in response[0]
    parse = vk.parse_user if is_user else vk.parse_group
    first = parse(bodies[0], handle=handle, fetched_at=at)
    posts = vk.parse_wall(bodies[1], handle=handle) if len(bodies) > 1 else None
    return _with_posts(first, posts)


def parse_saved(
    platform: Platform,
    handle: str,
    bodies: Sequence[bytes],
    *,
    fetched_at: datetime,
    selectors: Mapping[str, str] | None = None,
    tz: tzinfo = UTC,
) -> Observation:
    """Parse saved responses (in DESIGN.md's order) as the source would; never raises ParseError."""
    try:
        return _parse_saved(platform, handle, bodies, fetched_at, selectors or {}, tz)
    except ParseError as exc:
        ref = AccountRef(platform=platform, handle=handle)
        return unknown(ref, fetched_at, exc.reason)


def _parse_saved(
    platform: Platform,
    handle: str,
    bodies: Sequence[bytes],
    at: datetime,
    selectors: Mapping[str, str],
    tz: tzinfo,
) -> Observation:
    second = bodies[1] if len(bodies) > 1 else None
    match platform:
        case Platform.TELEGRAM:
            return _telegram(bodies, handle, at)
        case Platform.BLUESKY:
            return _pair(bluesky.parse_account, bodies, handle, at)
        case Platform.MASTODON:
            return _pair(mastodon.parse_account, bodies, handle, at)
        case Platform.YOUTUBE:
            return _youtube(bodies, handle, at)
        case Platform.RSS:
            return parse_feed(bodies[0], handle=handle, fetched_at=at)
        case Platform.HTML:
            return parse_html_page(bodies[0], url=handle, selectors=selectors, fetched_at=at, tz=tz)
        case Platform.FACEBOOK:
            first = facebook.parse_page(bodies[0], handle=handle, fetched_at=at)
            return _with_posts(first, facebook.parse_posts(second) if second else None)
        case Platform.INSTAGRAM:
            return instagram.parse_discovery(bodies[0], handle=handle, fetched_at=at)
        case Platform.X:
            first = x.parse_user(bodies[0], handle=handle, fetched_at=at)
            return _with_posts(first, x.parse_tweets(second, handle=handle) if second else None)
        case Platform.VK:
            return _vk(bodies, handle, at)
    raise ParseError(f"no saved-file parser for {platform}", reason="layout_changed")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(observation: Observation) -> dict[str, Any]:
    """The ``probe --json`` document of an observation (keys in DESIGN.md's order)."""
    return {
        "platform": observation.platform.value,
        "handle": observation.handle,
        "status": observation.status.value,
        "reason": observation.reason,
        "display_name": observation.display_name,
        "followers": observation.followers,
        "followers_exact": observation.followers_exact,
        "posts_count": observation.posts_count,
        "posts": [
            {
                "id": post.id,
                "url": post.url,
                "published_at": _iso(post.published_at),
                "text": post.text,
                "views": post.views,
                "edited": post.edited,
                "forwarded_from": post.forwarded_from,
            }
            for post in observation.posts
        ],
        "fetched_at": _iso(observation.fetched_at),
    }


def render_text(observation: Observation) -> str:
    """A short human-readable account of an observation."""
    followers = "—" if observation.followers is None else f"{observation.followers}"
    if observation.followers is not None and not observation.followers_exact:
        followers += f" (rounded, ±{observation.followers_margin})"
    lines = [
        f"{observation.platform.value} {observation.handle}: {observation.status.value}"
        + (f" ({observation.reason})" if observation.reason else ""),
        f"  name:      {observation.display_name or '—'}",
        f"  followers: {followers}",
        f"  posts:     {observation.posts_count if observation.posts_count is not None else '—'}"
        f" total, {len(observation.posts)} read",
    ]
    for post in observation.posts[:10]:
        marks = "".join(
            mark
            for flag, mark in (
                (post.edited, " [edited]"),
                (post.forwarded_from is not None, f" [from {post.forwarded_from}]"),
                (post.is_reply, " [reply]"),
            )
            if flag
        )
        views = f" {post.views} views" if post.views is not None else ""
        first_line = (post.text.splitlines() or [""])[0][:80]
        lines.append(f"  - {post.id} {_iso(post.published_at) or '?'}{views}{marks}: {first_line}")
    return "\n".join(lines)


def _target(args: argparse.Namespace) -> tuple[Platform, str]:
    if getattr(args, "url", None):
        platform = platform_of_url(args.url)
        return platform, normalize_handle(platform, args.url)
    if not getattr(args, "handle", None):
        raise UserInputError("--platform needs --handle")
    platform = parse_platform(args.platform)
    return platform, normalize_handle(platform, args.handle)


def _read_files(paths: Sequence[str]) -> list[bytes]:
    bodies: list[bytes] = []
    for name in paths:
        try:
            bodies.append(Path(name).read_bytes())
        except OSError as exc:
            raise UserInputError(f"cannot read {name}: {exc.strerror}") from exc
    return bodies


async def _fetch_live(
    settings: Settings, platform: Platform, handle: str, selectors: Mapping[str, str]
) -> Observation:
    account = AccountRef(platform=platform, handle=handle, options=dict(selectors))
    async with HttpClient(settings.http) as http:
        source = REGISTRY[platform](http=http, settings=settings)
        return await source.fetch(account)


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``govwatch probe``; exit 0 whenever the answer was read and classified."""
    platform, handle = _target(args)
    selectors = _selectors(getattr(args, "selector", None) or [])
    files = getattr(args, "file", None) or []
    if files:
        observation = parse_saved(
            platform,
            handle,
            _read_files(files),
            fetched_at=utcnow(),
            selectors=selectors,
            tz=ZoneInfo(settings.i18n.timezone),
        )
    else:
        observation = asyncio.run(_fetch_live(settings, platform, handle, selectors))
    if getattr(args, "json", False):
        print(json.dumps(to_json(observation), ensure_ascii=False, indent=1))
    else:
        print(render_text(observation))
    return 0
