"""Facebook Pages through the Graph API (needs an operator token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    absent,
    add_posts,
    bearer,
    followers_of,
    newest_first,
    parse_json,
    parse_time,
    raw_json,
)
from bot.sources.numbers import count_of

_RATE_CODES = frozenset({4, 17, 32, 613, 80001})
_PAGE_FIELDS = "id,name,about,followers_count,fan_count,picture{url}"
_POST_FIELDS = "id,message,created_time,permalink_url,updated_time"
_POSTS_LIMIT = 25


def graph_error(
    data: object, *, platform: Platform, handle: str, fetched_at: datetime
) -> Observation | None:
    """Classify a Graph API error object: absent on a positive "no such account", else raise."""
    # The Graph API error-handling guide (developers.facebook.com/docs/graph-api/guides/
    # error-handling) names 10 and 200-299 permission errors and 190 an expired token.
    # 803 "Some of the aliases you requested do not exist" is the one positive answer
    # that a page name is unknown, so it alone is absent. 100 "Invalid parameter" (with
    # subcode 33: "Object ... does not exist, cannot be loaded due to missing permissions,
    # or does not support this operation") cannot tell a missing page from a missing
    # permission; Instagram business discovery answers 110/2207013 ("Invalid user id",
    # "Cannot find User") alike for a missing account and a personal one. Those stay
    # unknown, with the platform's words as the detail.
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None
    error = data["error"]
    code = error.get("code")
    message = str(error.get("message", "Graph API error"))
    words = _words(error)
    if code == 803:
        return absent(platform, handle, fetched_at, "not_found")
    if code in _RATE_CODES:
        raise ParseError(message, reason="rate_limited", detail=words)
    if code == 190:
        raise ParseError(message, reason="token_invalid", detail=words)
    if code in (10, 104) or (isinstance(code, int) and 200 <= code < 300):
        raise ParseError(message, reason="not_permitted", detail=words)
    if code in (100, 110):  # a parameter or id refused, or a page the token may not load
        raise ParseError(message, reason="bad_request", detail=words)
    raise ParseError(message, reason="api_error", detail=words)


def _words(error: dict[str, Any]) -> str:
    """The platform's own words about an error, with its code and subcode."""
    code, subcode = error.get("code"), error.get("error_subcode")
    said = error.get("error_user_msg") or error.get("message") or "an error"
    numbers = f"{code}/{subcode}" if subcode is not None else f"{code}"
    return f"Graph API error {numbers}: {said}"


def parse_page(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse ``GET /{page}?fields=...`` into an observation without posts."""
    data = parse_json(body)
    classified = graph_error(data, platform=Platform.FACEBOOK, handle=handle, fetched_at=fetched_at)
    if classified is not None:
        return classified
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise ParseError("page without an id", reason="layout_changed")
    followers = count_of(data.get("followers_count"))
    if followers is None:
        followers = count_of(data.get("fan_count"))
    picture = (
        data.get("picture", {}).get("data", {}) if isinstance(data.get("picture"), dict) else {}
    )
    return Observation(
        platform=Platform.FACEBOOK,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=data.get("name") or None,
        description=data.get("about") or None,
        avatar_url=picture.get("url") if isinstance(picture, dict) else None,
        **followers_of(followers),
        platform_id=data["id"],
    )


def _post(item: dict[str, Any]) -> PostSeen | None:
    if not isinstance(item.get("id"), str):
        return None
    # ``updated_time`` moves whenever someone comments: it is no sign of an edit. An
    # edit is a changed message, which detection sees by comparing texts.
    return PostSeen(
        id=item["id"],
        url=item.get("permalink_url") or None,
        published_at=parse_time(item.get("created_time")),
        text=str(item.get("message") or ""),
        raw=raw_json(item),
    )


def parse_posts(body: bytes) -> tuple[PostSeen, ...]:
    """Parse ``GET /{page}/posts`` into posts, newest first."""
    data = parse_json(body)
    if graph_error(data, platform=Platform.FACEBOOK, handle="", fetched_at=datetime.min):
        raise ParseError("posts answer says the page is gone", reason="api_error")
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ParseError("posts answer without data", reason="layout_changed")
    posts = [p for i in items if isinstance(i, dict) and (p := _post(i))]
    return newest_first(posts)


class FacebookSource(Source):
    """Facebook Pages; needs ``sources.facebook.access_token``."""

    platform = Platform.FACEBOOK
    responses = ("the page's fields", "the page's posts")
    needs_token = True
    credential = "access_token"

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The page answer (or its Graph API error)."""
        return parse_page(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    @classmethod
    def parse_next(cls, observation: Observation, body: bytes, ctx: ParseContext) -> Observation:
        """The page's posts."""
        return add_posts(observation, parse_posts(body))

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        headers = bearer(self.token())
        base = f"{self.base_url}/{quote(account.platform_id or account.handle)}"
        page = await self.http.get(
            f"{base}?{urlencode({'fields': _PAGE_FIELDS})}", headers=headers, rate=self.rate
        )
        ctx = ParseContext(account.handle, fetched_at)
        observation = self.parse([page.body], ctx)
        if not observation.ok:
            return observation
        query = urlencode({"fields": _POST_FIELDS, "limit": _POSTS_LIMIT})
        posts = await self.http.get(f"{base}/posts?{query}", headers=headers, rate=self.rate)
        return self.parse_next(observation, posts.body, ctx)
