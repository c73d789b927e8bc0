"""`govwatch demo` end to end: the real app against the world, in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.demo.cli import DemoOptions
from bot.errors import UserInputError

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _demo(*args: str, db: str) -> list[str]:
    return [sys.executable, "-m", "bot", "demo", "--lang", "en", "--database", db, *args]


def test_demo_no_input_prints_alerts_and_the_newspaper_table(cli_db: str) -> None:
    done = subprocess.run(
        _demo("--duration", "20", "--no-input", "--speed", "240", db=cli_db),
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "Traceback" not in done.stderr
    feed, _, report = out.partition("> /report kz-government facebook")
    assert report, out[-2000:]
    # alerts streamed before the report: new posts and the scripted turns of the plot
    assert feed.count("--- [demo] ---") >= 5
    for marker in ("New post", "A post was deleted", "Followers: +"):
        assert marker in feed, marker
    assert "7 of the 24 members posted" in report
    assert "(fewer than a third)" in report
    assert "of 24 members" in report
    leaders = [report.index(n) for n in ("Aimagambetov", "Musin", "Sultanov")]
    assert leaders == sorted(leaders)
    # nobody active looks silent, and the failing source raised no follower alert
    assert feed.count("🤐") <= 1
    assert "Aida Balaeva\nFollowers:" not in feed


def test_demo_answers_typed_commands(cli_db: str) -> None:
    proc = subprocess.Popen(
        _demo("--speed", "300", db=cli_db),
        cwd=ROOT, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdin is not None
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or line.startswith("--- [demo]"):
                break  # the first alert: every account has been read at least once
        out, err = proc.communicate("/official Musin\n/top facebook\n/quit\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(lines) + out
    assert proc.returncode == 0, err[-2000:]
    assert "Type commands" in out
    card = out[out.index("Minister of Digital Development") :]
    assert "Telegram: musin_digital" in card
    assert re.search(r"Telegram: musin_digital .*\nFollowers: 2\d,\d{3} ", card)
    top = card[card.index("Askhat Aimagambetov") :]
    assert (
        top.index("Askhat Aimagambetov") < top.index("Bagdat Musin") < top.index("Bakhyt Sultanov")
    )


@pytest.mark.parametrize(("speed", "duration"), [(0.5, None), (20000, None), (60, 0), (60, -3)])
def test_bad_options_are_user_errors(speed: float, duration: float | None) -> None:
    import argparse

    args = argparse.Namespace(
        speed=speed, duration=duration, no_input=True, telegram_token=None, database=None, lang=None
    )
    with pytest.raises(UserInputError):
        DemoOptions.from_args(args)
