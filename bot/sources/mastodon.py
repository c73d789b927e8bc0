"""Mastodon accounts (no token): ``accounts/lookup`` plus the account's statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status, Visibility
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    absent,
    add_posts,
    error_of,
    followers_of,
    html_to_text,
    obj,
    parse_json,
    parse_time,
    raw_json,
    reject_server_error,
)
from bot.sources.numbers import count_of

_STATUSES_LIMIT = 40


def _classify_error(data: object, handle: str, fetched_at: datetime) -> Observation:
    error = (error_of(data) or "").lower()
    if "not found" in error:
        return absent(Platform.MASTODON, handle, fetched_at, "not_found")
    if "suspended" in error:
        return absent(Platform.MASTODON, handle, fetched_at, "suspended")
    _raise_for(error)


def _raise_for(error: str) -> NoReturn:
    if "authenticated" in error or "authorized" in error:
        raise ParseError(error, reason="login_wall")
    if "too many" in error:
        raise ParseError(error, reason="rate_limited")
    raise ParseError(error or "unexpected answer", reason="api_error")


def parse_lookup(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse an ``/api/v1/accounts/lookup`` answer (or its error object)."""
    data = parse_json(body)
    if not isinstance(data, dict) or "error" in data:
        return _classify_error(data, handle, fetched_at)
    if not isinstance(data.get("id"), str):
        raise ParseError("account without an id", reason="layout_changed")
    if data.get("suspended") is True:
        return absent(Platform.MASTODON, handle, fetched_at, "suspended")
    return Observation(
        platform=Platform.MASTODON,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=data.get("display_name") or data.get("username") or None,
        description=html_to_text(data.get("note")) or None,
        avatar_url=data.get("avatar") or None,
        **followers_of(_followers(data)),
        posts_count=count_of(data.get("statuses_count")),
        platform_id=data["id"],
        # locked: the account approves its followers; its public posts stay readable.
        visibility=_visibility(data.get("locked")),
    )


def _visibility(locked: object) -> Visibility | None:
    if not isinstance(locked, bool):
        return None
    return Visibility.LOCKED if locked else Visibility.PUBLIC


def _followers(account: dict[str, Any]) -> int | None:
    """The follower count, or None where the account hides it.

    Mastodon's ``hide_collections`` hides the lists but keeps the count; a server that
    hides the count itself (Pleroma/Akkoma ``hide_followers_count``, or a remote account
    whose home hides it) reports 0 or -1 instead: that is not a measurement.
    """
    count = count_of(account.get("followers_count"))
    pleroma = obj(account.get("pleroma"))
    if pleroma.get("hide_followers_count") is True:
        return None
    hidden = account.get("hide_collections") is True or pleroma.get("hide_followers") is True
    return None if hidden and not count else count


def _post(status: dict[str, Any], profile: str) -> PostSeen | None:
    if not isinstance(status.get("id"), str):
        return None
    reblog = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    content = reblog if reblog is not None else status
    origin = reblog.get("account", {}) if reblog is not None else {}
    # A boost is the wrapper status: its own id and created_at (when it was boosted),
    # the boosted status's text and link.
    own_url = status.get("url") or (reblog or {}).get("url")
    return PostSeen(
        id=status["id"],
        url=own_url or (None if reblog is not None else f"{profile}/{status['id']}"),
        published_at=parse_time(status.get("created_at")),
        text=html_to_text(content.get("content")) or str(content.get("spoiler_text") or ""),
        edited=bool(status.get("edited_at")) and reblog is None,
        forwarded_from=(origin.get("acct") or None) if isinstance(origin, dict) else None,
        is_reply=status.get("in_reply_to_id") is not None,
        is_repost=reblog is not None,
        pinned=bool(status.get("pinned")),
        raw=raw_json(status),
    )


def parse_statuses(body: bytes, *, profile: str = "") -> tuple[PostSeen, ...]:
    """Parse an ``/api/v1/accounts/<id>/statuses`` answer into posts, newest first."""
    # ``profile`` is the account's address: a status the server gives no link is linked
    # under it.
    data = parse_json(body)
    if not isinstance(data, list):
        _raise_for((error_of(data) or "statuses answer is not a list").lower())
    posts = [p for s in data if isinstance(s, dict) and (p := _post(s, profile))]
    return tuple(sorted(posts, key=lambda p: int(p.id) if p.id.isdigit() else 0, reverse=True))


def profile_url(handle: str, *, url: str | None = None, scheme: str = "https") -> str:
    """The profile address: ``url`` when it is one (scheme and port kept), else from the handle."""
    user, _, host = handle.partition("@")
    try:
        parts = urlsplit(url or "")
    except ValueError:  # e.g. an unclosed "[" of an IPv6 literal
        parts = urlsplit("")
    path = parts.path.rstrip("/")
    if parts.scheme in ("http", "https") and parts.netloc and path.startswith("/@"):
        return f"{parts.scheme}://{parts.netloc}{path}"
    return f"{scheme}://{host}/@{user}"


def instance_of(profile: str) -> str:
    """``scheme://host[:port]`` of a profile address."""
    parts = urlsplit(profile)
    return f"{parts.scheme}://{parts.netloc}"


class MastodonSource(Source):
    """Mastodon accounts on any instance; the handle is user@instance."""

    platform = Platform.MASTODON
    responses = ("accounts/lookup", "accounts/<id>/statuses")

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The lookup answer (or its error object)."""
        return parse_lookup(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    @classmethod
    def parse_next(cls, observation: Observation, body: bytes, ctx: ParseContext) -> Observation:
        """The account's statuses; links the server leaves out are built from the profile."""
        profile = profile_url(ctx.handle, url=ctx.profile)
        return add_posts(observation, parse_statuses(body, profile=profile), counted=True)

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        user, _, host = account.handle.partition("@")
        if not user or not host:
            raise ParseError(f"{account.handle!r} is not user@instance", reason="bad_handle")
        scheme = self.settings.sources.mastodon.scheme
        # The roster's profile address wins: ``http://host:8080/@name`` keeps its scheme
        # and port for the API calls and for the post links built from it.
        profile = profile_url(account.handle, url=account.url, scheme=scheme)
        base = f"{instance_of(profile)}/api/v1/accounts"
        lookup = await self.http.get(f"{base}/lookup?{urlencode({'acct': user})}", rate=self.rate)
        ctx = ParseContext(account.handle, fetched_at, profile=profile)
        observation = self.parse([reject_server_error(lookup).body], ctx)
        if not observation.ok:
            return observation
        query = urlencode({"limit": _STATUSES_LIMIT})
        statuses = await self.http.get(
            f"{base}/{observation.platform_id}/statuses?{query}", rate=self.rate
        )
        return self.parse_next(observation, reject_server_error(statuses).body, ctx)
