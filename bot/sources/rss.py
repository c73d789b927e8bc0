"""RSS and Atom feeds (press releases, official sites); the handle is the feed URL."""

from __future__ import annotations

import calendar
import html
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat

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
    raw_json,
    require_ok,
    wall_reason,
)
from bot.sources.dates import feedparser_handler

# feedparser's own parsers do not fetch external entities, but internal entity
# expansion ("billion laughs") must never reach them: feeds never need a DTD.
_DTD = re.compile(rb"<!(DOCTYPE[^>]*\[|ENTITY)", re.IGNORECASE)
_FEED_MARK = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.IGNORECASE)
# A body cut short still parses (feedparser is lenient) into fewer, half-read entries
# whose ids, dates and texts differ: that would read as edits and missed posts.
_FEED_END = re.compile(rb"</(rss|feed|rdf:RDF)\s*>", re.IGNORECASE)
_ENTRY_TAGS = ("item", "entry")
# The fields a feed entry's evidence keeps when its XML cannot be cut out of the feed.
_EVIDENCE_KEYS = ("id", "link", "title", "published", "updated", "author", "summary", "content")

# Feeds of the region date items "Пн, 24 сен 2018 19:42:40 +0600": read, not dropped.
feedparser.registerDateHandler(feedparser_handler)


class _Refused(Exception):
    """A declaration the evidence cutter will not read (entities must never expand)."""


def entry_fragments(body: bytes, encoding: str | None = None) -> list[str] | None:
    """The XML of each top-level ``<item>``/``<entry>`` exactly as served, in feed order."""
    # feedparser keeps no entry's markup, so the feed is read once more with expat, which
    # reports where each element starts and ends; the slices are the served text (decoded
    # with the feed's own encoding). None when that is not possible: a broken feed only
    # feedparser's lenient parser reads, an unknown encoding, any DTD.
    if _DTD.search(body):
        return None
    try:
        data = body.decode(encoding or "utf-8").encode("utf-8")
    except (LookupError, UnicodeError):
        return None
    parser = expat.ParserCreate("utf-8")  # overrides the declared encoding: data is UTF-8
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0

    def opened(name: str, attrs: object) -> None:
        nonlocal depth, start
        if name.rpartition(":")[2] in _ENTRY_TAGS:
            start = parser.CurrentByteIndex if depth == 0 else start
            depth += 1

    def closed(name: str) -> None:
        nonlocal depth
        if name.rpartition(":")[2] in _ENTRY_TAGS and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, data.index(b">", parser.CurrentByteIndex) + 1))

    def refuse(*args: object) -> None:
        raise _Refused

    parser.StartElementHandler = opened
    parser.EndElementHandler = closed
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, _Refused, ValueError):
        return None
    return [data[a:b].decode("utf-8", errors="replace") for a, b in spans]


def _evidence(entry: Any, fragment: str | None, post_id: str) -> str:
    """The entry as served: its XML when it is surely this entry's, else its fields as JSON."""
    # The JSON fallback (feedparser's reading of the entry: id, link, title, dates,
    # author, summary and content) is not the served bytes, but it is what the post's
    # text was taken from, and far better evidence than nothing.
    if fragment is not None and (post_id in fragment or html.escape(post_id) in fragment):
        return fragment
    fields = {k: entry.get(k) for k in _EVIDENCE_KEYS if entry.get(k) is not None}
    if isinstance(fields.get("content"), list):
        fields["content"] = [
            {"type": c.get("type"), "value": c.get("value")}
            for c in fields["content"]
            if isinstance(c, dict)
        ]
    return raw_json(fields)


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


def _entry(entry: Any, fragment: str | None) -> PostSeen | None:
    post_id = entry.get("yt_videoid") or entry.get("id") or entry.get("link")
    if not post_id:
        return None
    return PostSeen(
        id=str(post_id),
        url=_link(entry),
        published_at=_when(entry),
        text=_text(entry),
        views=_views(entry),
        raw=_evidence(entry, fragment, str(post_id)),
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
    found = entry_fragments(body, parsed.get("encoding"))
    fragments: list[str | None] = list(found) if found is not None else []
    if len(fragments) != len(parsed.entries):
        fragments = [None] * len(parsed.entries)  # never pair an entry with another's XML
    posts = [p for e, f in zip(parsed.entries, fragments, strict=True) if (p := _entry(e, f))]
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
