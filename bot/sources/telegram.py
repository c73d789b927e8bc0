"""Telegram public channels without a token: ``t.me/s/<channel>`` plus the plain page.

``/s/`` gives the newest posts and a rounded subscriber count; the plain ``t.me/<channel>``
page gives the exact count. A redirect from ``/s/`` to the plain page means the name is
not a previewable channel: the plain page then says what it is. A channel whose plain
page has no "Preview channel" link (or that ``/s/`` redirected away from) has turned its
web preview off: it is read as ``ok`` with visibility ``preview_off`` and no posts, so
its posts are never judged missing. An empty ``/s/`` page is not taken as that: Telegram
serves one under throttling too (``no_posts_found``, unknown).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import datetime
from urllib.parse import quote, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.domain import AccountRef, Count, Observation, Platform, PostSeen, Status, Visibility
from bot.errors import FetchError, ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    absent,
    encode_validators,
    followers_of,
    node_text,
    not_modified,
    parse_time,
    require_ok,
    wall_reason,
)
from bot.sources.numbers import parse_count, parse_int
from bot.sources.tme_messages import MESSAGES, Parts, message_parts

_VIEWS_WORD = re.compile(r"\s*views?\s*$", re.IGNORECASE)
# t.me localises the plain page by Accept-Language: ask for English, read Russian too.
_SUBSCRIBERS = re.compile(r"(subscriber|подписчик)", re.IGNORECASE)
_MEMBERS = re.compile(r"(member|участник)", re.IGNORECASE)
_HEADERS = {"Accept-Language": "en-US,en;q=0.9"}
_LOGO = "telegram.org/img/t_logo"
_COUNTER = ".tgme_channel_info_counter"


def _text(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    value = node.text(separator="", strip=False).strip()
    return value or None


def _channel_id(message: LexborNode) -> str | None:
    raw = message.attrs.get("data-view")
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError):
        return None
    value = data.get("c") if isinstance(data, dict) else None
    if isinstance(value, int):
        return str(abs(value))
    return None


def _published(parts: Parts) -> datetime | None:
    node = parts.get("time")
    return parse_time(node.attrs.get("datetime")) if node is not None else None


def _views(parts: Parts) -> int | None:
    raw = _text(parts.get("views"))
    return parse_int(_VIEWS_WORD.sub("", raw)) if raw is not None else None


def _edited(parts: Parts) -> bool:
    meta = parts.get("meta")
    # Only the meta span's own text counts: an author signature could itself read "edited".
    return meta is not None and "edited" in meta.text(deep=False).lower()


def _post(message: LexborNode, parts: Parts, channel: str) -> PostSeen | None:
    data_post = message.attrs.get("data-post") or ""
    _, _, post_id = data_post.rpartition("/")
    if not post_id.isdigit():
        return None
    link = parts.get("date_link")
    url = (link.attrs.get("href") if link is not None else None) or (
        f"https://t.me/{data_post or channel}"
    )
    text = parts.get("text")
    # A forward is the channel's own message (it chose to publish it): a post, not a
    # repost; ``forwarded_from`` names where it came from.
    return PostSeen(
        id=post_id,
        url=url,
        published_at=_published(parts),
        text=node_text(text) if text is not None else "",
        views=_views(parts),
        edited=_edited(parts),
        forwarded_from=_text(parts.get("forwarded")),
        is_reply="reply" in parts,
        raw=_block(message).html,
    )


def _block(message: LexborNode) -> LexborNode:
    """The message's whole block as served: its ``.tgme_widget_message_wrap``, else itself."""
    parent = message.parent
    while parent is not None:
        if "tgme_widget_message_wrap" in _classes(parent):
            return parent
        parent = parent.parent
    return message


def _subscribers(tree: LexborHTMLParser) -> Count | None:
    # The subscribers' counter comes first on real pages: asked for alone, lexbor stops there.
    first = tree.css_first(_COUNTER)
    counters = [first] if first is not None and _counts_subscribers(first) else tree.css(_COUNTER)
    for counter in counters:
        if _counts_subscribers(counter):
            value = _text(counter.css_first(".counter_value"))
            return parse_count(value) if value else None
    return None


