"""Table tests of the unusual-follower-change rules: the baseline, the judgement, the mark."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.detect import AccountInfo, Rules, State, detect
from bot.detect.state import iso
from bot.detect.unusual import judge, update_baseline, usual_daily
from bot.domain import Observation, Platform, Status
from bot.notify.unusual import ratio_text, unusual_line

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
INFO = AccountInfo(
    id=7, official_id=3, platform=Platform.BLUESKY, handle="a", url="https://bsky.app/a"
)
RULES = Rules(change_percent=5.0, change_min=100, unusual_min_days=7, unusual_window_days=30)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def ok(days: float, followers: int) -> Observation:
    return Observation(
        platform=Platform.BLUESKY,
        handle="a",
        status=Status.OK,
        fetched_at=at(days),
        followers=followers,
        followers_exact=True,
    )


USUAL_CASES: dict[str, tuple[list[float], int, float | None]] = {
    # rates, followers, the usual daily change (None: too young to judge)
    "steady growth: the median": ([50.0] * 10, 10_000, 50.0),
    "noisy growth: the spread wins": ([0.0, 100.0] * 5, 10_000, 74.13),
    "flat account: the floor in followers": ([0.0] * 10, 1_000, 10.0),
    "flat big account: the floor in percent": ([0.0] * 10, 1_000_000, 500.0),
    "a losing account: the size of the median": ([-40.0] * 8, 10_000, 40.0),
    "one outlier does not move it": ([50.0] * 9 + [5_000.0], 10_000, 50.0),
    "young account: not judged": ([50.0] * 6, 10_000, None),
    "no history": ([], 10_000, None),
}


@pytest.mark.parametrize(("rates", "followers", "expected"), USUAL_CASES.values(), ids=USUAL_CASES)
def test_usual_daily(rates: list[float], followers: int, expected: float | None) -> None:
    usual = usual_daily(rates, followers, RULES)
    if expected is None:
        assert usual is None
    else:
        assert usual is not None
        assert usual.daily == pytest.approx(expected, abs=0.01)
        assert usual.days == len(rates)


def baseline(rates: Sequence[float], *, anchor_days: float = 0, anchor: int = 10_000) -> Any:
    return {"at": iso(at(anchor_days)), "f": anchor, "d": list(rates)}


JUDGE_CASES: dict[str, tuple[Any, float, int, bool, float | None, bool]] = {
    # baseline, days, followers now, up?, ratio, unusual
    "ten times the usual in a day": (baseline([50.0] * 10), 0.5, 10_500, True, 10.0, True),
    "ordinary day": (baseline([50.0] * 10), 0.9, 10_060, True, 1.2, False),
    "just under the mark": (baseline([50.0] * 10), 0.5, 10_240, True, 4.8, False),
    "at the mark": (baseline([50.0] * 10), 0.5, 10_250, True, 5.0, True),
    "a fall judged by its size": (baseline([50.0] * 10), 0.5, 9_000, False, 20.0, True),
    "a gain alert after a day of losses": (baseline([50.0] * 10), 0.5, 9_900, True, 0.0, False),
    "three days since the anchor": (baseline([50.0] * 10), 3, 10_600, True, 4.0, False),
    "young account: no ratio": (baseline([50.0] * 3), 0.5, 15_000, True, None, False),
    "no baseline at all": (None, 0.5, 15_000, True, None, False),
    "a baseline of the wrong shape": ({"at": "x"}, 0.5, 15_000, True, None, False),
}


@pytest.mark.parametrize(
    ("base", "days", "followers", "up", "ratio", "unusual"), JUDGE_CASES.values(), ids=JUDGE_CASES
)
def test_judge(
    base: Any, days: float, followers: int, up: bool, ratio: float | None, unusual: bool
) -> None:
    judgement = judge(base, at(days), followers, up, RULES)
    assert judgement.ratio == ratio
    assert judgement.unusual is unusual


def state() -> State:
    return State(status="ok", first_seen_at=T0, observed_at=T0)


BASELINE_CASES: dict[str, tuple[list[tuple[float, int]], list[float], float]] = {
    # reads (days, followers), the daily rates kept, the anchor's day
    "first read anchors": ([(0, 1000)], [], 0),
    "reads within a day keep the anchor": ([(0, 1000), (0.5, 1030), (0.99, 1040)], [], 0),
    "a day closes with its rate": ([(0, 1000), (0.5, 1030), (1.0, 1050)], [50.0], 1.0),
    "a three-day gap is one average figure": ([(0, 1000), (3, 1300)], [100.0], 3.0),
    "a loss is a negative rate": ([(0, 1000), (1, 900)], [-100.0], 1.0),
}


@pytest.mark.parametrize(("reads", "rates", "anchor"), BASELINE_CASES.values(), ids=BASELINE_CASES)
def test_update_baseline(reads: list[tuple[float, int]], rates: list[float], anchor: float) -> None:
    s = state()
    for days, followers in reads:
        update_baseline(s, at(days), followers, RULES)
    assert s.extra["growth"]["d"] == rates
    assert s.extra["growth"]["at"] == iso(at(anchor))


def test_baseline_is_bounded() -> None:
    s = state()
    for day in range(100):
        update_baseline(s, at(day), 1000 + day * 10, RULES)
    assert len(s.extra["growth"]["d"]) == RULES.unusual_window_days


def run(reads: Sequence[tuple[float, int]]) -> list[dict[str, Any]]:
    """Feed follower reads through ``detect``; the payloads of follower alerts."""
    prev: State | None = None
    payloads = []
    for days, followers in reads:
        out = detect(prev, ok(days, followers), info=INFO, rules=RULES)
        payloads += [e.payload for e in out.events if e.kind.value.startswith("followers_")]
        prev = out.state
    return payloads


def test_ordinary_alert_is_not_marked_and_a_jump_is() -> None:
    # 50 a day for 12 days: the 5% threshold (500) is crossed on day 10 by ordinary growth.
    reads = [(float(d), 10_000 + 50 * d) for d in range(13)]
    ordinary = run(reads)
    assert len(ordinary) == 1
    assert ordinary[0]["unusual"] is False
    assert ordinary[0]["ratio"] == pytest.approx(1.0, abs=0.05)
    # Then 10x the usual daily growth within half a day.
    jump = run([*reads, (12.5, 10_600 + 500)])
    assert len(jump) == 2
    marked = jump[1]
    assert marked["unusual"] is True
    assert marked["ratio"] == 10.0
    assert marked["usual_daily"] == 50.0
    assert marked["baseline_days"] == 12
    assert marked["recent_delta"] == 500


def test_young_account_jump_is_not_judged() -> None:
    payloads = run([(0, 10_000), (1, 10_050), (1.5, 12_000)])
    assert payloads[-1]["unusual"] is False
    assert payloads[-1]["ratio"] is None
    assert payloads[-1]["usual_daily"] is None


LINE_CASES: dict[str, tuple[str, dict[str, Any], str, str | None]] = {
    "en up": (
        "followers_up",
        {"unusual": True, "ratio": 12.3, "usual_daily": 50.0, "baseline_days": 30},
        "en",
        "⚡ Unusual: about 12× its usual daily growth (usually 50 a day, from 30 days)",
    ),
    "ru up": (
        "followers_up",
        {"unusual": True, "ratio": 12.3, "usual_daily": 50.0, "baseline_days": 30},
        "ru",
        "⚡ Необычно: примерно 12× обычного дневного прироста (обычно 50 в день, по 30 дням)",
    ),
    "kk down with a decimal": (
        "followers_down",
        {"unusual": True, "ratio": 6.5, "usual_daily": 50.0, "baseline_days": 30},
        "kk",
        "⚡ Әдеттен тыс: азаю әдеттегі күндік өзгерістен шамамен 6,5 есе көп"
        " (әдетте күніне 50, 30 күн бойынша)",
    ),
    "not marked: no line": (
        "followers_up",
        {"unusual": False, "ratio": 1.0, "usual_daily": 50.0, "baseline_days": 30},
        "en",
        None,
    ),
    "an old payload without the keys: no line": ("followers_up", {"delta": 500}, "en", None),
}


@pytest.mark.parametrize(("kind", "payload", "locale", "text"), LINE_CASES.values(), ids=LINE_CASES)
def test_unusual_line(kind: str, payload: dict[str, Any], locale: str, text: str | None) -> None:
    line = unusual_line(kind, payload, T0, locale)
    assert (None if line is None else "".join(s.text for s in line)) == text


def test_ratio_text() -> None:
    assert [ratio_text(v, "ru") for v in (5.0, 9.94, 12.4, 1234.0)] == [
        "5",
        "9,9",
        "12",
        "1\u00a0234",
    ]
