"""Accounts that hide from readers or show themselves again: ``visibility_changed``.

A source says what it can (``Observation.visibility``): a Telegram channel's web preview
turned off, a protected, private or closed account, a locked Mastodon account, a
Bluesky account hidden from logged-out readers. A new value is announced once it has
been seen ``confirm_polls`` times in a row (one odd answer is not news), and again when
it changes back. The first value ever seen is a baseline, never an event. While the posts
are hidden, post and silence detection judge nothing (``bot.detect.posts``, ``silence``).

State: ``State.visibility`` (the announced value, a column: reports read it),
``extra["visibility_since"]`` (ISO time it was announced or first seen) and
``extra["visibility_pending"]`` ([value, polls] of a change not confirmed yet).
"""

from __future__ import annotations

from bot.detect.events import make_event
from bot.detect.state import AccountInfo, Detection, Rules, State, iso
from bot.domain import EventKind, Observation, Visibility


def detect_visibility(
    prev: State | None, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    """Add a ``visibility_changed`` event when a confirmed visibility differs from the last."""
    if obs.visibility is None or obs.not_modified:
        return  # the source said nothing this time: keep what we knew
    new, extra = out.state, out.state.extra
    now = obs.visibility.value
    known = prev.visibility if prev is not None else None
    if prev is None or known is None:
        new.visibility = now
        extra["visibility_since"] = iso(obs.fetched_at)
        extra.pop("visibility_pending", None)
        return
    if now == known:
        extra.pop("visibility_pending", None)
        return
    pending = prev.extra.get("visibility_pending")
    polls = pending[1] + 1 if isinstance(pending, list) and pending[:1] == [now] else 1
    if polls < rules.confirm_polls:
        extra["visibility_pending"] = [now, polls]
        return
    extra.pop("visibility_pending", None)
    since = prev.extra.get("visibility_since")
    new.visibility = now
    extra["visibility_since"] = iso(obs.fetched_at)
    out.events.append(
        make_event(
            info,
            EventKind.VISIBILITY_CHANGED,
            occurred_at=obs.fetched_at,
            key=f"{known}:{now}:{since}",
            before=known,
            after=now,
            posts_hidden=Visibility(now).hides_posts,
            before_since=since,
            polls=polls,
        )
    )
