"""What one observation's write holds, and the rows it becomes (pure, no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from bot.detect.state import Detection, State, text_hash
from bot.domain import Observation, PostSeen, Status
from bot.store.fanout import Fanout

STATE_COLUMNS = tuple(f.name for f in fields(State))
ERROR_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """What the scheduler decided for the account row alongside the observation."""

    account_id: int
    official_id: int
    owner: str
    polled_at: datetime
    next_poll_at: datetime
    consecutive_failures: int
    validators: dict[str, Any]
    platform_id: str | None = None


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """One observation ready to store: its bookkeeping, detection and subscribers."""

    book: Bookkeeping
    obs: Observation
    detection: Detection
    fanout: Fanout


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one observation's writes stored."""

    events: int
    deliveries: int
    posts: int


def fit(value: str | None, limit: int | None = None) -> str | None:
    """Text a column accepts: no NUL (PostgreSQL refuses it) and within the column's size."""
    if value is None:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:limit] if limit else value


def account_params(book: Bookkeeping, obs: Observation) -> dict[str, Any]:
    """The parameters of the account row's update (lease released, next poll set)."""
    unknown = obs.status is Status.UNKNOWN
    return {
        "b_id": book.account_id,
        "b_next": book.next_poll_at,
        "b_polled": book.polled_at,
        "b_success": None if unknown else book.polled_at,
        "b_status": obs.status.value,
        "b_failures": book.consecutive_failures,
        "b_error": fit(obs.reason, ERROR_LIMIT) if unknown else None,
        "b_validators": book.validators,
        "b_platform_id": book.platform_id,
    }


def state_row(item: PendingWrite) -> dict[str, Any]:
    """The ``account_state`` row of the observation's new state."""
    state = item.detection.state
    row = {name: getattr(state, name) for name in STATE_COLUMNS}
    row["reason"] = fit(row["reason"], 100)
    row["display_name"] = fit(row["display_name"], 500)
    row["description"] = fit(row["description"])
    row["avatar_url"] = fit(row["avatar_url"], 2000)
    row["account_id"] = item.book.account_id
    return row


def snapshot_row(item: PendingWrite) -> dict[str, Any]:
    """The ``snapshots`` row of the observation's figures."""
    state = item.detection.state
    return {
        "account_id": item.book.account_id,
        "observed_at": item.obs.fetched_at,
        "followers": state.followers,
        "followers_exact": state.followers_exact,
        "posts_count": state.posts_count,
        "display_name": fit(state.display_name, 500),
        "description": fit(state.description),
        "avatar_url": fit(state.avatar_url, 2000),
    }


def post_row(
    account_id: int, post: PostSeen, edited: bool, seen_at: datetime, known: Detection
) -> dict[str, Any]:
    """The ``posts`` row of a post seen (inserted, or refreshed by the upsert)."""
    text = fit(post.text) or ""
    text_seen, hashed = known.hashes.get(post.id, ("", ""))
    return {
        "account_id": account_id,
        "platform_post_id": fit(post.id, 200),
        "url": fit(post.url, 2000),
        "published_at": post.published_at,
        "text": text,
        "views": post.views,
        "edited": post.edited or edited,
        "deleted": False,
        "forwarded_from": fit(post.forwarded_from, 500),
        "is_reply": post.is_reply,
        "is_repost": post.is_repost,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "deleted_at": None,
        # detection hashed this text already (not when fit removed a NUL, or a repost)
        "text_hash": hashed if hashed and text == text_seen else text_hash(text),
        "versions": 1,
    }


def version_row(post_id: int, version: int, post: PostSeen, seen_at: datetime) -> dict[str, Any]:
    """The ``post_versions`` row of a post's text: the evidence."""
    raw = fit(post.raw)
    return {
        "post_id": post_id,
        "version": version,
        "text": fit(post.text) or "",
        "raw": raw,
        # The hash of the fragment as stored, so an evidence file can be checked against it.
        "raw_sha256": None if raw is None else hashlib.sha256(raw.encode()).hexdigest(),
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "views": post.views,
    }
