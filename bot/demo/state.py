"""The demo world's state: accounts, posts and the routes every platform is served under."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.demo.script import AccountPlan
from bot.domain import Platform

#: The placeholder host of rss URLs in the demo roster.
PLACEHOLDER = "https://demo.invalid"
#: The token the Graph-like API accepts.
DEMO_TOKEN = "demo-token"  # noqa: S105 - a public placeholder, not a secret
#: Prefix of every platform's routes; base URLs are ``<world>/<prefix>``.
PREFIX = {
    # t.me paths at the root: the Telegram source recognises /s/ pages by their path.
    Platform.TELEGRAM: "",
    Platform.BLUESKY: "/bsky",
    Platform.FACEBOOK: "/graph/v21.0",
    Platform.RSS: "/rss",
}


@dataclass(slots=True)
class WorldPost:
    """One post in the world (ids increase with time)."""

    id: int
    text: str
    published_at: datetime
    views: int
    edited: bool = False
    deleted: bool = False


@dataclass(slots=True)
class WorldAccount:
    """One account in the world and its mutable state."""

    platform: Platform
    handle: str
    plan: AccountPlan
    number: int
    followers: float
    post_every: float | None
    next_post_in: float
    posts: list[WorldPost] = field(default_factory=list)
    failing: bool = False
    text_index: int = 0

    @property
    def visible(self) -> list[WorldPost]:
        """Posts not deleted, oldest first."""
        return [p for p in self.posts if not p.deleted]

    @property
    def slug(self) -> str:
        """The handle's last path segment (used for rss URLs)."""
        return self.handle.rstrip("/").rsplit("/", 1)[-1]
