"""Generic HTML pages read with per-account CSS selectors; the handle is the page URL.

Selectors (``AccountRef.options``): ``followers``, ``posts_count``, ``name``, ``post``
(one item), and inside an item ``post_date``, ``post_text``, ``post_link``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, time, tzinfo
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    encode_validators,
    followers_of,
    newest_first,
    node_text,
    not_modified,
    require_ok,
    wall_reason,
)
from bot.sources.dates import month_number
from bot.sources.numbers import parse_count

SELECTOR_KEYS = ("followers", "posts_count", "name", "post", "post_date", "post_text", "post_link")
_WORD_DATE = re.compile(r"(\d{1,2})\s+([^\W\d_]{3,})\.?,?\s+(\d{4})(?:\D+(\d{1,2}):(\d{2}))?")
_EN_DATE = re.compile(r"([A-Za-z]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})(?:\D+(\d{1,2}):(\d{2}))?")
_DOT_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\D+(\d{1,2}):(\d{2}))?")


def _local(year: int, month: int, day: int, hh: str | None, mm: str | None, tz: tzinfo) -> datetime:
    clock = time(int(hh), int(mm)) if hh and mm else time(0, 0)
    return datetime.combine(datetime(year, month, day).date(), clock, tz).astimezone(UTC)


def parse_page_date(text: str, *, tz: tzinfo) -> datetime | None:
    """Parse a date as pages print it (ISO, "7 мая 2026, 11:58", "May 6, 2026", "06.05.2026")."""
    # Month names are read in every language bot.sources.dates lists.
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is not None:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)
    try:
        if match := _WORD_DATE.search(value):
            month = month_number(match.group(2))
            if month:
                day, year = int(match.group(1)), int(match.group(3))
                return _local(year, month, day, match.group(4), match.group(5), tz)
        if match := _EN_DATE.search(value):
            month = month_number(match.group(1))
            if month:
                day, year = int(match.group(2)), int(match.group(3))
                return _local(year, month, day, match.group(4), match.group(5), tz)
        if match := _DOT_DATE.search(value):
            day, month, year = (int(match.group(i)) for i in (1, 2, 3))
            return _local(year, month, day, match.group(4), match.group(5), tz)
    except ValueError:
        return None
    return None


def _first(node: LexborNode | LexborHTMLParser, selector: str | None) -> LexborNode | None:
    if not selector:
        return None
    try:
        return node.css_first(selector)
    except SelectolaxError as exc:
        raise ParseError(f"bad CSS selector {selector!r}", reason="bad_selector") from exc


def _all(tree: LexborHTMLParser, selector: str) -> list[LexborNode]:
    try:
        return list(tree.css(selector))
    except SelectolaxError as exc:
        raise ParseError(f"bad CSS selector {selector!r}", reason="bad_selector") from exc


def _clean(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return " ".join(node.text(separator=" ").replace("\u00a0", " ").split())


def _item(node: LexborNode, selectors: Mapping[str, str], *, base: str, tz: tzinfo) -> PostSeen:
    link = _first(node, selectors.get("post_link") or "a[href]")
    href = link.attributes.get("href") if link is not None else None
    url = urljoin(base, href) if href else None
    date_node = _first(node, selectors.get("post_date") or "time")
    raw_date = (date_node.attributes.get("datetime") if date_node is not None else None) or _clean(
        date_node
    )
    text_node = _first(node, selectors.get("post_text")) if selectors.get("post_text") else link
    source = text_node if text_node is not None and _clean(text_node) else node
    # An item without an id or link is known by its text: hashed in its one-line form,
    # as before lines were kept, so such items keep their ids.
    flat = _clean(source)
    post_id = (
        node.attributes.get("data-id") or url or hashlib.sha256(flat.encode()).hexdigest()[:16]
    )
    return PostSeen(
        id=post_id,
        url=url,
        published_at=parse_page_date(raw_date, tz=tz) if raw_date else None,
        text=node_text(source),
        raw=node.html,
    )


def parse_html_page(
    body: bytes,
    *,
    url: str,
    selectors: Mapping[str, Any],
    fetched_at: datetime,
    tz: tzinfo = UTC,
) -> Observation:
    """Read followers and posts from an HTML page with the account's CSS selectors."""
    wanted = {k: str(v) for k, v in selectors.items() if k in SELECTOR_KEYS and v}
    if not wanted.get("followers") and not wanted.get("post"):
        raise ParseError("no followers or post selector configured", reason="no_selectors")
    tree = LexborHTMLParser(body)
    followers = None
    if wanted.get("followers"):
        counter = _first(tree, wanted["followers"])
        if counter is None or not _clean(counter):
            raise ParseError("follower counter not found", reason=wall_reason(body, url))
        followers = parse_count(_clean(counter))
    posts: list[PostSeen] = []
    if wanted.get("post"):
        items = _all(tree, wanted["post"])
        if not items:
            raise ParseError("no post items found", reason=wall_reason(body, url))
        posts = [_item(node, wanted, base=url, tz=tz) for node in items]
    ordered = newest_first(posts)
    count_node = _first(tree, wanted.get("posts_count"))
    name = _clean(_first(tree, wanted.get("name"))) or _clean(tree.css_first("title")) or None
    return Observation(
        platform=Platform.HTML,
        handle=url,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=name,
        **followers_of(followers),
        posts_count=parse_count(_clean(count_node)).value if count_node is not None else None,
        posts=ordered,
    )


class HtmlSource(Source):
    """Any HTML page, read with the CSS selectors stored in the account's options."""

    platform = Platform.HTML
    responses = ("the page",)
    exact_followers = False

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The page, read with the selectors in ``ctx.options``; links resolve against its URL."""
        observation = parse_html_page(
            body,
            url=ctx.url or ctx.handle,
            selectors=ctx.options,
            fetched_at=ctx.fetched_at,
            tz=ctx.tz,
        )
        return replace(observation, handle=ctx.handle)

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        url = str(account.options.get("url") or account.url or account.handle)
        response = await self.get(url, account)
        if response.not_modified:
            return not_modified(account, self.platform, fetched_at)
        ctx = ParseContext(
            account.handle,
            fetched_at,
            options=account.options,
            tz=ZoneInfo(self.settings.i18n.timezone),
            url=require_ok(response).url,
        )
        observation = self.parse([response.body], ctx)
        return replace(observation, validators=encode_validators(url, response.validators))
