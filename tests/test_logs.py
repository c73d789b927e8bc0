"""``[logging] json = true``: one JSON object per line, redacted like the text format."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.logs import MASK, setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, json_format: bool
) -> io.StringIO:
    # Inside the test: pytest's own capture replaces sys.stderr between setup and call.
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    cfg = tmp_path / "govwatch.toml"
    cfg.write_text(f'[logging]\nlevel = "INFO"\njson = {str(json_format).lower()}\n')
    settings = load_settings(cfg)
    assert settings.logging.json_format is json_format
    setup_logging(
        settings.logging.level,
        secrets=settings.secrets(),
        json_format=settings.logging.json_format,
    )
    return stream


def test_json_lines_with_exception_and_redaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = _configure(tmp_path, monkeypatch, json_format=True)
    log = logging.getLogger("govwatch.test")
    log.info("sending to https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.debug("below the level: not written")
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        log.exception("delivery to chat %d failed", 42)
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"timestamp", "level", "logger", "message"}
    assert datetime.fromisoformat(first["timestamp"]).tzinfo is not None
    assert (first["level"], first["logger"]) == ("INFO", "govwatch.test")
    assert first["message"] == f"sending to https://api.telegram.org/bot{MASK}/sendMessage"
    assert (second["level"], second["message"]) == ("ERROR", "delivery to chat 42 failed")
    assert second["exception"].startswith("Traceback")
    assert f"RuntimeError: bad token {MASK}" in second["exception"]
    assert TOKEN not in stderr.getvalue()


def test_text_format_stays_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = _configure(tmp_path, monkeypatch, json_format=False)
    logging.getLogger("govwatch.test").warning("token %s", TOKEN)
    line = stderr.getvalue().strip()
    assert line.endswith(f"WARNING govwatch.test: token {MASK}")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
