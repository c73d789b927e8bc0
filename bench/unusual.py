"""What the unusual-change baseline costs a poll: ``detect()`` with and without it.

``python -m bench.unusual`` runs the pure detector on the same follower reads twice in
one process: once on states carrying a full 60-day baseline (``extra["growth"]``) and
once with that key dropped before every call (what detection cost before it existed,
but for the update itself), and prints µs per observation, the ratio and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime, timedelta

from bot.detect import AccountInfo, Rules, State, detect
from bot.domain import Observation, Platform, Status

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INFO = AccountInfo(id=1, official_id=1, platform=Platform.BLUESKY, handle="a", url="https://x")
RULES = Rules()


def _obs(minutes: int, followers: int) -> Observation:
    return Observation(
        platform=Platform.BLUESKY,
        handle="a",
        status=Status.OK,
        fetched_at=T0 + timedelta(minutes=minutes),
        followers=followers,
        followers_exact=True,
    )


def _warm_state() -> State:
    state: State | None = None
    for day in range(70):
        state = detect(state, _obs(day * 1440, 10_000 + day * 50), info=INFO, rules=RULES).state
    assert state is not None
    return state


def measure(n: int, *, baseline: bool) -> float:
    """µs per ``detect()`` of a 15-minute poll, ``n`` times."""
    state = _warm_state()
    start = 70 * 1440
    began = time.perf_counter()
    for i in range(n):
        if not baseline:
            state.extra.pop("growth", None)
        state = detect(state, _obs(start + 15 * i, 13_500 + i // 20), info=INFO, rules=RULES).state
    return (time.perf_counter() - began) * 1e6 / n


def main(argv: list[str] | None = None) -> None:
    """Print the timings as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.unusual")
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args(argv)
    without = measure(args.n, baseline=False)
    with_ = measure(args.n, baseline=True)
    print(json.dumps({
        "detect_us_without_baseline": round(without, 2),
        "detect_us_with_60_day_baseline": round(with_, 2),
        "ratio": round(with_ / without, 2),
        "loadavg": [round(v, 2) for v in os.getloadavg()],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
