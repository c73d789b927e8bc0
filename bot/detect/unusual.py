"""Unusual follower changes: a jump judged against the account's own daily growth.

The baseline lives in the detection state (``State.extra["growth"]``), so keeping it
costs nothing per poll beyond the update: ``at``/``f`` are the day's anchor (the time
and count of the first read of the current day), ``d`` the account's daily growth rates
(followers per day, newest last), at most ``Rules.unusual_window_days`` of them. Each
read at least a day after the anchor closes that day: its rate (change over the elapsed
time, per day, so a gap of several days gives one average figure) is appended and the
read becomes the new anchor.

A change is judged by what happened since the anchor (less than about a day): its size
divided by the usual daily change times the elapsed days (at least one), where the usual
daily change is the largest of ``|median|``, ``1.4826 × MAD`` (the spread, scaled to a
standard deviation) and the floor (``unusual_floor`` followers, or
``unusual_floor_percent`` of the count, whichever is more). The floor keeps a flat
account (median and MAD both 0) from turning every small gain into "infinitely many
times usual"; an account with fewer than ``unusual_min_days`` daily figures is too young
to judge and gets no ratio at all. A ratio of ``unusual_ratio`` or more marks the alert
unusual. Nothing here says why: the ratio is a measure, never a cause.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.detect.state import Rules, State, iso, parse_iso

DAY = timedelta(days=1)
#: Scales a median absolute deviation to a standard deviation (normal data).
MAD_SCALE = 1.4826


@dataclass(frozen=True, slots=True)
class Usual:
    """An account's usual daily change, as the baseline tells it."""

    daily: float
    days: int
    median: float
    mad: float


@dataclass(frozen=True, slots=True)
class Judgement:
    """How a recent change compares with the usual daily change."""

    ratio: float | None
    unusual: bool
    usual: Usual | None
    recent_delta: int
    recent_since: datetime | None


def usual_daily(rates: Sequence[float], followers: int, rules: Rules) -> Usual | None:
    """The usual daily change of ``rates`` (None while fewer than ``unusual_min_days``)."""
    if len(rates) < max(1, rules.unusual_min_days):
        return None
    median = statistics.median(rates)
    mad = statistics.median(abs(r - median) for r in rates)
    floor = max(float(rules.unusual_floor), abs(followers) * rules.unusual_floor_percent / 100.0)
    return Usual(max(abs(median), MAD_SCALE * mad, floor), len(rates), median, mad)


def judge(baseline: object, now: datetime, followers: int, up: bool, rules: Rules) -> Judgement:
    """Compare the change since the baseline's anchor with the usual daily change."""
    anchor = _anchor(baseline)
    if anchor is None or not isinstance(baseline, dict):
        return Judgement(None, False, None, 0, None)
    anchor_at, anchor_f = anchor
    recent = followers - anchor_f
    usual = usual_daily(_rates(baseline), followers, rules)
    if usual is None:
        return Judgement(None, False, None, recent, anchor_at)
    days = max(1.0, (now - anchor_at) / DAY)
    # Only a change in the alert's own direction counts: a gain alert after a day of losses
    # is no jump.
    moved = recent if up else -recent
    ratio = max(0.0, moved) / (usual.daily * days)
    return Judgement(round(ratio, 1), ratio >= rules.unusual_ratio, usual, recent, anchor_at)


def update_baseline(state: State, now: datetime, followers: int, rules: Rules) -> None:
    """Advance ``state.extra["growth"]`` with a read of ``followers`` at ``now``."""
    baseline = state.extra.get("growth")
    anchor = _anchor(baseline)
    if anchor is None or not isinstance(baseline, dict):
        state.extra["growth"] = {"at": iso(now), "f": followers, "d": []}
        return
    anchor_at, anchor_f = anchor
    elapsed = now - anchor_at
    if elapsed < DAY:
        return
    rate = (followers - anchor_f) / (elapsed / DAY)
    rates = [*_rates(baseline), round(rate, 2)]
    keep = max(1, rules.unusual_window_days)
    state.extra["growth"] = {"at": iso(now), "f": followers, "d": rates[-keep:]}


def _anchor(baseline: object) -> tuple[datetime, int] | None:
    # Scratch space written by older or other code must never stop detection.
    if not isinstance(baseline, dict):
        return None
    at, followers = baseline.get("at"), baseline.get("f")
    if not isinstance(at, str) or not isinstance(followers, int) or isinstance(followers, bool):
        return None
    try:
        moment = parse_iso(at)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment, followers


def _rates(baseline: dict[str, Any]) -> list[float]:
    values = baseline.get("d")
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def payload_of(judgement: Judgement) -> dict[str, Any]:
    """The event payload keys of a judgement (documented in ``bot.detect``)."""
    usual = judgement.usual
    return {
        "unusual": judgement.unusual,
        "ratio": judgement.ratio,
        "usual_daily": None if usual is None else round(usual.daily, 2),
        "baseline_days": 0 if usual is None else usual.days,
        "recent_delta": judgement.recent_delta,
        "recent_since": iso(judgement.recent_since),
    }
