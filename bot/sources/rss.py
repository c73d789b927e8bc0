"""RSS and Atom feeds (press releases, official sites); the handle is the feed URL."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    encode_validators,
    html_to_text,
    newest_first,
    not_modified,
    require_ok,
    wall_reason,
)

# feedparser's own parsers do not fetch external entities, but internal entity
# expansion ("billion laughs") must never reach them: feeds never need a DTD.
_DTD = re.compile(rb"<!(DOCTYPE[^>]*\[|ENTITY)", re.IGNORECASE)
_FEED_MARK = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.IGNORECASE)
# A body cut short still parses (feedparser is lenient) into fewer, half-read entries
# whose ids, dates and texts differ: that would read as edits and missed posts.
_FEED_END = re.compile(rb"</(rss|feed|rdf:RDF)\s*>", re.IGNORECASE)


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _text(entry: Any) -> str:
    title = html_to_text(entry.get("title")) if entry.get("title") else ""
    summary = entry.get("summary") or ""
    contents = entry.get("content") or []
    if not summary and contents and isinstance(contents[0], dict):
        summary = contents[0].get("value") or ""
    body = html_to_text(summary)
    return "\n\n".join(part for part in (title, body) if part)


def _views(entry: Any) -> int | None:
    stats = entry.get("media_statistics")
    raw = stats.get("views") if isinstance(stats, dict) else None
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _link(entry: Any) -> str | None:
    """The item's own web address: an absolute http(s) link, never one made up from it.

    feedparser copies a non-URL ``<guid>`` ("abc-17") into ``link``; that is an id, not an
    address, and a relative link would have to be guessed against some base.
    """
    link = entry.get("link")
    if isinstance(link, str) and link.startswith(("http://", "https://")):
        return link
    return None


def _entry(entry: Any) -> PostSeen | None:
    post_id = entry.get("yt_videoid") or entry.get("id") or entry.get("link")
    if not post_id:
        return None
    return PostSeen(
        id=str(post_id),
        url=_link(entry),
        published_at=_when(entry),
        text=_text(entry),
        views=_views(entry),
    )


def parse_feed(
    body: bytes, *, handle: str, fetched_at: datetime, platform: Platform = Platform.RSS
) -> Observation:
    """Parse RSS 2.0 / Atom bytes into an observation (posts newest first, no follower count)."""
    if _DTD.search(body[:4096]):
        raise ParseError("feed declares a DTD or entities", reason="unsafe_xml")
    if not _FEED_MARK.search(body[:4096]):
        reason = wall_reason(body) if b"<html" in body[:4096].lower() else "not_a_feed"
        raise ParseError(
            "not an RSS or Atom document",
            reason="not_a_feed" if reason == "layout_changed" else reason,
        )
    if not _FEED_END.search(body[-4096:]):
        raise ParseError("feed ends before its closing tag", reason="truncated")
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if parsed.get("bozo") and not parsed.entries and not parsed.feed.get("title"):
        raise ParseError(f"broken feed: {parsed.get('bozo_exception')}", reason="not_a_feed")
    posts = [p for e in parsed.entries if (p := _entry(e))]
    ordered = newest_first(posts)
    feed = parsed.feed
    image = feed.get("image")
    return Observation(
        platform=platform,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=html_to_text(feed.get("title")) or None,
        description=html_to_text(feed.get("subtitle")) or None,
        avatar_url=(image.get("href") if isinstance(image, dict) else None) or None,
        posts=ordered,
        platform_id=feed.get("yt_channelid") or None,
    )


class RssSource(Source):
    """Any RSS/Atom feed; conditional GET keeps polling cheap."""

    platform = Platform.RSS
    responses = ("the feed",)
    exact_followers = False

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The RSS or Atom document."""
        return parse_feed(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        url = account.url or account.handle
        response = await self.get(url, account)
        if response.not_modified:
            return not_modified(account, self.platform, fetched_at)
        if response.status in (404, 410):
            raise ParseError("feed gone", reason="not_found")
        observation = self.parse(
            [require_ok(response).body], ParseContext(account.handle, fetched_at)
        )
        return replace(observation, validators=encode_validators(url, response.validators))
