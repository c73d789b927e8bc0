"""Table-driven tests of ``visibility_changed``: confirmed changes, one event each way, and
hidden posts that are never deleted, new or silent."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.detect import State, detect
from bot.domain import Observation, PostSeen, Visibility
from tests.test_detect_rules import INFO, RULES, ok, post

PUB, OFF, PRIV = Visibility.PUBLIC, Visibility.PREVIEW_OFF, Visibility.PRIVATE
LOCK, AUTH = Visibility.LOCKED, Visibility.LOGGED_IN_ONLY
PAGE = (post("3", -1), post("2", -2), post("1", -3))


def seen(
    hours: float, visibility: Visibility | None, posts: Sequence[PostSeen] = PAGE
) -> Observation:
    """An ok answer; a hidden account's answer has no posts (the parsers give none)."""
    hidden = visibility is not None and visibility.hides_posts
    return ok(hours, visibility=visibility, posts=() if hidden else tuple(posts))


def run(observations: Sequence[Observation]) -> list[list[str]]:
    state: State | None = None
    kinds: list[list[str]] = []
    for obs in observations:
        out = detect(state, obs, info=INFO, rules=RULES)
        kinds.append([e.kind.value for e in out.events])
        state = out.state
    return kinds


V = "visibility_changed"
# (name, observations, events per observation)
CASES: list[tuple[str, list[Observation], list[list[str]]]] = [
    (
        "an empty page of a hidden account proves nothing",
        [
            seen(0, PUB),
            seen(1, PUB, PAGE[1:]),
            *(ok(h, visibility=OFF, no_posts=True) for h in (2, 3, 4)),
        ],
        [[], [], [], [V], []],
    ),
    ("first sight hidden is a baseline", [seen(0, OFF), seen(1, OFF)], [[], []]),
    ("unchanged public", [seen(0, PUB), seen(1, PUB), seen(2, PUB)], [[], [], []]),
    (
        "preview off, confirmed on the second answer, then back on",
        [seen(0, PUB), seen(1, OFF), seen(2, OFF), seen(3, OFF), seen(4, PUB), seen(5, PUB)],
        [[], [], [V], [], [], [V]],
    ),
    (
        "one odd answer is not news",
        [seen(0, PUB), seen(1, OFF), seen(2, PUB), seen(3, PUB)],
        [[], [], [], []],
    ),
    (
        "hidden for a month: never deleted posts, never silent",
        [seen(0, PUB), seen(1, PRIV), seen(2, PRIV), seen(400, PRIV), seen(800, PRIV)],
        [[], [], [V], [], []],
    ),
    (
        "a source that says nothing keeps what was known",
        [seen(0, PUB), seen(1, None), seen(2, None), seen(3, PUB)],
        [[], [], [], []],
    ),
    (
        "locked and logged-in-only still judge posts",
        [
            seen(0, PUB),
            seen(1, LOCK),
            seen(2, LOCK, PAGE[1:]),
            seen(3, LOCK, PAGE[1:]),
            seen(4, AUTH, PAGE[1:]),
            seen(5, AUTH, PAGE[1:]),
        ],
        [[], [], [V], ["post_deleted"], [], [V]],
    ),
    (
        "back visible: posts written meanwhile are new, none are deleted",
        [
            seen(0, PUB),
            seen(1, OFF),
            seen(2, OFF),
            seen(3, PUB, (post("4", 2.5), *PAGE)),
            seen(4, PUB, (post("4", 2.5), *PAGE)),
        ],
        [[], [], [V], ["new_post"], [V]],
    ),
    (
        "hiding mid-deletion: the pending miss is not counted while hidden",
        [seen(0, PUB), seen(1, PUB, PAGE[1:]), seen(2, OFF), seen(3, OFF), seen(4, OFF)],
        [[], [], [], [V], []],
    ),
]


@pytest.mark.parametrize(("name", "observations", "expected"), CASES, ids=[c[0] for c in CASES])
def test_visibility_rules(
    name: str, observations: list[Observation], expected: list[list[str]]
) -> None:
    assert run(observations) == expected


def test_payload_and_keys() -> None:
    state: State | None = None
    events = []
    for obs in (seen(0, PUB), seen(1, OFF), seen(2, OFF), seen(3, PUB), seen(4, PUB)):
        out = detect(state, obs, info=INFO, rules=RULES)
        events += out.events
        state = out.state
    hide, show = events
    assert {k: hide.payload[k] for k in ("before", "after", "posts_hidden", "polls")} == {
        "before": "public",
        "after": "preview_off",
        "posts_hidden": True,
        "polls": 2,
    }
    assert (show.payload["before"], show.payload["after"], show.payload["posts_hidden"]) == (
        "preview_off",
        "public",
        False,
    )
    assert hide.dedup_key != show.dedup_key
    assert hide.dedup_key.startswith("7:visibility_changed:public:preview_off:")
    # Detection is pure: the same answers give the same keys.
    again: State | None = None
    keys = []
    for obs in (seen(0, PUB), seen(1, OFF), seen(2, OFF)):
        out = detect(again, obs, info=INFO, rules=RULES)
        keys += [e.dedup_key for e in out.events]
        again = out.state
    assert keys == [hide.dedup_key]