def _counts_subscribers(counter: LexborNode) -> bool:
    return _SUBSCRIBERS.match((_text(counter.css_first(".counter_type")) or "").lower()) is not None


def _og(tree: LexborHTMLParser, name: str) -> str | None:
    node = tree.css_first(f'meta[property="og:{name}"]')
    value = node.attributes.get("content") if node is not None else None
    return value.strip() if value and value.strip() else None


def parse_channel_page(body: bytes, *, channel: str, fetched_at: datetime) -> Observation:
    """Parse a ``t.me/s/<channel>`` page: header, rounded subscribers and posts (newest first)."""
    if b"</html>" not in body[-2048:]:
        # A cut page loses its newest posts (they are at the bottom): never trust it.
        raise ParseError("page ends before </html>", reason="truncated")
    tree = LexborHTMLParser(body)
    header = tree.css_first(".tgme_channel_info")
    messages = tree.css(MESSAGES)
    if header is None:
        if tree.css_first(".tgme_page_extra, .tgme_page_icon") is not None:
            return parse_plain_page(body, channel=channel, fetched_at=fetched_at)
        raise ParseError("no channel header on the /s/ page", reason=wall_reason(body))
    if not messages and tree.css_first(".tme_no_messages_found") is not None:
        # Every real channel shows at least its "channel created" message on the newest
        # page; Telegram also serves this under throttling. Never read it as "no posts".
        raise ParseError("Telegram says no posts found", reason="no_posts_found")
    if not messages:
        raise ParseError("no messages and no 'no posts' notice", reason="layout_changed")
    followers = _subscribers(tree)
    content = [m for m in messages if "service_message" not in _classes(m)]
    parts = message_parts(content)
    found = [p for m in content if (p := _post(m, parts[m.mem_id], channel)) is not None]
    if len(found) < len(content):
        raise ParseError("messages without a readable post id", reason="layout_changed")
    kept = sorted(found, key=lambda p: int(p.id), reverse=True)
    avatar = tree.css_first(".tgme_channel_info_header img")
    return Observation(
        platform=Platform.TELEGRAM,
        handle=channel,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=_text(tree.css_first(".tgme_channel_info_header_title span")),
        description=_description(tree.css_first(".tgme_channel_info_description")),
        avatar_url=(avatar.attributes.get("src") if avatar is not None else None) or None,
        **followers_of(followers),
        posts=tuple(kept),
        no_posts=not kept,
        platform_id=next((c for m in messages if (c := _channel_id(m))), None),
        visibility=Visibility.PUBLIC,
    )


def _classes(node: LexborNode) -> list[str]:
    # ``attrs`` reads the one attribute (``attributes`` decodes them all); elements only.
    return ((node.attrs.get("class") if node.is_element_node else None) or "").split()


def _description(node: LexborNode | None) -> str | None:
    return node_text(node) or None if node is not None else None


def parse_plain_page(body: bytes, *, channel: str, fetched_at: datetime) -> Observation:
    """Parse a plain ``t.me/<name>`` page: exact subscribers, or what the name is instead."""
    tree = LexborHTMLParser(body)
    title = _text(tree.css_first(".tgme_page_title span")) or _text(
        tree.css_first(".tgme_page_title")
    )
    extra = _text(tree.css_first(".tgme_page_extra")) or ""
    if title is None:
        if tree.css_first(".tgme_page_icon") is not None or "Telegram: Contact" in (
            _text(tree.css_first("title")) or ""
        ):
            return absent(Platform.TELEGRAM, channel, fetched_at, "not_found")
        raise ParseError("not a Telegram page", reason=wall_reason(body))
    lowered = extra.lower()
    if _SUBSCRIBERS.search(extra):
        count = parse_count(_SUBSCRIBERS.split(extra)[0])
        image = _og(tree, "image")
        shown = _previewable(tree)
        return Observation(
            platform=Platform.TELEGRAM,
            handle=channel,
            status=Status.OK,
            fetched_at=fetched_at,
            display_name=title,
            description=_description(tree.css_first(".tgme_page_description")),
            # Not the /s/ page's avatar address: compared with it, it would be a false change.
            avatar_url=image if shown and image and _LOGO not in image else None,
            **followers_of(count),
            # A channel whose preview is on links to it; without the link it is turned off.
            visibility=Visibility.PUBLIC if shown else Visibility.PREVIEW_OFF,
        )
    if _MEMBERS.search(extra):
        return absent(Platform.TELEGRAM, channel, fetched_at, "is_group")
    if lowered.startswith("@") and lowered.endswith("bot"):
        return absent(Platform.TELEGRAM, channel, fetched_at, "is_bot")
    if extra.startswith("@") or not extra:
        return absent(Platform.TELEGRAM, channel, fetched_at, "is_user")
    raise ParseError(f"unrecognised plain page extra {extra!r}", reason="layout_changed")


