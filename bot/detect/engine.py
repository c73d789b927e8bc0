"""``detect``: one observation plus the previous state gives the new state and events."""

from __future__ import annotations

from collections.abc import Callable

from bot.detect.followers import detect_followers
from bot.detect.posts import detect_posts
from bot.detect.presence import detect_presence, detect_source
from bot.detect.profile import detect_profile
from bot.detect.silence import detect_silence
from bot.detect.state import AccountInfo, Detection, Rules, State
from bot.detect.visibility import detect_visibility
from bot.domain import Observation, Status

Detector = Callable[[State | None, Observation, Detection, AccountInfo, Rules], None]

#: Run in this order on ``ok`` observations; silence reads the posts' result.
OK_DETECTORS: tuple[Detector, ...] = (
    detect_presence,
    detect_visibility,
    detect_profile,
    detect_followers,
    detect_posts,
    detect_silence,
)
SNAPSHOT_FIELDS = ("followers", "posts_count", "display_name", "description", "avatar_url")


def _start(prev: State | None, obs: Observation) -> State:
    if prev is None:
        return State(
            status=obs.status.value, first_seen_at=obs.fetched_at, observed_at=obs.fetched_at
        )
    state = prev.copy()
    state.observed_at = obs.fetched_at
    state.status = obs.status.value
    return state


def detect(prev: State | None, obs: Observation, *, info: AccountInfo, rules: Rules) -> Detection:
    """The new state, events and post writes that ``obs`` implies (pure, no I/O).

    ``prev`` is None at the first sight of the account: then every value becomes the
    baseline and no journalist-facing event is produced. An ``unknown`` observation only
    advances the failure streak; followers, posts and silence are left alone.
    """
    out = Detection(state=_start(prev, obs))
    out.state.reason = obs.reason
    detect_source(prev, obs, out, info, rules)
    if obs.status is Status.ABSENT:
        detect_presence(prev, obs, out, info, rules)
    elif obs.status is Status.OK:
        out.state.last_ok_at = obs.fetched_at
        if obs.posts_count is not None and not obs.not_modified:
            out.state.posts_count = obs.posts_count
        for detector in OK_DETECTORS:
            detector(prev, obs, out, info, rules)
        out.snapshot = _wants_snapshot(prev, out.state, obs, rules)
        if out.snapshot:
            out.state.last_snapshot_at = obs.fetched_at
    return out


def _wants_snapshot(prev: State | None, new: State, obs: Observation, rules: Rules) -> bool:
    if prev is None or prev.last_snapshot_at is None:
        return True
    if any(getattr(prev, name) != getattr(new, name) for name in SNAPSHOT_FIELDS):
        return True
    return obs.fetched_at - prev.last_snapshot_at >= rules.snapshot_every
