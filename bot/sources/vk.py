"""VK communities and people through the VK API (needs a service token)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bot.domain import AccountRef, Observation, Platform, PostSeen, Status, Visibility
from bot.errors import ParseError
from bot.sources.base import (
    ParseContext,
    Source,
    absent,
    add_posts,
    followers_of,
    newest_first,
    obj,
    parse_json,
    raw_json,
)
from bot.sources.numbers import count_of

# VK API error codes as VK's own schema names them (github.com/VKCOM/vk-api-schema, errors.json).
# Only code 18 "User was deleted or banned" says the account is gone. Code 100 ("One of
# the parameters specified was missing or invalid"), 113 ("Invalid user id") and 125
# ("Invalid group id") are answers about the request: VK gives 113 for a misspelt
# parameter and, intermittently, for existing users (VKCOM/vk-android-sdk#100), so they
# are never proof of absence. 15 "Access denied", 30 "This profile is private" and 203
# "Access to group denied" are permissions: the account exists, we may not read it.
_ABSENT_CODES = {18: "deleted"}
_REQUEST_CODES = frozenset({100, 113, 125})
_PERMISSION_CODES = frozenset({7, 15, 30, 200, 203, 260})
_RATE_CODES = frozenset({6, 9, 29})
_TOKEN_CODES = frozenset({5, 27, 28})
_WALL_LIMIT = 20
_NOBODY = "VK named neither a community nor a person by that name; not proof it is gone"


def vk_response(body: bytes, *, handle: str, fetched_at: datetime) -> Any:
    """The ``response`` of a VK API answer; an Observation (absent) or ParseError on errors."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise ParseError("VK answer is not an object", reason="layout_changed")
    error = data.get("error")
    if isinstance(error, dict):
        code = error.get("error_code")
        message = str(error.get("error_msg", "VK API error"))
        words = f"VK error {code}: {message}"
        if code in _ABSENT_CODES:
            return absent(Platform.VK, handle, fetched_at, _ABSENT_CODES[code])
        if code in _RATE_CODES:
            raise ParseError(message, reason="rate_limited", detail=words)
        if code in _TOKEN_CODES:
            raise ParseError(message, reason="token_invalid", detail=words)
        if code in _PERMISSION_CODES:
            raise ParseError(message, reason="not_permitted", detail=words)
        if code in _REQUEST_CODES:
            words += " (VK's answer about the request, not proof the account is gone)"
            raise ParseError(message, reason="bad_request", detail=words)
        raise ParseError(message, reason="api_error", detail=words)
    if "response" not in data:
        raise ParseError("VK answer without response", reason="layout_changed")
    return data["response"]


def no_community(body: bytes) -> bool:
    """True when ``groups.getById`` found no community by that name (so ask ``users.get``)."""
    try:
        data = parse_json(body)
    except ParseError:
        return False
    if not isinstance(data, dict):
        return False
    error = data.get("error")
    if isinstance(error, dict):
        return error.get("error_code") in _REQUEST_CODES
    response = data.get("response")
    groups = response.get("groups") if isinstance(response, dict) else response
    return isinstance(groups, list) and not groups


