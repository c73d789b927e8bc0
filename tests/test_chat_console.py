"""`govwatch ask` and the console backend, against a real database."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.actions import command_action, mute_action
from bot.chat.attachments import save_attachment
from bot.chat.console import ConsoleBackend
from bot.cli import main
from bot.commands.local import console_caller
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.reply import Attachment, Button, ChatAddress, Paragraph, Reply, Span, render_plain
from bot.store.engine import Database
from tests.test_reports_world import build_world, cabinet


def _config(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "govwatch.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[i18n]\ndefault_locale = "en"\n', encoding="utf-8"
    )
    return str(path)


def test_ask_prints_the_reply(
    tmp_path: Path, db_url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db_url)
    assert main(["ask", "/start", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "Hello!" in out
    assert "/subscribe" in out
    assert main(["--config", config, "ask", "/help", "--lang", "kk"]) == 0
    assert "Мен не істей аламын" in capsys.readouterr().out


def test_ask_as_editor(
    tmp_path: Path, db_url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db_url)
    assert main(["ask", "/watchlist create kz-gov", "--config", config]) == 0
    assert "only editors" in capsys.readouterr().out
    assert main(["ask", "/watchlist create kz-gov", "--as-editor", "--config", config]) == 0
    assert "Created watchlist kz-gov" in capsys.readouterr().out
    assert main(["ask", "/watchlist list", "--config", config, "--chat", "other"]) == 0
    assert "kz-gov" in capsys.readouterr().out


async def test_console_backend_prints_alerts() -> None:
    out = io.StringIO()
    backend = ConsoleBackend(stream=out)
    await backend.start()
    result = await backend.send(ChatAddress("console", "demo"), Reply.text('<b>&</b><a href="x">'))
    await backend.stop()
    assert result.message_id == "1"
    assert "[demo]" in out.getvalue()
    assert '<b>&</b><a href="x">' in out.getvalue()


@pytest.mark.parametrize(
    ("span", "shown"),
    [
        (Span("old", strike=True), "was [-old-] now"),
        (Span("old words ", strike=True), "was [-old words-]  now"),
        (Span(" ", strike=True), "was   now"),
        (Span("<b>&", strike=True), "was [-<b>&-] now"),
        (Span("new", bold=True), "was new now"),  # bold alone is emphasis, not a diff
        (Span("new", bold=True, inserted=True), "was {+new+} now"),
        (Span(" new words ", bold=True, inserted=True), "was  {+new words+}  now"),
        (Span("gone", strike=True, link="https://t.me/x/1"), "was [-gone-] (https://t.me/x/1) now"),
    ],
)
def test_plain_text_shows_a_diff_as_wdiff_does(span: Span, shown: str) -> None:
    reply = Reply(blocks=(Paragraph(((Span("was "), span, Span(" now")),)),))
    assert render_plain(reply) == shown


async def test_console_prints_an_edit_with_its_removed_words() -> None:
    out = io.StringIO()
    diff = (Span("Budget: "), Span("5 billion", strike=True), Span(" "), Span("{+7 billion+}"))
    await ConsoleBackend(stream=out).send(
        ChatAddress("console", "demo"), Reply(blocks=(Paragraph((diff,)),))
    )
    assert "Budget: [-5 billion-] {+7 billion+}" in out.getvalue()


# --- pictures outside chat apps, buttons and the prompt (issue 15) ---------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _picture(name: str = "chart-7.png", caption: str | None = "Followers") -> Reply:
    return Reply(
        blocks=Reply.text("A chart").blocks,
        attachment=Attachment(PNG, name, "image/png", caption),
    )


async def test_console_saves_a_chart_and_prints_its_path(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleBackend(stream=out, output=tmp_path)
    await console.send(ChatAddress("console", "demo"), _picture())
    await console.send(ChatAddress("console", "demo"), _picture())
    text = out.getvalue()
    assert "bytes]" not in text  # was "[chart-7.png, 36903 bytes]", with nothing written
    first, second = tmp_path / "chart-7.png", tmp_path / "chart-7-1.png"
    assert f"📎 Followers: {first}" in text
    assert f"📎 Followers: {second}" in text  # never overwritten silently
    assert first.read_bytes() == PNG
    assert second.read_bytes() == PNG


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("../../escape.png", "escape.png"),
        ("/etc/passwd", "passwd.bin"),
        ("..\\..\\win.png", "win.png"),
        ("..", "attachment.png"),
        (".hidden.png", "hidden.png"),
        ("", "attachment.png"),
        ("отчёт kz:gov?.csv", "отчёт_kz_gov_.csv"),
    ],
)
def test_attachment_names_never_leave_the_folder(tmp_path: Path, name: str, saved: str) -> None:
    mime = "application/octet-stream" if name == "/etc/passwd" else "image/png"
    if name.endswith(".csv"):
        mime = "text/csv"
    folder = tmp_path / "out"
    path = save_attachment(Attachment(b"x", name, mime), folder)
    assert path == folder / saved
    assert path.read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [saved]


async def test_a_file_that_cannot_be_written_is_said(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = io.StringIO()
    console = ConsoleBackend(stream=out, output=blocker)
    await console.send(ChatAddress("console", "demo"), _picture(caption=None))
    assert "📎 chart-7.png not saved (" in out.getvalue()


def _alert(official_id: int = 12) -> Reply:
    return Reply(
        blocks=Reply.text("📝 Bagdat Musin").blocks,
        buttons=((Button("🔕 Mute", mute_action(official_id)), Button("📊 Chart", "chart:12")),),
    )


async def test_ask_shows_the_command_behind_each_button() -> None:
    out = io.StringIO()
    await ConsoleBackend(stream=out).send(ChatAddress("console", "c"), _alert())
    # nothing could press a button after `govwatch ask` returns: show what it runs
    assert "[🔕 Mute → /mute #12]  [📊 Chart → /chart #12]" in out.getvalue()


async def test_interactive_buttons_are_numbered_and_typing_the_number_presses(
    database: Database,
) -> None:
    out = io.StringIO()
    commands = CommandService(db=database, settings=load_settings(None))
    caller = console_caller("desk", lang="en")
    console = ConsoleBackend(stream=out, commands=commands, caller=caller, interactive=True)
    help_button = Reply(
        blocks=Reply.text("Need help?").blocks,
        buttons=((Button("Help", command_action("/help")), Button("Start", "cmd:/start")),),
    )
    await console.send(ChatAddress("console", "desk"), _alert())
    await console.send(ChatAddress("console", "desk"), help_button)
    text = out.getvalue()
    assert "[1] 🔕 Mute  [2] 📊 Chart" in text
    assert "[3] Help  [4] Start" in text
    pressed = await console.handle_line(caller, "3")
    assert "/subscribe" in render_plain(pressed)
    assert render_plain(pressed) in out.getvalue()
    # a number no button carries is an ordinary line for the command service
    other = await console.handle_line(caller, "99")
    assert render_plain(other) != render_plain(pressed)
    assert await console.press(99) is None


async def test_the_prompt_comes_back_after_every_alert() -> None:
    out = io.StringIO()
    console = ConsoleBackend(stream=out, interactive=True)
    console.show_prompt()
    await console.send(ChatAddress("console", "demo"), Reply.text("first alert"))
    await console.send(ChatAddress("console", "demo"), Reply.text("second alert"))
    assert out.getvalue() == (
        "> \n--- [demo] ---\nfirst alert\n> \n--- [demo] ---\nsecond alert\n> "
    )
    console.input_ended()
    await console.send(ChatAddress("console", "demo"), Reply.text("while busy"))
    # the user is typing a command (Enter was pressed): no extra prompt until it is answered
    assert out.getvalue().endswith("second alert\n> --- [demo] ---\nwhile busy\n")


async def _seed(db_url: str) -> None:
    # Its own engine: a sync test runs this in a loop of its own.
    db = Database(db_url)
    try:
        await build_world(db, cabinet())
    finally:
        await db.close()


def test_ask_saves_a_report_file_in_output(
    tmp_path: Path, db_url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(db_url))
    config = _config(tmp_path, db_url)
    folder = tmp_path / "files"
    args = ["ask", "/report gov 3650 csv", "--config", config, "--output", str(folder)]
    assert main(args) == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    first = folder / "report-gov-all-10y.csv"
    second = folder / "report-gov-all-10y-1.csv"
    assert f": {first}" in out
    assert f": {second}" in out
    assert "bytes]" not in out
    assert first.read_bytes() == second.read_bytes()
    assert b"Aigerim Bekova" in first.read_bytes()


def test_ask_saves_in_the_current_folder_by_default(
    tmp_path: Path,
    db_url: str,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asyncio.run(_seed(db_url))
    config = _config(tmp_path, db_url)
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["ask", "/report gov 3650 csv", "--config", config]) == 0
    saved = [p.name for p in here.iterdir()]
    assert saved == ["report-gov-all-10y.csv"]
    assert str(here / saved[0]) in capsys.readouterr().out
