"""Instagram Business/Creator accounts through Graph API business discovery (needs a token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    bearer,
    followers_of,
    newest_first,
    parse_json,
    parse_time,
    raw_json,
)
from bot.sources.facebook import graph_error
from bot.sources.numbers import count_of

_MEDIA_LIMIT = 25


def discovery_fields(username: str) -> str:
    """The ``fields`` value asking business discovery about ``username``."""
    return (
        f"business_discovery.username({username})"
        "{id,username,name,biography,profile_picture_url,followers_count,media_count,"
        f"media.limit({_MEDIA_LIMIT}){{id,caption,timestamp,permalink}}}}"
    )


def _post(item: dict[str, Any]) -> PostSeen | None:
    if not isinstance(item.get("id"), str):
        return None
    return PostSeen(
        id=item["id"],
        url=item.get("permalink") or None,
        published_at=parse_time(item.get("timestamp")),
        text=str(item.get("caption") or ""),
        raw=raw_json(item),
    )


def parse_discovery(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse a business discovery answer into followers, media count and recent media."""
    data = parse_json(body)
    classified = graph_error(
        data, platform=Platform.INSTAGRAM, handle=handle, fetched_at=fetched_at
    )
    if classified is not None:
        return classified
    found = data.get("business_discovery") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise ParseError("answer without business_discovery", reason="layout_changed")
    media = found.get("media", {}).get("data", []) if isinstance(found.get("media"), dict) else []
    posts = [p for m in media if isinstance(m, dict) and (p := _post(m))]
    followers = count_of(found.get("followers_count"))
    return Observation(
        platform=Platform.INSTAGRAM,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=found.get("name") or found.get("username") or None,
        description=found.get("biography") or None,
        avatar_url=found.get("profile_picture_url") or None,
        **followers_of(followers),
        posts_count=count_of(found.get("media_count")),
        posts=newest_first(posts),
        no_posts=count_of(found.get("media_count")) == 0,
        platform_id=found.get("id") if isinstance(found.get("id"), str) else None,
    )


class InstagramSource(Source):
    """Instagram professional accounts; needs ``access_token`` and ``ig_user_id``."""

    platform = Platform.INSTAGRAM
    responses = ("business discovery",)
    needs_token = True
    credential = "access_token"

    def has_token(self) -> bool:
        """True when both the token and the operator's own IG user id are configured."""
        return self.token() is not None and bool(self.settings.sources.instagram.ig_user_id)

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The business discovery answer (or its Graph API error)."""
        return parse_discovery(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        options = self.settings.sources.instagram
        assert options.ig_user_id
        query = urlencode({"fields": discovery_fields(account.handle)})
        url = f"{self.base_url}/{quote(options.ig_user_id)}?{query}"
        response = await self.http.get(url, headers=bearer(self.token()), rate=self.rate)
        return self.parse([response.body], ParseContext(account.handle, fetched_at))
