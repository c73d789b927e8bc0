"""Bluesky through the public AppView (no token): getProfile plus getAuthorFeed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status, Visibility
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    absent,
    add_posts,
    error_of,
    followers_of,
    newest_first,
    obj,
    parse_json,
    parse_time,
    raw_json,
    reject_server_error,
    require_ok,
)
from bot.sources.numbers import count_of

_ABSENT_ERRORS = {
    "AccountTakedown": "suspended",
    "AccountDeactivated": "deactivated",
    "BlockedActor": "not_public",
}
_FEED_LIMIT = 30


def _classify_error(data: object, handle: str, fetched_at: datetime) -> Observation | None:
    error = error_of(data)
    if error is None:
        return None
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    if error in _ABSENT_ERRORS:
        return absent(Platform.BLUESKY, handle, fetched_at, _ABSENT_ERRORS[error])
    if error == "InvalidRequest" and "not found" in message.lower():
        return absent(Platform.BLUESKY, handle, fetched_at, "not_found")
    if error == "RateLimitExceeded":
        raise ParseError(message, reason="rate_limited")
    raise ParseError(f"{error}: {message}", reason="api_error")


def parse_profile(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse an ``app.bsky.actor.getProfile`` answer (or its error object)."""
    data = parse_json(body)
    classified = _classify_error(data, handle, fetched_at)
    if classified is not None:
        return classified
    if not isinstance(data, dict) or not isinstance(data.get("did"), str):
        raise ParseError("profile without a did", reason="layout_changed")
    followers = count_of(data.get("followersCount"))
    return Observation(
        platform=Platform.BLUESKY,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=(data.get("displayName") or None),
        description=(data.get("description") or None),
        avatar_url=(data.get("avatar") or None),
        **followers_of(followers),
        posts_count=count_of(data.get("postsCount")),
        platform_id=data["did"],
        visibility=_visibility(data.get("labels")),
    )


#: The self-label asking apps to show the account to logged-in readers only.
NO_UNAUTHENTICATED = "!no-unauthenticated"


def _visibility(labels: object) -> Visibility | None:
    """``logged_in_only`` when the profile carries ``!no-unauthenticated`` (not negated)."""
    if labels is None:
        return Visibility.PUBLIC
    if not isinstance(labels, list):
        return None
    hidden = (
        isinstance(label, dict)
        and label.get("val") == NO_UNAUTHENTICATED
        and label.get("neg") is not True
        for label in labels
    )
    return Visibility.LOGGED_IN_ONLY if any(hidden) else Visibility.PUBLIC


def _post(item: dict[str, Any], actor: str | None) -> PostSeen | None:
    post = item.get("post")
    if not isinstance(post, dict) or not isinstance(post.get("uri"), str):
        return None
    record = obj(post.get("record"))
    author = obj(post.get("author"))
    reason = obj(item.get("reason"))
    kind = str(reason.get("$type", ""))
    rkey = post["uri"].rsplit("/", 1)[-1]
    author_handle = author.get("handle") or author.get("did") or ""
    reposted = kind.endswith("#reasonRepost") or (
        actor is not None and author.get("did") not in (None, actor)
    )
    return PostSeen(
        id=_repost_id(reason, rkey) if reposted else rkey,
        url=f"https://bsky.app/profile/{author_handle}/post/{rkey}" if author_handle else None,
        # A repost is dated by when it was reposted (reasonRepost.indexedAt), never by
        # the original's creation; without that time it is undated.
        published_at=(
            parse_time(reason.get("indexedAt"))
            if reposted
            else parse_time(record.get("createdAt")) or parse_time(post.get("indexedAt"))
        ),
        text=str(record.get("text") or ""),
        is_reply="reply" in record or "reply" in item,
        is_repost=reposted,
        forwarded_from=author_handle if reposted else None,
        pinned=kind.endswith("#reasonPin"),
        raw=raw_json(item),
    )


def _repost_id(reason: dict[str, Any], rkey: str) -> str:
    """The repost record's own key (reasonRepost.uri), never the original post's."""
    uri = reason.get("uri")
    if isinstance(uri, str) and "/app.bsky.feed.repost/" in uri:
        return uri.rsplit("/", 1)[-1]
    # Older AppViews omit the repost's uri: a key of its own that no post key can equal.
    return f"repost:{rkey}"


def parse_feed(body: bytes, *, actor_did: str | None = None) -> tuple[PostSeen, ...]:
    """Parse an ``app.bsky.feed.getAuthorFeed`` answer into posts, newest first."""
    data = parse_json(body)
    if error_of(data) is not None:
        raise ParseError(str(error_of(data)), reason="api_error")
    feed = data.get("feed") if isinstance(data, dict) else None
    if not isinstance(feed, list):
        raise ParseError("feed without a feed list", reason="layout_changed")
    posts = [p for item in feed if isinstance(item, dict) and (p := _post(item, actor_did))]
    return newest_first(posts)


class BlueskySource(Source):
    """Bluesky accounts through public.api.bsky.app."""

    platform = Platform.BLUESKY
    responses = ("app.bsky.actor.getProfile", "app.bsky.feed.getAuthorFeed")

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The profile answer (or its error object)."""
        return parse_profile(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    @classmethod
    def parse_next(cls, observation: Observation, body: bytes, ctx: ParseContext) -> Observation:
        """The author feed's posts."""
        posts = parse_feed(body, actor_did=observation.platform_id)
        return add_posts(observation, posts, counted=True)

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        base = f"{self.base_url}/xrpc/"
        actor = account.platform_id or account.handle
        query = urlencode({"actor": actor})
        profile = await self.http.get(f"{base}app.bsky.actor.getProfile?{query}", rate=self.rate)
        ctx = ParseContext(account.handle, fetched_at)
        observation = self.parse([reject_server_error(profile).body], ctx)
        if not observation.ok:
            return observation
        feed_query = urlencode(
            {
                "actor": observation.platform_id or actor,
                "limit": _FEED_LIMIT,
                "filter": "posts_with_replies",
                "includePins": "true",
            }
        )
        feed = await self.http.get(
            f"{base}app.bsky.feed.getAuthorFeed?{feed_query}", rate=self.rate
        )
        return self.parse_next(observation, require_ok(feed, "feed HTTP").body, ctx)
