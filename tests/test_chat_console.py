"""`govwatch ask` and the console backend, against a real database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.chat.console import ConsoleBackend
from bot.cli import main
from bot.reply import ChatAddress, Reply
from bot.store.engine import Database


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