def _previewable(tree: LexborHTMLParser) -> bool:
    """True when the plain page links to the channel's ``/s/`` preview ("Preview channel")."""
    links = tree.css("a.tgme_page_context_link")
    return any(urlsplit(a.attributes.get("href") or "").path.startswith("/s/") for a in links)


def merge_plain(channel_page: Observation, plain: Observation) -> Observation:
    """Take the exact subscriber count (and title) of the plain page into a /s/ observation."""
    if plain.status is not Status.OK or plain.followers is None:
        return channel_page
    return replace(
        channel_page,
        followers=plain.followers,
        followers_exact=plain.followers_exact,
        followers_margin=plain.followers_margin,
        display_name=channel_page.display_name or plain.display_name,
        description=channel_page.description or plain.description,
    )


def _redirected(url: str | None) -> bool:
    """True when ``/s/`` redirected to the plain page (unknown for a saved file)."""
    return url is not None and "/s/" not in urlsplit(url).path


class TelegramSource(Source):
    """Public Telegram channels, read from t.me without a token."""

    platform = Platform.TELEGRAM
    responses = ("/s/ page (or the plain page it redirected to)", "plain page")
    default_base_url = "https://t.me"

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The /s/ page; after a redirect, the plain page says what the name is instead."""
        # A missing name, group, user, bot or a channel with web preview disabled
        # redirects; a saved plain page is recognised by its layout instead.
        if not _redirected(ctx.url):
            return parse_channel_page(body, channel=ctx.handle, fetched_at=ctx.fetched_at)
        plain = parse_plain_page(body, channel=ctx.handle, fetched_at=ctx.fetched_at)
        if plain.ok:  # a channel that /s/ sent away from: its preview is off, whatever links
            return replace(plain, visibility=Visibility.PREVIEW_OFF, avatar_url=None)
        return plain

    @classmethod
    def parse_next(cls, observation: Observation, body: bytes, ctx: ParseContext) -> Observation:
        """Take the exact count of the plain page; an unreadable one leaves the rounded count."""
        try:
            plain = parse_plain_page(body, channel=ctx.handle, fetched_at=ctx.fetched_at)
        except ParseError:  # the rounded /s/ count stays; the exact one is a bonus
            return observation
        return merge_plain(observation, plain)

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        url = f"{self.base_url}/s/{quote(account.handle, safe='')}"
        response = await self.get(url, account, headers=_HEADERS)
        if response.not_modified:
            return not_modified(account, self.platform, fetched_at)
        ctx = ParseContext(account.handle, fetched_at, url=require_ok(response).url)
        observation = self.parse([response.body], ctx)
        if _redirected(response.url):
            return observation
        observation = replace(observation, validators=encode_validators(url, response.validators))
        if observation.ok and self.settings.sources.telegram.fetch_plain_page:
            plain = await self._plain(account)
            if plain is not None:
                observation = self.parse_next(observation, plain, ctx)
        return observation

    async def _plain(self, account: AccountRef) -> bytes | None:
        url = f"{self.base_url}/{quote(account.handle, safe='')}"
        try:
            response = await self.http.get(url, headers=_HEADERS, rate=self.rate)
        except FetchError:  # the rounded /s/ count stays; the exact one is a bonus
            return None
        return response.body if response.status == 200 else None
