"""`govwatch demo` end to end: the real app against the world, in a subprocess."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.demo.cli import DemoOptions, run_demo
from bot.errors import UserInputError
from bot.i18n import t

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


# --- the demo is the real bot (issue 15), driven in-process --------------------------------


class Session:
    """A demo running in this event loop: its screen, and a pipe standing for the keyboard."""

    def __init__(self, options: DemoOptions, settings: Settings | None = None) -> None:
        self.screen = io.StringIO()
        read_end, write_end = os.pipe()
        self.keyboard = os.fdopen(write_end, "w", encoding="utf-8")
        self._typed = os.fdopen(read_end, encoding="utf-8")
        demo = run_demo(settings or Settings(), options, out=self.screen, inp=self._typed)
        self.task: asyncio.Task[int] = asyncio.create_task(demo)

    def type(self, *lines: str) -> None:
        self.keyboard.write("".join(line + "\n" for line in lines))
        self.keyboard.flush()

    async def wait_for(self, pattern: str, *, limit: float = 90.0) -> re.Match[str]:
        """The first match of ``pattern`` on screen, once the demo has printed it."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + limit
        while (found := re.search(pattern, self.screen.getvalue())) is None:
            assert not self.task.done(), self.screen.getvalue()[-3000:]
            assert loop.time() < give_up, f"{pattern!r} never came:\n{self.screen.getvalue()}"
            await asyncio.sleep(0.2)
        return found

    async def finish(self) -> str:
        self.type("/quit")
        self.keyboard.close()
        assert await asyncio.wait_for(self.task, 60) == 0
        return self.screen.getvalue()


def _options(db: str, tmp_path: Path, **extra: Any) -> DemoOptions:
    values: dict[str, Any] = {"speed": 60.0, "database_url": db, "lang": "en", "output": tmp_path}
    values.update(extra)
    return DemoOptions(**values)


def _reply_after(screen: str, start: int) -> str:
    """One reply: from ``start`` to the prompt that follows it (alerts may come between)."""
    ends = [i for i in (screen.find("\n> ", start), screen.find("--- [demo]", start)) if i > 0]
    return screen[start : min(ends, default=len(screen))]


async def test_lang_in_the_demo_sticks_like_in_telegram(cli_db: str, tmp_path: Path) -> None:
    """Was: /lang kk confirmed in Kazakh, then every reply in English again."""
    session = Session(_options(cli_db, tmp_path))
    await session.wait_for(re.escape(t("en", "chat.subscribe.done", target="")[:-2]))
    session.type("/lang kk", "/help", "/digest daily 09:00", "/settings")
    await session.wait_for(re.escape(t("kk", "chat.settings.title")))
    screen = await session.finish()
    after = screen[screen.index(t("kk", "chat.lang.done")) :]
    assert t("kk", "chat.help.title") in after
    assert t("kk", "reports.digest.set_daily", time="09:00", tz="Asia/Almaty") in after
    assert "silent_after = 7\xa0күн" in after  # the threshold the demo detects with
    for english in ("chat.help.title", "chat.settings.title", "chat.settings.global"):
        assert t("en", english) not in after, english
    assert "Digest:" not in after

    # The start-up --lang is only the hint for a new chat: the stored language wins.
    again = Session(_options(cli_db, tmp_path, lang="ru"))
    await again.wait_for(re.escape(t("kk", "chat.subscribe.done", target="")[:-2]))
    again.type("/help")
    await again.wait_for(re.escape(t("kk", "chat.help.title")))
    screen = await again.finish()
    assert t("ru", "chat.help.title") not in screen


async def test_silence_alert_and_silent_agree_and_buttons_press(
    cli_db: str, tmp_path: Path
) -> None:
    """Was: "Has not posted for 3 minutes" for someone /silent never listed; unpressable
    buttons; no prompt while alerts stream; /chart printed "[chart-7.png, 36903 bytes]"."""
    session = Session(_options(cli_db, tmp_path, speed=3600.0))
    banner = await session.wait_for(r"Silence means no post for (7\xa0days), as /silent counts")
    alert = await session.wait_for(
        r"--- \[demo\] ---\n🤐 (.+)\n(Has not posted for .+)\n.*\n.*\n\[(\d+)\] 🔕 Mute  "
        r"\[\d+\] 📊 Chart  \[\d+\] Unsubscribe\n> "
    )
    name, said, mute = alert.group(1), alert.group(2), alert.group(3)
    assert name == "Yerlan Turgumbayev"
    assert said == t("en", "alert.text.went_silent", days=banner.group(1))
    session.type("/silent", "/silent 30", mute, "/chart Musin")
    await session.wait_for(r"📎 .*chart-\d+\.png")
    screen = await session.finish()

    week = _reply_after(screen, screen.index("No posts for 7\xa0days"))
    row = next(line for line in week.splitlines() if line.startswith(name))
    assert re.match(rf"{name}\s+7\xa0days\s", row), row  # the duration the alert gave
    month = _reply_after(screen, screen.index("No posts for 30\xa0days"))
    assert name not in month
    # every silence alert of the session is this minister's: nobody active looks silent
    silences = re.findall(r"🤐 (.+)\n", screen)
    assert silences
    assert set(silences) == {name}
    # typing the button's number pressed it, in this chat
    assert re.search(rf"Muted: .*{name.split()[-1]}", screen), screen[-3000:]
    # the chart is a file, shown by its path
    saved = re.search(r"📎 .*?(/\S+chart-\d+\.png)", screen)
    assert saved is not None
    picture = Path(saved.group(1))
    assert picture.parent == tmp_path
    assert picture.read_bytes().startswith(b"\x89PNG")
    assert "bytes]" not in screen
