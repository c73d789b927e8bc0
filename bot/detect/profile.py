"""Changes of the name, description and avatar an account shows."""

from __future__ import annotations

from typing import Any

from bot.detect.events import make_event
from bot.detect.state import AccountInfo, Detection, Rules, State, iso, text_hash, trim
from bot.domain import EventKind, Observation

FIELDS = ("display_name", "description", "avatar_url")


def detect_profile(
    prev: State | None, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    """Add a ``profile_changed`` event when a shown profile field changed."""
    if obs.not_modified:
        return
    new = out.state
    changes: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(obs, name)
        if value is None:
            continue  # not shown this time: keep what we had
        old = getattr(prev, name) if prev is not None else None
        setattr(new, name, value)
        if old is not None and old != value:
            changes[name] = {"before": trim(old), "after": trim(value)}
    if not changes:
        return
    digest = text_hash(repr(sorted((k, v["after"]) for k, v in changes.items())))
    out.events.append(
        make_event(
            info,
            EventKind.PROFILE_CHANGED,
            occurred_at=obs.fetched_at,
            key=f"{iso(prev.observed_at) if prev else ''}:{digest}",
            changes=changes,
            fields=sorted(changes),
        )
    )
