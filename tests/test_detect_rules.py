"""Table-driven tests of the pure detection rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.detect import AccountInfo, Rules, State, detect
from bot.domain import EventKind, Observation, Platform, PostSeen, Status

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INFO = AccountInfo(
    id=7, official_id=3, platform=Platform.TELEGRAM, handle="ch", url="https://t.me/ch"
)
RULES = Rules(
    silent_after=timedelta(days=7),
    change_percent=5.0,
    change_min=100,
    milestones=(1000, 5000, 10000),
    confirm_polls=2,
    degraded_after=3,
)


def post(pid: str, hours: float, text: str = "hello", *, pinned: bool = False) -> PostSeen:
    return PostSeen(
        id=pid,
        url=f"https://t.me/ch/{pid}",
        published_at=T0 + timedelta(hours=hours),
        text=text,
        pinned=pinned,
    )


def ok(hours: float, **kw: object) -> Observation:
    return Observation(
        platform=Platform.TELEGRAM,
        handle="ch",
        status=Status.OK,
        fetched_at=T0 + timedelta(hours=hours),
        **kw,  # type: ignore[arg-type]
    )


def unknown(hours: float, reason: str = "http_429") -> Observation:
    return Observation(
        platform=Platform.TELEGRAM,
        handle="ch",
        status=Status.UNKNOWN,
        fetched_at=T0 + timedelta(hours=hours),
        reason=reason,
    )


def absent(hours: float) -> Observation:
    return Observation(
        platform=Platform.TELEGRAM,
        handle="ch",
        status=Status.ABSENT,
        fetched_at=T0 + timedelta(hours=hours),
        reason="not_found",
    )


def run(observations: Sequence[Observation], rules: Rules = RULES) -> list[list[str]]:
    """Feed observations in order; the kinds of events each produced."""
    state: State | None = None
    kinds: list[list[str]] = []
    for obs in observations:
        out = detect(state, obs, info=INFO, rules=rules)
        kinds.append([e.kind.value for e in out.events])
        state = out.state
    return kinds


def flat(kinds: list[list[str]]) -> list[str]:
    return [k for step in kinds for k in step]


P1, P2, P3 = post("1", 1), post("2", 2), post("3", 3)

CASES = {
    "first sight is silent": (
        [ok(10, followers=5000, followers_exact=True, posts=(P3, P2, P1), display_name="A")],
        [[]],
    ),
    "new post": (
        [ok(10, posts=(P2, P1)), ok(11, posts=(P3, P2, P1))],
        [[], ["new_post"]],
    ),
    "same post twice is one event": (
        [ok(10, posts=(P2, P1)), ok(11, posts=(P3, P2, P1)), ok(12, posts=(P3, P2, P1))],
        [[], ["new_post"], []],
    ),
    "edited post": (
        [ok(10, posts=(P2, P1)), ok(11, posts=(post("2", 2, "changed"), P1))],
        [[], ["post_edited"]],
    ),
    "whitespace is not an edit": (
        [ok(10, posts=(P2, P1)), ok(11, posts=(post("2", 2, " hello\n"), P1))],
        [[], []],
    ),
    "deleted after confirm_polls misses": (
        [ok(10, posts=(P3, P2, P1)), ok(11, posts=(P3, P1)), ok(12, posts=(P3, P1))],
        [[], [], ["post_deleted"]],
    ),
    "a post back before confirmation is not deleted": (
        [ok(10, posts=(P3, P2, P1)), ok(11, posts=(P3, P1)), ok(12, posts=(P3, P2, P1))],
        [[], [], []],
    ),
    "scrolled out of the window is not deleted": (
        [
            ok(10, posts=(P2, P1)),
            ok(11, posts=(post("4", 4), P3, P2)),
            ok(12, posts=(post("5", 5), post("4", 4), P3)),
            ok(13, posts=(post("5", 5), post("4", 4), P3)),
        ],
        [[], ["new_post", "new_post"], ["new_post"], []],
    ),
    "an old post seen for the first time is not new": (
        [ok(10, posts=(P3, P2)), ok(11, posts=(P3, P2, P1))],
        [[], []],
    ),
    "unpinned old post is not deleted": (
        [
            ok(10, posts=(post("0", -100, pinned=True), P3, P2)),
            ok(11, posts=(P3, P2)),
            ok(12, posts=(P3, P2)),
        ],
        [[], [], []],
    ),
    "unknown between misses does not reset nor count": (
        [ok(10, posts=(P3, P2, P1)), ok(11, posts=(P3, P1)), unknown(12), ok(13, posts=(P3, P1))],
        [[], [], [], ["post_deleted"]],
    ),
    "not modified confirms a pending miss": (
        [ok(10, posts=(P3, P2, P1)), ok(11, posts=(P3, P1)), ok(12, not_modified=True)],
        [[], [], ["post_deleted"]],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_post_rules(name: str) -> None:
    observations, expected = CASES[name]
    assert run(observations) == expected


def fol(hours: float, value: int, *, margin: int = 0) -> Observation:
    return ok(hours, followers=value, followers_exact=margin == 0, followers_margin=margin)


FOLLOWER_CASES = {
    "small move ignored": ([fol(0, 10_000), fol(1, 10_050)], []),
    "jump up": ([fol(0, 10_000), fol(1, 11_000)], ["followers_up"]),
    "drop": ([fol(0, 10_000), fol(1, 9_000)], ["followers_down"]),
    "slow drift adds up": (
        [fol(0, 10_000), fol(1, 10_200), fol(2, 10_400), fol(3, 10_600)],
        ["followers_up"],
    ),
    "percent threshold on big accounts": ([fol(0, 900_000), fol(1, 900_500)], []),
    "absolute threshold on small accounts": ([fol(0, 200), fol(1, 250)], []),
    "rounded 1.2K to 1.2K is nothing": (
        [fol(0, 1200, margin=50), fol(1, 1200, margin=50)],
        [],
    ),
    "rounded move within margins is nothing": (
        [fol(0, 1200, margin=50), fol(1, 1300, margin=50)],
        [],
    ),
    "milestone crossed once": (
        [fol(0, 4_900), fol(1, 5_050), fol(2, 4_990), fol(3, 5_100)],
        ["followers_milestone"],
    ),
    "milestone and jump": ([fol(0, 4_000), fol(1, 5_100)], ["followers_up", "followers_milestone"]),
    "unknown never changes followers": (
        [fol(0, 10_000), unknown(1), fol(2, 10_000)],
        [],
    ),
}


@pytest.mark.parametrize("name", list(FOLLOWER_CASES))
def test_follower_rules(name: str) -> None:
    observations, expected = FOLLOWER_CASES[name]
    assert flat(run(observations)) == expected


def test_follower_payload_is_against_last_alert() -> None:
    state = None
    events = []
    for obs in [fol(0, 10_000), fol(1, 11_000), fol(2, 12_100)]:
        out = detect(state, obs, info=INFO, rules=RULES)
        events += out.events
        state = out.state
    assert [(e.payload["before"], e.payload["after"], e.payload["delta"]) for e in events] == [
        (10_000, 11_000, 1_000),
        (11_000, 12_100, 1_100),
    ]
    assert events[0].payload["exact"] is True
    assert events[1].payload["percent"] == 10.0
    assert len({e.dedup_key for e in events}) == 2


def test_drift_back_and_forth_keys_differ() -> None:
    state = None
    keys = []
    for obs in [fol(0, 1000), fol(1, 1200), fol(2, 1000), fol(3, 1200)]:
        out = detect(state, obs, info=INFO, rules=RULES)
        keys += [e.dedup_key for e in out.events if e.kind is not EventKind.FOLLOWERS_MILESTONE]
        state = out.state
    assert len(keys) == 3
    assert len(set(keys)) == 3


SILENCE_CASES = {
    "goes silent after silent_after": (
        [
            ok(0, posts=(P1,)),
            ok(24 * 5, posts=(P1,)),
            ok(24 * 8, posts=(P1,)),
            ok(24 * 9, posts=(P1,)),
        ],
        ["went_silent"],
    ),
    "silent at first sight is not announced": (
        [ok(24 * 10, posts=(P1,)), ok(24 * 11, posts=(P1,))],
        [],
    ),
    "comes back": (
        [
            ok(0, posts=(P1,)),
            ok(24 * 8, posts=(P1,)),
            ok(24 * 9, posts=(post("9", 24 * 9 - 1), P1)),
        ],
        ["went_silent", "new_post", "back_from_silence"],
    ),
    "unknown never makes silence": (
        [ok(0, posts=(P1,))] + [unknown(24 * d) for d in range(1, 10)],
        ["source_degraded"],
    ),
    "silent_after override": (
        [ok(0, posts=(P1,)), ok(24 * 3, posts=(P1,))],
        ["went_silent"],
    ),
}


@pytest.mark.parametrize("name", list(SILENCE_CASES))
def test_silence_rules(name: str) -> None:
    observations, expected = SILENCE_CASES[name]
    rules = RULES
    if "override" in name:
        rules = RULES.narrowed(silent_after_s=2 * 86400)
    assert flat(run(observations, rules)) == expected


PRESENCE_CASES = {
    "missing after confirm polls, restored": (
        [ok(0), absent(1), absent(2), absent(3), ok(4)],
        [[], [], ["account_missing"], [], ["account_restored"]],
    ),
    "one absent is not missing": ([ok(0), absent(1), ok(2)], [[], [], []]),
    "never seen and absent is not news": ([absent(0), absent(1), ok(2)], [[], [], []]),
    "degraded once, recovered once": (
        [ok(0)] + [unknown(h) for h in range(1, 11)] + [ok(11)],
        [[], [], [], ["source_degraded"]] + [[]] * 7 + [["source_recovered"]],
    ),
    "short failure streak is nothing": ([ok(0), unknown(1), unknown(2), ok(3)], [[]] * 4),
    "profile change": (
        [ok(0, display_name="A", description="d"), ok(1, display_name="B", description="d")],
        [[], ["profile_changed"]],
    ),
    "profile field not shown is not a change": (
        [ok(0, display_name="A", avatar_url="x"), ok(1, display_name="A")],
        [[], []],
    ),
}


@pytest.mark.parametrize("name", list(PRESENCE_CASES))
def test_presence_rules(name: str) -> None:
    observations, expected = PRESENCE_CASES[name]
    assert run(observations) == expected


def test_same_input_gives_same_keys() -> None:
    first = detect(None, ok(0, posts=(P2, P1), followers=1000), info=INFO, rules=RULES)
    obs = ok(1, posts=(P3, post("2", 2, "new text")), followers=2000, followers_exact=True)
    a = detect(first.state, obs, info=INFO, rules=RULES)
    b = detect(
        first.state,
        replace(obs, fetched_at=obs.fetched_at + timedelta(seconds=3)),
        info=INFO,
        rules=RULES,
    )
    assert [e.dedup_key for e in a.events] == [e.dedup_key for e in b.events]
    assert first.state.extra["window"].keys() == {"1", "2"}  # input state left alone


def test_unknown_keeps_state_values() -> None:
    base = detect(None, ok(0, posts=(P1,), followers=1000), info=INFO, rules=RULES).state
    out = detect(base, unknown(1), info=INFO, rules=RULES)
    assert out.state.followers == 1000
    assert out.state.last_post_at == base.last_post_at
    assert out.state.extra["window"] == base.extra["window"]
    assert not out.snapshot
    assert out.posts == []


def test_snapshot_only_on_change_or_period() -> None:
    s0 = detect(None, ok(0, followers=1000), info=INFO, rules=RULES)
    s1 = detect(s0.state, ok(1, followers=1000), info=INFO, rules=RULES)
    s2 = detect(s1.state, ok(2, followers=1001), info=INFO, rules=RULES)
    s3 = detect(s2.state, ok(9, followers=1001), info=INFO, rules=RULES)
    assert [s.snapshot for s in (s0, s1, s2, s3)] == [True, False, True, True]


def undated(pid: str, text: str = "t") -> PostSeen:
    return PostSeen(id=pid, url=None, published_at=None, text=text)


def test_undated_posts_never_make_silence_but_new_ones_count() -> None:
    kinds = run([ok(0, posts=(undated("1"),)), ok(24 * 10, posts=(undated("1"),))])
    assert flat(kinds) == []
    state = None
    for obs in [ok(0, posts=(P1,)), ok(24 * 3, posts=(P1,)), ok(24 * 4, posts=(undated("2"), P1))]:
        out = detect(state, obs, info=INFO, rules=RULES.narrowed(silent_after_s=86400))
        state = out.state
    assert [e.kind.value for e in out.events] == ["new_post", "back_from_silence"]


def test_future_dated_post_does_not_block_silence() -> None:
    future = post("5", 24 * 100)
    kinds = run([ok(0, posts=(future,)), ok(24 * 8, posts=(future,))])
    assert flat(kinds) == ["went_silent"]


def test_payload_text_is_trimmed_and_clean() -> None:
    long = post("4", 4, "x\x00" * 3000)
    first = detect(None, ok(0, posts=(P1,)), info=INFO, rules=RULES)
    out = detect(first.state, ok(5, posts=(long, P1)), info=INFO, rules=RULES)
    (event,) = out.events
    assert len(event.payload["text"]) <= 1000
    assert "\x00" not in event.payload["text"]
    assert event.payload["url"] == "https://t.me/ch/4"
    assert event.dedup_key == "7:new_post:4"
