"""The failpoint mechanism itself: parsing, counting, SIGKILL, and zero cost when unset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import timeit

import pytest

from bot import failpoints

SCRIPT = """
import sys
from bot.failpoints import failpoint
for i in range(1, 6):
    print(f"before {i}", flush=True)
    failpoint("demo.point")
    print(f"after {i}", flush=True)
failpoint("other.point")
print("done", flush=True)
"""


def _run(spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != failpoints.ENV}
    if spec is not None:
        env[failpoints.ENV] = spec
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", {}),
        ("a.b=kill", {"a.b": 1}),
        ("a.b=kill@3", {"a.b": 3}),
        (" a.b = kill@2 ; c.d=kill ,", {"a.b": 2, "c.d": 1}),
    ],
)
def test_parse(spec: str, expected: dict[str, int]) -> None:
    assert {name: p.at for name, p in failpoints.parse(spec).items()} == expected


@pytest.mark.parametrize("spec", ["a.b", "=kill", "a.b=panic", "a.b=kill@0", "a.b=kill@x"])
def test_parse_refuses_bad_items(spec: str) -> None:
    with pytest.raises(ValueError):
        failpoints.parse(spec)


def test_unset_is_a_no_op() -> None:
    result = _run(None)
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "done"


def test_kill_on_first_hit() -> None:
    result = _run("demo.point=kill")
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.splitlines() == ["before 1"]
    assert "failpoint demo.point fired at hit 1" in result.stderr


def test_kill_on_nth_hit() -> None:
    result = _run("demo.point=kill@3")
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.splitlines()[-1] == "before 3"
    assert "after 2" in result.stdout
    assert "after 3" not in result.stdout


def test_unreached_point_never_fires() -> None:
    result = _run("demo.point=kill@9")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "done"


def test_other_point_fires_independently() -> None:
    result = _run("other.point=kill")
    assert result.returncode == -signal.SIGKILL
    assert "after 5" in result.stdout
    assert "done" not in result.stdout


def test_reload_arms_and_disarms_in_process() -> None:
    try:
        failpoints.reload("x.y=kill@1000")
        assert failpoints.armed() == frozenset({"x.y"})
        failpoints.failpoint("x.y")  # hit 1 of 1000: survives
        failpoints.failpoint("unarmed")
    finally:
        failpoints.reload("")
    assert failpoints.armed() == frozenset()


def test_unset_costs_next_to_nothing() -> None:
    failpoints.reload("")
    per_call = (
        min(
            timeit.repeat(
                lambda: failpoints.failpoint("relay.after_send"), number=100_000, repeat=3
            )
        )
        / 100_000
    )
    assert per_call < 5e-6  # one function call and an empty-dict check (loaded CI too)
