"""Follower moves against the last alerted value, and milestones, judged honestly.

A rounded count (``1.2K``) carries a margin; a move counts only by what it certainly is:
``|after - before| - margin(after) - margin(before)``. That proven move must reach both
the absolute and the percent threshold, so small accounts need ``change_min`` followers
and big ones ``change_percent`` percent. Slow drift adds up because the comparison is
always with the value of the last alert (or the first sight).
"""

from __future__ import annotations

from bot.detect.events import make_event
from bot.detect.state import AccountInfo, Detection, Rules, State, iso
from bot.detect.unusual import judge, payload_of, update_baseline
from bot.domain import EventKind, Observation


def _proven_move(before: int, before_margin: int, after: int, after_margin: int) -> int:
    return max(0, abs(after - before) - before_margin - after_margin)


def _set_alerted(state: State, obs: Observation, value: int, margin: int) -> None:
    state.followers_alerted = value
    state.extra["alerted_margin"] = margin
    state.extra["alerted_exact"] = bool(obs.followers_exact)
    state.extra["alerted_at"] = iso(obs.fetched_at)


def detect_followers(
    prev: State | None, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    """Add follower events for an ``ok`` observation that carries a follower count."""
    if obs.followers is None or obs.not_modified:
        return
    new = out.state
    value, margin = obs.followers, max(0, obs.followers_margin)
    new.followers, new.followers_exact, new.followers_margin = value, obs.followers_exact, margin
    if prev is None or prev.followers_alerted is None:
        _set_alerted(new, obs, value, margin)
        new.milestone_reached = max((m for m in rules.milestones if m <= value - margin), default=0)
    else:
        _move(prev, obs, out, info, rules)
        _milestone(obs, out, info, rules)
    # After the move is judged: the judgement compares with the baseline as it was.
    update_baseline(new, obs.fetched_at, value, rules)


def _move(prev: State, obs: Observation, out: Detection, info: AccountInfo, rules: Rules) -> None:
    assert obs.followers is not None
    assert prev.followers_alerted is not None
    before, after = prev.followers_alerted, obs.followers
    before_margin = int(prev.extra.get("alerted_margin", 0))
    margin = max(0, obs.followers_margin)
    proven = _proven_move(before, before_margin, after, margin)
    percent = proven * 100.0 / before if before > 0 else float("inf")
    if proven == 0 or proven < rules.change_min or percent < rules.change_percent:
        return
    kind = EventKind.FOLLOWERS_UP if after > before else EventKind.FOLLOWERS_DOWN
    since = prev.extra.get("alerted_at")
    judgement = judge(prev.extra.get("growth"), obs.fetched_at, after, after > before, rules)
    out.events.append(
        make_event(
            info,
            kind,
            occurred_at=obs.fetched_at,
            key=f"{since}:{before}->{after}",
            before=before,
            after=after,
            delta=after - before,
            percent=round((after - before) * 100.0 / before, 2) if before > 0 else None,
            exact=bool(obs.followers_exact) and bool(prev.extra.get("alerted_exact", True)),
            margin=margin + before_margin,
            since=since,
            **payload_of(judgement),
        )
    )
    _set_alerted(out.state, obs, after, margin)


def _milestone(obs: Observation, out: Detection, info: AccountInfo, rules: Rules) -> None:
    assert obs.followers is not None
    lower = obs.followers - max(0, obs.followers_margin)
    reached = out.state.milestone_reached or 0
    crossed = [m for m in rules.milestones if reached < m <= lower]
    if not crossed:
        return
    top = max(crossed)
    out.state.milestone_reached = top
    out.events.append(
        make_event(
            info,
            EventKind.FOLLOWERS_MILESTONE,
            occurred_at=obs.fetched_at,
            key=str(top),
            milestone=top,
            followers=obs.followers,
            exact=bool(obs.followers_exact),
        )
    )
