"""Frozen dataclasses and enums shared by every layer (sources, detection, store, chat)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    """Platforms govwatch can read."""

    TELEGRAM = "telegram"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    YOUTUBE = "youtube"
    RSS = "rss"
    HTML = "html"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    VK = "vk"


class Status(StrEnum):
    """Outcome of one fetch: values read, proof of absence, or anything else."""

    OK = "ok"
    ABSENT = "absent"
    UNKNOWN = "unknown"


class EventKind(StrEnum):
    """Stable event names (DESIGN.md); used in subscriptions, payloads and catalogs."""

    NEW_POST = "new_post"
    POST_EDITED = "post_edited"
    POST_DELETED = "post_deleted"
    FOLLOWERS_UP = "followers_up"
    FOLLOWERS_DOWN = "followers_down"
    FOLLOWERS_MILESTONE = "followers_milestone"
    WENT_SILENT = "went_silent"
    BACK_FROM_SILENCE = "back_from_silence"
    PROFILE_CHANGED = "profile_changed"
    ACCOUNT_MISSING = "account_missing"
    ACCOUNT_RESTORED = "account_restored"
    SOURCE_DEGRADED = "source_degraded"
    SOURCE_RECOVERED = "source_recovered"
    VISIBILITY_CHANGED = "visibility_changed"
    #: Several officials published near-identical text within a window (bot.store.sameness).
    COORDINATED_POSTS = "coordinated_posts"


#: Events meant for operators rather than journalists; not sent to "all" subscribers by default.
OPERATOR_EVENTS = frozenset({EventKind.SOURCE_DEGRADED, EventKind.SOURCE_RECOVERED})


class Visibility(StrEnum):
    """Who may see an account's posts, as its platform says (``Observation.visibility``).

    ``preview_off`` (a Telegram channel without its t.me/s web preview) and ``private``
    (protected, private or closed) hide the posts from govwatch; ``locked`` (Mastodon:
    followers are approved) and ``logged_in_only`` (Bluesky's ``!no-unauthenticated``)
    still let the public API read them.
    """

    PUBLIC = "public"
    PREVIEW_OFF = "preview_off"
    PRIVATE = "private"
    LOCKED = "locked"
    LOGGED_IN_ONLY = "logged_in_only"

    @property
    def hides_posts(self) -> bool:
        """True when govwatch cannot read the posts while the account is like this."""
        return self in (Visibility.PREVIEW_OFF, Visibility.PRIVATE)


@dataclass(frozen=True, slots=True)
class PostSeen:
    """One post as a source saw it. ``id`` is the platform's own post id.

    ``raw`` is the post's fragment exactly as served (the HTML of a Telegram message
    block, the JSON text of an API object, the XML of a feed entry): the evidence kept
    with each version. A repost or boost (``is_repost``) is dated by when it was reposted.
    """

    id: str
    url: str | None
    published_at: datetime | None
    text: str
    views: int | None = None
    edited: bool = False
    forwarded_from: str | None = None
    is_reply: bool = False
    is_repost: bool = False
    pinned: bool = False
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class Count:
    """A parsed number and how precise it is: ``margin`` is the maximum rounding error."""

    value: int
    exact: bool
    margin: int = 0


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What a source needs to fetch one account (a read-only view of the store row)."""

    platform: Platform
    handle: str
    id: int | None = None
    url: str | None = None
    platform_id: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    validators: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Observation:
    """The result of one fetch of one account.

    ``followers`` is ``None`` whenever the platform did not give it: never 0 for "unknown".
    ``not_modified`` is true when a conditional GET answered 304: nothing changed since the
    last ``ok`` observation, and detection keeps the previous values. ``detail`` says the
    cause of an ``unknown`` in words ("could not resolve host t.me"), when one is known.
    """

    platform: Platform
    handle: str
    status: Status
    fetched_at: datetime
    reason: str | None = None
    display_name: str | None = None
    description: str | None = None
    avatar_url: str | None = None
    followers: int | None = None
    followers_exact: bool | None = None
    followers_margin: int = 0
    posts_count: int | None = None
    posts: tuple[PostSeen, ...] = ()
    no_posts: bool = False
    not_modified: bool = False
    platform_id: str | None = None
    retry_after: float | None = None
    validators: Mapping[str, str] = field(default_factory=dict)
    detail: str | None = None
    #: What the platform says about who may see the account; None when it says nothing.
    visibility: Visibility | None = None

    @property
    def posts_hidden(self) -> bool:
        """True when the account hides its posts: their absence proves nothing."""
        return self.visibility is not None and self.visibility.hides_posts

    @property
    def ok(self) -> bool:
        """True when values were read."""
        return self.status is Status.OK


@dataclass(frozen=True, slots=True)
class Event:
    """A detected change. ``dedup_key`` makes storing the same event twice impossible."""

    kind: EventKind
    account_id: int
    occurred_at: datetime
    dedup_key: str
    payload: Mapping[str, Any] = field(default_factory=dict)
