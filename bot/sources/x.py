"""X (Twitter) accounts through API v2 (needs a bearer token; every read is billed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status, Visibility
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    absent,
    add_posts,
    bearer,
    followers_of,
    newest_first,
    obj,
    parse_json,
    parse_time,
    raw_json,
    seq,
)
from bot.sources.numbers import count_of

_USER_FIELDS = "public_metrics,description,name,profile_image_url,protected"
_TWEET_FIELDS = "created_at,public_metrics,referenced_tweets,edit_history_tweet_ids"
_TWEETS_LIMIT = 20


def _errors(data: object, *, handle: str, fetched_at: datetime) -> Observation | None:
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list) or not errors or (isinstance(data, dict) and "data" in data):
        return None
    first = errors[0] if isinstance(errors[0], dict) else {}
    text = f"{first.get('title', '')} {first.get('detail', '')} {first.get('type', '')}".lower()
    # Positive absence only: X's own "resource-not-found" problem for the user, or its
    # suspension notice. Authorization problems ("not-authorized-for-resource", a
    # protected account) and anything else leave the account unknown.
    if "suspended" in text:
        return absent(Platform.X, handle, fetched_at, "suspended")
    if "resource-not-found" in text or "not found" in text:
        return absent(Platform.X, handle, fetched_at, "not_found")
    if "too many" in text or "usage-capped" in text:
        raise ParseError(text.strip(), reason="rate_limited")
    if any(w in text for w in ("unauthorized", "forbidden", "not-authorized", "not authorized")):
        raise ParseError(text.strip(), reason="not_permitted", detail=_words(first))
    raise ParseError(text.strip() or "X API error", reason="api_error", detail=_words(first))


def _words(error: dict[str, Any]) -> str | None:
    """X's own sentence about an error (its ``detail`` or ``title``)."""
    words = error.get("detail") or error.get("title")
    return f"X said: {words}" if isinstance(words, str) and words else None


def parse_user(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse ``GET /2/users/by/username/<u>`` into an observation without posts."""
    data = parse_json(body)
    classified = _errors(data, handle=handle, fetched_at=fetched_at)
    if classified is not None:
        return classified
    user = data.get("data") if isinstance(data, dict) else None
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise ParseError("user answer without data.id", reason="layout_changed")
    # An answer without public_metrics (as for some protected accounts): None, never 0.
    metrics = obj(user.get("public_metrics"))
    followers = count_of(metrics.get("followers_count"))
    return Observation(
        platform=Platform.X,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=user.get("name") or None,
        description=user.get("description") or None,
        avatar_url=user.get("profile_image_url") or None,
        **followers_of(followers),
        posts_count=count_of(metrics.get("tweet_count")),
        platform_id=user["id"],
        visibility=_visibility(user.get("protected")),
    )


def _visibility(protected: object) -> Visibility | None:
    """A protected account's tweets are for its approved followers only."""
    if isinstance(protected, bool):
        return Visibility.PRIVATE if protected else Visibility.PUBLIC
    return None


def _tweet(item: dict[str, Any], handle: str) -> PostSeen | None:
    if not isinstance(item.get("id"), str):
        return None
    refs = seq(item.get("referenced_tweets"))
    kinds = {r.get("type") for r in refs if isinstance(r, dict)}
    metrics = obj(item.get("public_metrics"))
    history = item.get("edit_history_tweet_ids")
    # A retweet is a tweet of its own: its id and created_at are the retweet's.
    return PostSeen(
        id=item["id"],
        url=f"https://x.com/{handle}/status/{item['id']}",
        published_at=parse_time(item.get("created_at")),
        text=str(item.get("text") or ""),
        views=count_of(metrics.get("impression_count")),
        edited=isinstance(history, list) and len(history) > 1,
        is_reply="replied_to" in kinds,
        is_repost="retweeted" in kinds,
        raw=raw_json(item),
    )


def parse_tweets(body: bytes, *, handle: str) -> tuple[PostSeen, ...]:
    """Parse ``GET /2/users/<id>/tweets`` into posts, newest first."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise ParseError("tweets answer is not an object", reason="layout_changed")
    items = data.get("data", [])
    if "data" not in data:
        gone = _errors(data, handle=handle, fetched_at=datetime.min)
        if gone is not None:  # the user vanished between the two calls: never "no tweets"
            raise ParseError("tweets answer says the user is gone", reason="api_error")
    if not isinstance(items, list):
        raise ParseError("tweets answer without a data list", reason="layout_changed")
    return newest_first(p for i in items if isinstance(i, dict) and (p := _tweet(i, handle)))


class XSource(Source):
    """X accounts; needs ``sources.x.bearer_token``."""

    platform = Platform.X
    responses = ("users/by/username", "users/<id>/tweets")
    needs_token = True
    credential = "bearer_token"

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The user answer (or its error list)."""
        return parse_user(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    @classmethod
    def parse_next(cls, observation: Observation, body: bytes, ctx: ParseContext) -> Observation:
        """The user's tweets."""
        return add_posts(observation, parse_tweets(body, handle=ctx.handle))

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        headers = bearer(self.token())
        query = urlencode({"user.fields": _USER_FIELDS})
        user = await self.http.get(
            f"{self.base_url}/users/by/username/{quote(account.handle)}?{query}",
            headers=headers,
            rate=self.rate,
        )
        ctx = ParseContext(account.handle, fetched_at)
        observation = self.parse([user.body], ctx)
        if not observation.ok or observation.posts_hidden:
            return observation  # a protected account's tweets answer "not authorized"
        query = urlencode({"max_results": _TWEETS_LIMIT, "tweet.fields": _TWEET_FIELDS})
        tweets = await self.http.get(
            f"{self.base_url}/users/{observation.platform_id}/tweets?{query}",
            headers=headers,
            rate=self.rate,
        )
        return self.parse_next(observation, tweets.body, ctx)