def parse_group(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse ``groups.getById`` (old list form or 5.139+ ``{groups: [...]}`` form)."""
    response = vk_response(body, handle=handle, fetched_at=fetched_at)
    if isinstance(response, Observation):
        return response
    groups = response.get("groups") if isinstance(response, dict) else response
    if not isinstance(groups, list) or not groups or not isinstance(groups[0], dict):
        raise ParseError("VK named no community", reason="api_error", detail=_NOBODY)
    group = groups[0]
    if group.get("deactivated"):  # VK's own word on the object: "deleted" or "banned"
        return absent(Platform.VK, handle, fetched_at, str(group["deactivated"]))
    # A closed community or hidden members: no count given, None (never 0).
    followers = count_of(group.get("members_count"))
    return Observation(
        platform=Platform.VK,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=group.get("name") or None,
        description=group.get("description") or None,
        avatar_url=group.get("photo_200") or None,
        **followers_of(followers),
        platform_id=f"-{group['id']}" if isinstance(group.get("id"), int) else None,
        # VK's is_closed: 0 open, 1 closed, 2 private; a closed wall is for members only.
        visibility=_group_visibility(group.get("is_closed")),
    )


def _group_visibility(closed: object) -> Visibility | None:
    if isinstance(closed, bool) or not isinstance(closed, int):
        return None
    return Visibility.PUBLIC if closed == 0 else Visibility.PRIVATE


def _user_visibility(user: dict[str, Any]) -> Visibility | None:
    # A closed profile hides its wall unless VK says this token may read it anyway.
    closed = user.get("is_closed")
    if not isinstance(closed, bool):
        return None
    if closed and user.get("can_access_closed") is not True:
        return Visibility.PRIVATE
    return Visibility.PUBLIC


def parse_user(body: bytes, *, handle: str, fetched_at: datetime) -> Observation:
    """Parse ``users.get`` with ``followers_count``."""
    response = vk_response(body, handle=handle, fetched_at=fetched_at)
    if isinstance(response, Observation):
        return response
    if not isinstance(response, list) or not response or not isinstance(response[0], dict):
        raise ParseError("VK named no one", reason="api_error", detail=_NOBODY)
    user = response[0]
    if user.get("deactivated"):
        return absent(Platform.VK, handle, fetched_at, str(user["deactivated"]))
    # VK leaves followers_count out when the person hides it: None, never 0.
    followers = count_of(user.get("followers_count"))
    name = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip()
    return Observation(
        platform=Platform.VK,
        handle=handle,
        status=Status.OK,
        fetched_at=fetched_at,
        display_name=name or None,
        avatar_url=user.get("photo_200") or None,
        **followers_of(followers),
        platform_id=str(user["id"]) if isinstance(user.get("id"), int) else None,
        visibility=_user_visibility(user),
    )


def _post(item: dict[str, Any], handle: str) -> PostSeen | None:
    if not isinstance(item.get("id"), int):
        return None
    owner = item.get("owner_id")
    date = item.get("date")
    views = obj(item.get("views"))
    history = item.get("copy_history")
    origin = (
        history[0]
        if isinstance(history, list) and history and isinstance(history[0], dict)
        else None
    )
    # A copy of another owner's post is a repost: the wall item's own id and date (when
    # it was shared), never the original's.
    reposted = origin is not None and origin.get("owner_id") != owner
    return PostSeen(
        id=str(item["id"]),
        url=f"https://vk.com/wall{owner}_{item['id']}" if owner is not None else None,
        published_at=datetime.fromtimestamp(date, UTC) if isinstance(date, int) else None,
        text=str(item.get("text") or (origin or {}).get("text") or ""),
        views=count_of(views.get("count")),
        edited=bool(item.get("edited")),
        forwarded_from=str(origin.get("owner_id")) if origin else None,
        is_repost=reposted,
        pinned=bool(item.get("is_pinned")),
        raw=raw_json(item),
    )


def parse_wall(body: bytes, *, handle: str) -> tuple[PostSeen, ...]:
    """Parse ``wall.get`` into posts, newest first."""
    response = vk_response(body, handle=handle, fetched_at=datetime.now(UTC))
    if isinstance(response, Observation):
        raise ParseError(
            "wall not readable", reason="api_error", detail="VK: the wall's owner is gone"
        )
    items = response.get("items") if isinstance(response, dict) else None
    if not isinstance(items, list):
        raise ParseError("wall answer without items", reason="layout_changed")
    return newest_first(p for i in items if isinstance(i, dict) and (p := _post(i, handle)))


def _is_user(body: bytes) -> bool:
    """True for a ``users.get`` answer (a list of people with ``first_name``)."""
    data = parse_json(body)
    response = data.get("response") if isinstance(data, dict) else None
    return isinstance(response, list) and bool(response) and "first_name" in obj(response[0])


class VkSource(Source):
    """VK communities (members) and people (followers); needs ``sources.vk.service_token``."""

    platform = Platform.VK
    # The first answer is groups.getById, or users.get when no community has the name.
    responses = ("groups.getById or users.get", "wall.get")
    needs_token = True
    credential = "service_token"

    async def _call(self, method: str, **params: str | int) -> bytes:
        token = self.token()
        assert token is not None  # fetch checked has_token
        version = self.settings.sources.vk.api_version
        query = urlencode({**params, "v": version, "access_token": token.get_secret_value()})
        response = await self.http.get(f"{self.base_url}/{method}?{query}", rate=self.rate)
        return response.body

    @classmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """A community or, told by its ``first_name``, a person."""
        parse = parse_user if _is_user(body) else parse_group
        return parse(body, handle=ctx.handle, fetched_at=ctx.fetched_at)

    @classmethod
    def parse_next(cls, observation: Observation, body: bytes, ctx: ParseContext) -> Observation:
        """The wall's posts."""
        return add_posts(observation, parse_wall(body, handle=ctx.handle))

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        name = account.handle
        ctx = ParseContext(name, fetched_at)
        body = await self._call(
            "groups.getById", group_id=name, fields="members_count,description,photo_200"
        )
        if no_community(body):  # a person's name: groups.getById knows no such community
            body = await self._call("users.get", user_ids=name, fields="followers_count,photo_200")
        observation = self.parse([body], ctx)
        if not observation.ok or observation.posts_hidden:
            return observation  # a closed wall answers "access denied": never read it
        wall = await self._call("wall.get", domain=name, count=_WALL_LIMIT)
        return self.parse_next(observation, wall, ctx)
