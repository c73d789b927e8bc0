"""What a search is narrowed to, and what it returns per matching version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows a search besides its words (all optional)."""

    since: datetime | None = None
    until: datetime | None = None
    official_ids: tuple[int, ...] | None = None
    watchlist_id: int | None = None
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One matching version: enough to order, count and page the answer."""

    version_id: int
    post_id: int
    official_id: int
    at: datetime
