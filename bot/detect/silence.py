"""Going silent and coming back, measured from successful fetches only."""

from __future__ import annotations

from datetime import datetime

from bot.detect.events import make_event
from bot.detect.state import AccountInfo, Detection, Rules, State, iso
from bot.domain import EventKind, Observation

DAY_S = 86400.0


def _reference(state: State) -> datetime | None:
    if state.last_post_at is not None:
        return state.last_post_at
    # An account that shows posts but has never posted is silent since we first saw it.
    return state.first_seen_at if state.extra.get("posts_visible") else None


def detect_silence(
    prev: State | None, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    """Add silence events for an ``ok`` observation (posts already applied to the state)."""
    new = out.state
    if obs.posts_hidden:
        return  # hidden posts say nothing about silence: neither silent nor back
    before = _reference(prev) if prev is not None else None
    if (
        prev is not None
        and prev.silent
        and new.last_post_at is not None
        and (before is None or new.last_post_at > before)
    ):
        new.silent = False
        out.events.append(
            make_event(
                info,
                EventKind.BACK_FROM_SILENCE,
                occurred_at=new.last_post_at,
                key=str(iso(before)),
                silent_since=iso(before),
                silent_days=_days(before, new.last_post_at),
                returned_at=iso(new.last_post_at),
            )
        )
        return
    ref = _reference(new)
    if new.silent or ref is None or obs.fetched_at - ref < rules.silent_after:
        return
    new.silent = True
    if prev is None or prev.last_ok_at is None:
        return  # already silent at first sight: shown by /silent, never announced
    out.events.append(
        make_event(
            info,
            EventKind.WENT_SILENT,
            occurred_at=ref + rules.silent_after,
            key=str(iso(ref)),
            last_post_at=iso(new.last_post_at),
            silent_days=_days(ref, obs.fetched_at),
            silent_after_days=rules.silent_after.total_seconds() / DAY_S,
        )
    )


def _days(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else round((end - start).total_seconds() / DAY_S, 1)
