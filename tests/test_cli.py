"""The govwatch command: --config anywhere, one-line errors, every subcommand present."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import HANDLERS, build_parser, main

DESIGN_COMMANDS = ["run", "demo", "db", "import", "export", "probe", "poll-once", "ask", "config"]


def test_every_design_subcommand_exists() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(DESIGN_COMMANDS) <= set(sub.choices)  # type: ignore[arg-type]


def test_every_subcommand_but_config_has_a_handler() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(HANDLERS) == set(sub.choices) - {"config"}  # type: ignore[arg-type]
    assert all(callable(handler) for handler in HANDLERS.values())


def test_config_before_or_after_subcommand(tmp_path: Path, cli_db: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[i18n]\ndefault_locale = "en"\n')
    parser = build_parser()
    assert parser.parse_args(["--config", str(cfg), "import", "r.toml"]).config == str(cfg)
    assert parser.parse_args(["import", "r.toml", "--config", str(cfg)]).config == str(cfg)
    assert parser.parse_args(["db", "upgrade", "--config", str(cfg)]).config == str(cfg)
    assert main(["db", "upgrade", "--config", str(cfg)]) == 0
    assert main(["--config", str(cfg), "db", "upgrade"]) == 0


def test_bad_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[scheduler]\npoll_interval = "often"\n')
    assert main(["--config", str(cfg), "db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "scheduler.poll_interval" in err


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GOVWATCH_DATABASE__URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("govwatch: error:")


def test_python_dash_m_bot_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    assert "poll-once" in result.stdout
