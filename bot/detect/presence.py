"""Accounts that disappear or come back, and sources that stop answering."""

from __future__ import annotations

from bot.detect.events import make_event
from bot.detect.state import AccountInfo, Detection, Rules, State, iso
from bot.domain import EventKind, Observation, Status


def detect_presence(
    prev: State | None, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    """Track ``absent`` streaks: missing after ``confirm_polls``, restored on ``ok``."""
    new = out.state
    if obs.status is Status.ABSENT:
        new.absent_streak = (prev.absent_streak if prev else 0) + 1
        if new.missing or new.absent_streak < rules.confirm_polls:
            return
        new.missing = True
        if new.last_ok_at is None:
            return  # never seen: a roster mistake rather than news
        out.events.append(
            make_event(
                info,
                EventKind.ACCOUNT_MISSING,
                occurred_at=obs.fetched_at,
                key=str(iso(new.last_ok_at)),
                reason=obs.reason,
                last_ok_at=iso(new.last_ok_at),
                absent_polls=new.absent_streak,
            )
        )
    elif obs.status is Status.OK:
        new.absent_streak = 0
        if not new.missing:
            return
        new.missing = False
        if prev is None or prev.last_ok_at is None:
            return
        out.events.append(
            make_event(
                info,
                EventKind.ACCOUNT_RESTORED,
                occurred_at=obs.fetched_at,
                key=str(iso(prev.observed_at)),
                missing_since=iso(prev.last_ok_at),
            )
        )


def detect_source(
    prev: State | None, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    """Operator events: degraded after N ``unknown`` in a row, recovered on any answer."""
    new = out.state
    if obs.status is Status.UNKNOWN:
        new.unknown_streak = (prev.unknown_streak if prev else 0) + 1
        if new.degraded or new.unknown_streak < rules.degraded_after:
            return
        new.degraded = True
        new.extra["degraded_since"] = iso(obs.fetched_at)
        out.events.append(
            make_event(
                info,
                EventKind.SOURCE_DEGRADED,
                occurred_at=obs.fetched_at,
                key=str(iso(prev.observed_at) if prev else ""),
                reason=obs.reason,
                failures=new.unknown_streak,
                last_ok_at=iso(new.last_ok_at),
            )
        )
        return
    new.unknown_streak = 0
    if not new.degraded:
        return
    new.degraded = False
    since = new.extra.pop("degraded_since", None)
    out.events.append(
        make_event(
            info,
            EventKind.SOURCE_RECOVERED,
            occurred_at=obs.fetched_at,
            key=str(since),
            degraded_since=since,
            status=obs.status.value,
        )
    )
