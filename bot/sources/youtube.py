"""YouTube channels: the public Atom feed for videos, the Data API for subscribers (API key)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from bot.domain import AccountRef, Observation, Platform, Status
from bot.errors import ParseError
from bot.sources.base import (
    Source,
    absent,
    decode_validators,
    encode_validators,
    http_failure,
    not_modified,
    obj,
    parse_json,
)
from bot.sources.rss import parse_feed


def rounding_margin(value: int) -> int:
    """YouTube shows three significant digits: the rounding error of ``value``."""
    digits = len(str(value))
    return 10 ** (digits - 3) if digits > 3 else 0


def parse_videos_feed(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse ``/feeds/videos.xml?channel_id=...``: channel title and the newest videos."""
    observation = parse_feed(body, handle=handle, fetched_at=fetched_at, platform=Platform.YOUTUBE)
    channel_id = observation.platform_id
    if channel_id and not channel_id.startswith("UC"):
        channel_id = "UC" + channel_id  # the feed-level id drops the prefix
    return replace(observation, platform_id=channel_id)


def _number(stats: dict[str, Any], key: str) -> int | None:
    raw = stats.get(key)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def parse_channels(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse a Data API ``channels?part=statistics,snippet`` answer."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise ParseError("channels answer is not an object", reason="layout_changed")
    if isinstance(data.get("error"), dict):
        reasons = {e.get("reason") for e in data["error"].get("errors", []) if isinstance(e, dict)}
        reason = "rate_limited" if reasons & {"quotaExceeded", "rateLimitExceeded"} else "api_error"
        raise ParseError(str(data["error"].get("message", "API error")), reason=reason)
    items = data.get("items")
    if not items:
        return absent(Platform.YOUTUBE, handle, fetched_at, "not_found")
    item = items[0] if isinstance(items[0], dict) else {}
    stats = obj(item.get("statistics"))
    snippet = obj(item.get("snippet"))
    hidden = stats.get("hiddenSubscriberCount") is True
    subscribers = None if hidden else _number(stats, "subscriberCount")
    thumbs = obj(snippet.get("thumbnails"))
    avatar = next((t.get("url") for t in thumbs.values() if isinstance(t, dict)), None)
    return Observation(
        platform=Platform.YOUTUBE,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=snippet.get("title") or None,
        description=snippet.get("description") or None,
        avatar_url=avatar,
        followers=subscribers,
        followers_exact=False if subscribers is not None else None,
        followers_margin=rounding_margin(subscribers) if subscribers is not None else 0,
        posts_count=_number(stats, "videoCount"),
        platform_id=item.get("id") if isinstance(item.get("id"), str) else None,
    )


def merge_statistics(feed: Observation, api: Observation) -> Observation:
    """Add the API's subscriber and video counts to a feed observation."""
    if not api.ok:
        return feed
    return replace(
        feed,
        followers=api.followers,
        followers_exact=api.followers_exact,
        followers_margin=api.followers_margin,
        posts_count=api.posts_count,
        display_name=feed.display_name or api.display_name,
        description=feed.description or api.description,
        avatar_url=feed.avatar_url or api.avatar_url,
    )


class YoutubeSource(Source):
    """YouTube channels; subscribers only when ``sources.youtube.api_key`` is set."""

    platform = Platform.YOUTUBE
    needs_token = False
    exact_followers = False
    has_posts = True

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        options = self.settings.sources.youtube
        api: Observation | None = None
        channel_id = account.platform_id or account.handle
        if options.api_key is not None:
            api = await self._statistics(account, fetched_at)
            if api.status is Status.ABSENT:
                return api
            channel_id = api.platform_id or channel_id
        if not channel_id.startswith("UC"):
            raise ParseError("a @handle needs the Data API key", reason="channel_id_required")
        base = (options.base_url or "https://www.youtube.com").rstrip("/")
        url = f"{base}/feeds/videos.xml?{urlencode({'channel_id': channel_id})}"
        # With fresh statistics in hand a 304 would lose them: ask unconditionally then.
        validators = decode_validators(account, url) if api is None else {}
        response = await self.http.get(url, validators=validators, rate=self.rate)
        if response.not_modified:
            return not_modified(account, self.platform, fetched_at)
        if response.status != 200:
            # The feed has had multi-week outages with 404/500: unknown, never absent.
            raise ParseError(f"feed HTTP {response.status}", reason=http_failure(response))
        feed = parse_videos_feed(response.body, handle=account.handle, fetched_at=fetched_at)
        feed = replace(feed, validators=encode_validators(url, response.validators))
        return merge_statistics(feed, api) if api is not None else feed

    async def _statistics(self, account: AccountRef, fetched_at: datetime) -> Observation:
        options = self.settings.sources.youtube
        assert options.api_key is not None
        target = account.platform_id or account.handle
        key = "forHandle" if target.startswith("@") else "id"
        query = urlencode(
            {"part": "statistics,snippet", key: target, "key": options.api_key.get_secret_value()}
        )
        response = await self.http.get(f"{options.api_base_url.rstrip('/')}/channels?{query}")
        if response.status >= 500:
            raise ParseError(f"API HTTP {response.status}", reason=http_failure(response))
        return parse_channels(response.body, handle=account.handle, fetched_at=fetched_at)
