"""YouTube channels: the public Atom feed for videos, the Data API for subscribers (API key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

from bot.domain import AccountRef, Count, Observation, Platform, Status
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    absent,
    decode_validators,
    encode_validators,
    followers_of,
    not_modified,
    obj,
    parse_json,
    reject_server_error,
    require_ok,
)
from bot.sources.numbers import count_or_digits
from bot.sources.rss import parse_feed


def rounding_margin(value: int) -> int:
    """YouTube shows three significant digits: the rounding error of ``value``."""
    digits = len(str(value))
    return 10 ** (digits - 3) if digits > 3 else 0


def rounded(value: int | None) -> Count | None:
    """A subscriber count as YouTube rounds it."""
    return Count(value, exact=False, margin=rounding_margin(value)) if value is not None else None


def parse_videos_feed(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse ``/feeds/videos.xml?channel_id=...``: channel title and the newest videos."""
    observation = parse_feed(body, handle=handle, fetched_at=fetched_at, platform=Platform.YOUTUBE)
    channel_id = observation.platform_id
    if channel_id and not channel_id.startswith("UC"):
        channel_id = "UC" + channel_id  # the feed-level id drops the prefix
    return replace(observation, platform_id=channel_id)


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
    subscribers = None if hidden else count_or_digits(stats.get("subscriberCount"))
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
        **followers_of(rounded(subscribers)),
        posts_count=count_or_digits(stats.get("videoCount")),
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


def _is_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


class YoutubeSource(Source):
    """YouTube channels; subscribers only when ``sources.youtube.api_key`` is set."""

    platform = Platform.YOUTUBE
    # In either order: the Atom answer is told from the JSON one by its first byte.
    responses = ("feeds/videos.xml", "Data API channels (optional)")
    default_base_url = "https://www.youtube.com"
    exact_followers = False

    @classmethod
    def parse(cls, bodies: Sequence[bytes], ctx: ParseContext) -> Observation:
        """The feed's videos plus the Data API's counts; either answer alone also reads."""
        feeds = [b for b in bodies if not _is_json(b)]
        apis = [b for b in bodies if _is_json(b)]
        api = cls.parse_api(apis[0], ctx) if apis else None
        if not feeds:
            if api is None:
                raise ParseError("no feed given", reason="layout_changed")
            return api
        feed = cls.parse_first(feeds[0], ctx)
        return merge_statistics(feed, api) if api is not None else feed

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The videos feed."""
        return parse_videos_feed(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    @classmethod
    def parse_api(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The Data API ``channels`` answer."""
        return parse_channels(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        ctx = ParseContext(account.handle, fetched_at)
        api = await self._statistics(account)
        observation = self.parse_api(api, ctx) if api is not None else None
        if observation is not None and observation.status is Status.ABSENT:
            return observation
        channel_id = account.platform_id or account.handle
        channel_id = (observation.platform_id if observation else None) or channel_id
        if not channel_id.startswith("UC"):
            raise ParseError("a @handle needs the Data API key", reason="channel_id_required")
        url = f"{self.base_url}/feeds/videos.xml?{urlencode({'channel_id': channel_id})}"
        # With fresh statistics in hand a 304 would lose them: ask unconditionally then.
        validators = decode_validators(account, url) if api is None else {}
        response = await self.http.get(url, validators=validators, rate=self.rate)
        if response.not_modified:
            return not_modified(account, self.platform, fetched_at)
        # The feed has had multi-week outages with 404/500: unknown, never absent.
        feed = require_ok(response, "feed HTTP").body
        found = self.parse([feed] if api is None else [feed, api], ctx)
        return replace(found, validators=encode_validators(url, response.validators))

    async def _statistics(self, account: AccountRef) -> bytes | None:
        options = self.settings.sources.youtube
        if options.api_key is None:
            return None
        target = account.platform_id or account.handle
        key = "forHandle" if target.startswith("@") else "id"
        query = urlencode(
            {"part": "statistics,snippet", key: target, "key": options.api_key.get_secret_value()}
        )
        response = await self.http.get(f"{options.api_base_url.rstrip('/')}/channels?{query}")
        return reject_server_error(response, "API HTTP").body
