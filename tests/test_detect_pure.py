"""Detection never changes its input: ``State.copy`` shares the values inside ``extra``.

Every detector replaces an entry of ``extra`` and never edits one in place; these
scenarios touch every entry detection writes (window, missing posts, reposts, follower
alerts, growth baseline, visibility, degradation) and check each previous state, deep,
after the next observation was judged against it.
"""

from __future__ import annotations

import copy
import hashlib
import random
import sys
from dataclasses import replace

from bot.detect import State, detect
from bot.detect.state import text_hash
from bot.domain import Observation, Visibility
from tests.test_detect_rules import INFO, RULES, absent, ok, post, unknown


def _steps() -> list[Observation]:
    a, b, c = post("1", -30), post("2", -20), post("3", -10)
    repost = replace(post("r", -5), is_repost=True)
    return [
        ok(0, followers=1000, posts=(a, b, c, repost), visibility=Visibility.PUBLIC),
        ok(1, followers=1000, posts=(a, replace(b, text="edited"), c)),  # an edit
        ok(2, followers=1300, posts=(a, c, post("4", 1.5))),  # new post, 2 missing
        ok(3, followers=1300, posts=(a, c, post("4", 1.5)), not_modified=True),
        ok(30, followers=1500, posts=(a, c), visibility=Visibility.PRIVATE),  # a day later
        ok(31, followers=1500, posts=(a, c), visibility=Visibility.PRIVATE),
        unknown(32),
        unknown(33),
        unknown(34),
        absent(35),
        ok(36, followers=2000, posts=(a, c, post("5", 35.5))),
    ]


def test_detection_leaves_every_previous_state_as_it_was() -> None:
    state: State | None = None
    kinds: list[str] = []
    for obs in _steps():
        before = copy.deepcopy(state)
        out = detect(state, obs, info=INFO, rules=RULES)
        assert state == before, f"detecting {obs.fetched_at} changed its input"
        kinds += [e.kind.value for e in out.events]
        state = out.state
    # the scenarios really reach the detectors that write extra
    for kind in ("post_edited", "new_post", "post_deleted", "followers_up", "source_degraded"):
        assert kind in kinds, kinds


def test_copy_is_independent_at_the_top_of_extra() -> None:
    first = detect(None, _steps()[0], info=INFO, rules=RULES).state
    second = first.copy()
    second.extra["window"] = {}
    second.extra["new"] = 1
    assert first.extra["window"]
    assert "new" not in first.extra


def test_posts_seen_again_keep_their_window_hash() -> None:
    steps = _steps()
    first = detect(None, steps[0], info=INFO, rules=RULES).state
    same_page = replace(steps[0], fetched_at=steps[1].fetched_at)
    again = detect(first, same_page, info=INFO, rules=RULES)
    assert again.events == []
    assert again.posts == []
    assert again.state.extra["window"] == first.extra["window"]
    assert len(first.extra["window"]["1"][1]) == 16


def test_text_hash_drops_every_kind_of_whitespace_as_split_does() -> None:
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    rng = random.Random(18)
    letters = [*"abcЖжқ.,", *spaces]
    for _ in range(3000):
        text = "".join(rng.choice(letters) for _ in range(rng.randrange(40)))
        normal = "".join(text.split()).encode()
        assert text_hash(text) == hashlib.sha1(normal, usedforsecurity=False).hexdigest()[:16]
