"""The plain data detection works on: the account, its previous state, the rules."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.domain import Event, Platform, PostSeen

#: Post texts in payloads are trimmed to about this many characters.
TEXT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """Who is being observed: enough to build event payloads without queries."""

    id: int
    official_id: int
    platform: Platform
    handle: str
    url: str


@dataclass(frozen=True, slots=True)
class Rules:
    """Thresholds for one account (config defaults, narrowed by its watchlists)."""

    silent_after: timedelta = timedelta(days=7)
    change_percent: float = 5.0
    change_min: int = 100
    milestones: tuple[int, ...] = ()
    confirm_polls: int = 2
    degraded_after: int = 5
    snapshot_every: timedelta = timedelta(hours=6)
    #: Unusual follower changes (``bot.detect.unusual``): daily figures kept, fewest to
    #: judge, the marking ratio, and the floor of the usual daily change.
    unusual_window_days: int = 60
    unusual_min_days: int = 14
    unusual_ratio: float = 5.0
    unusual_floor: int = 10
    unusual_floor_percent: float = 0.05

    def narrowed(
        self,
        *,
        silent_after_s: int | None = None,
        change_percent: float | None = None,
        change_min: int | None = None,
    ) -> Rules:
        """These rules with a watchlist's overrides applied where they are more sensitive."""
        silent = self.silent_after
        if silent_after_s is not None:
            silent = min(silent, timedelta(seconds=silent_after_s))
        return replace(
            self,
            silent_after=silent,
            change_percent=self.change_percent
            if change_percent is None
            else min(self.change_percent, change_percent),
            change_min=self.change_min if change_min is None else min(self.change_min, change_min),
        )


@dataclass(slots=True)
class State:
    """The latest state of one account (mirrors the ``account_state`` table).

    ``extra`` is detector scratch space: ``window`` (own posts of the last page seen, id ->
    [published ISO or None, text hash, pinned, views]), ``window_at`` (ISO time that page
    was last seen), ``missing_posts`` (id -> [published ISO, text hash, pinned, misses,
    last seen ISO, first missed ISO, views]), ``reposts`` (ids of the reposts on the
    page), ``alerted_at``/``alerted_margin`` (the last follower alert), ``posts_visible``
    (the source shows posts at all), ``growth`` (the daily-growth baseline of
    ``bot.detect.unusual``: anchor ``at``/``f`` and daily rates ``d``). Entries written
    before a field existed are shorter.
    """

    status: str
    first_seen_at: datetime
    observed_at: datetime
    reason: str | None = None
    last_ok_at: datetime | None = None
    followers: int | None = None
    followers_exact: bool | None = None
    followers_margin: int = 0
    followers_alerted: int | None = None
    milestone_reached: int | None = None
    posts_count: int | None = None
    display_name: str | None = None
    description: str | None = None
    avatar_url: str | None = None
    last_post_at: datetime | None = None
    silent: bool = False
    missing: bool = False
    degraded: bool = False
    absent_streak: int = 0
    unknown_streak: int = 0
    last_snapshot_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The announced ``bot.domain.Visibility`` value (None until a source has said one).
    visibility: str | None = None

    def copy(self) -> State:
        """A copy whose ``extra`` can be changed without changing this state's.

        The values inside ``extra`` are shared: detectors replace an entry of ``extra``
        (``extra["window"] = {...}``), never change one in place, so detection leaves its
        input as it was without copying every window entry of every poll
        (tests/test_detect_pure.py holds them to that).
        """
        return replace(self, extra=dict(self.extra))


@dataclass(slots=True)
class Detection:
    """What one observation changes: the new state, events and post rows to write."""

    state: State
    events: list[Event] = field(default_factory=list)
    #: Posts to insert or refresh (new, first seen, edited or seen again after a deletion).
    posts: list[PostSeen] = field(default_factory=list)
    #: Ids of posts whose text changed.
    edited: set[str] = field(default_factory=set)
    #: Ids of posts confirmed deleted.
    deleted: list[str] = field(default_factory=list)
    #: Last sighting (time, views) of the stored version of edited and deleted posts.
    sightings: dict[str, tuple[datetime | None, int | None]] = field(default_factory=dict)
    snapshot: bool = False
    #: Post id -> (text, ``text_hash(text)``) of the own posts judged, so the store need
    #: not hash a text again (it checks that the text it stores is the same).
    hashes: dict[str, tuple[str, str]] = field(default_factory=dict)


def text_hash(text: str) -> str:
    """A short fingerprint of a post text that ignores all whitespace."""
    # Whitespace is left out entirely, not just collapsed: a parser that learns to end a
    # line at a list item ("a</li><li>b" read as "ab", later "a\nb") changes no text.
    # Spaces and newlines dropped first: splitting the text then has few words to make
    # (this runs on every post of every poll); the split drops the rarer whitespace, so
    # the result is exactly "".join(text.split()).
    normal = "".join(text.replace(" ", "").replace("\n", "").split())
    return hashlib.sha1(normal.encode(), usedforsecurity=False).hexdigest()[:16]


def _spaced_hash(text: str) -> str:
    # How windows stored before December 2026 hashed texts: runs of whitespace kept as one.
    normal = " ".join(text.split())
    return hashlib.sha1(normal.encode(), usedforsecurity=False).hexdigest()[:16]


def same_text(stored_hash: str, text: str) -> bool:
    """True when ``stored_hash`` (of either hashing) fingerprints ``text``."""
    return stored_hash in (text_hash(text), _spaced_hash(text))


def same_words(before: str, after: str) -> bool:
    """True when two texts differ at most in whitespace."""
    return "".join(before.split()) == "".join(after.split())


def trim(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` without NUL characters, cut to ``limit`` characters with an ellipsis."""
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def iso(value: datetime | None) -> str | None:
    """ISO-8601 text of an aware datetime, or None."""
    return None if value is None else value.isoformat()


def parse_iso(value: str | None) -> datetime | None:
    """The datetime written by ``iso``."""
    return None if value is None else datetime.fromisoformat(value)
