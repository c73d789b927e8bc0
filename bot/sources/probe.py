"""``govwatch probe``: fetch one account (or parse saved responses) and show what the bot sees."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
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
from bot.logs import RedactingFilter
from bot.net.client import HttpClient
from bot.sources import REGISTRY
from bot.sources.base import ParseContext, unknown, utcnow
from bot.sources.html import SELECTOR_KEYS

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


def parse_saved(
    platform: Platform,
    handle: str,
    bodies: Sequence[bytes],
    *,
    fetched_at: datetime,
    selectors: Mapping[str, str] | None = None,
    tz: tzinfo = UTC,
    profile: str | None = None,
) -> Observation:
    """Parse saved responses (in the source's ``responses`` order); never raises ParseError."""
    ctx = ParseContext(handle, fetched_at, options=dict(selectors or {}), tz=tz, profile=profile)
    try:
        return REGISTRY[platform].parse(bodies, ctx)
    except ParseError as exc:
        account = AccountRef(platform=platform, handle=handle)
        return unknown(account, fetched_at, exc.reason, detail=exc.detail)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(observation: Observation) -> dict[str, Any]:
    """The ``probe --json`` document of an observation (DESIGN.md's keys, plus ``detail``)."""
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
        # Not in DESIGN.md's list: added after its keys, so their order stays as documented.
        "detail": observation.detail,
        # Who may see the account (public, preview_off, private, locked, logged_in_only).
        "visibility": observation.visibility.value if observation.visibility else None,
    }


def render_text(observation: Observation) -> str:
    """A short human-readable account of an observation."""
    followers = "—" if observation.followers is None else f"{observation.followers}"
    if observation.followers is not None and not observation.followers_exact:
        followers += f" (rounded, ±{observation.followers_margin})"
    lines = [
        f"{observation.platform.value} {observation.handle}: {observation.status.value}"
        + _why(observation),
        f"  name:      {observation.display_name or '—'}",
        f"  followers: {followers}",
        f"  posts:     {observation.posts_count if observation.posts_count is not None else '—'}"
        f" total, {len(observation.posts)} read",
    ]
    if observation.visibility is not None:
        hidden = " (posts hidden from govwatch)" if observation.posts_hidden else ""
        lines.insert(2, f"  visible:   {observation.visibility.value}{hidden}")
    for post in observation.posts[:10]:
        marks = "".join(
            mark
            for flag, mark in (
                (post.edited, " [edited]"),
                (post.forwarded_from is not None, f" [from {post.forwarded_from}]"),
                (post.is_reply, " [reply]"),
                (post.is_repost, " [repost]"),
            )
            if flag
        )
        views = f" {post.views} views" if post.views is not None else ""
        first_line = (post.text.splitlines() or [""])[0][:80]
        lines.append(f"  - {post.id} {_iso(post.published_at) or '?'}{views}{marks}: {first_line}")
    return "\n".join(lines)


def _why(observation: Observation) -> str:
    """`` (network: could not resolve host t.me)``, `` (not_found)`` or nothing."""
    if not observation.reason:
        return ""
    if observation.detail:
        return f" ({observation.reason}: {observation.detail})"
    return f" ({observation.reason})"


def _target(args: argparse.Namespace) -> tuple[Platform, str]:
    if getattr(args, "url", None):
        platform = platform_of_url(args.url)
        return platform, normalize_handle(platform, args.url)
    if not getattr(args, "handle", None):
        raise UserInputError("--platform needs --handle")
    platform = parse_platform(args.platform)
    return platform, normalize_handle(platform, args.handle)


def read_files(paths: Sequence[str]) -> list[bytes]:
    """The saved answers; an unreadable later (optional) one ends the list with a warning."""
    # As the live source does when the plain t.me page cannot be fetched, the answers read
    # so far stand; the ones after it are left out too, as their order says what they are.
    bodies: list[bytes] = []
    for index, name in enumerate(paths):
        try:
            bodies.append(Path(name).read_bytes())
        except OSError as exc:
            if index == 0:
                raise UserInputError(f"cannot read {name}: {exc.strerror}") from exc
            left = len(paths) - index
            print(
                f"govwatch probe: cannot read {name}: {exc.strerror};"
                f" read without it ({left} optional file{'s' if left > 1 else ''} left out)",
                file=sys.stderr,
            )
            break
    return bodies


async def _fetch_live(
    settings: Settings,
    platform: Platform,
    handle: str,
    selectors: Mapping[str, str],
    url: str | None = None,
) -> Observation:
    account = AccountRef(platform=platform, handle=handle, url=url, options=dict(selectors))
    async with HttpClient(settings.http) as http:
        source = REGISTRY[platform](http=http, settings=settings)
        return await source.fetch(account)


def probe(
    settings: Settings,
    platform: Platform,
    handle: str,
    *,
    bodies: Sequence[bytes] = (),
    selectors: Mapping[str, str] | None = None,
    url: str | None = None,
) -> Observation:
    """What the bot sees of one account: parsed from saved ``bodies``, or fetched live."""
    # ``url`` is the profile address given with --url: a Mastodon instance's scheme and
    # port live there, not in the handle.
    if not bodies:
        return asyncio.run(_fetch_live(settings, platform, handle, selectors or {}, url))
    tz = ZoneInfo(settings.i18n.timezone)
    return parse_saved(
        platform, handle, bodies, fetched_at=utcnow(), selectors=selectors, tz=tz, profile=url
    )


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``govwatch probe``; exit 0 whenever the answer was read and classified."""
    platform, handle = _target(args)
    selectors = _selectors(getattr(args, "selector", None) or [])
    bodies = read_files(getattr(args, "file", None) or [])
    url = getattr(args, "url", None) or None
    observation = probe(settings, platform, handle, bodies=bodies, selectors=selectors, url=url)
    if observation.detail:
        # The words name hosts only; mask configured secrets anyway, as the logs do.
        detail = RedactingFilter(settings.secrets()).redact(observation.detail)
        observation = replace(observation, detail=detail)
    if getattr(args, "json", False):
        print(json.dumps(to_json(observation), ensure_ascii=False, indent=1))
    else:
        print(render_text(observation))
    return 0
