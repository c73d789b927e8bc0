"""docker-compose.yml: one process consumes chat updates, workers only poll (issue 15).

PyYAML is not a project dependency, so the services' flat ``environment`` maps are read
line by line; the values then go through the real settings loader.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
_ENV_LINE = re.compile(r'^\s+(GOVWATCH_[A-Z0-9_]+):\s*"?([^"\s]*)"?\s*$')


def _service_env(service: str) -> dict[str, str]:
    lines = COMPOSE.read_text().splitlines()
    start = lines.index(f"  {service}:") + 1
    env: dict[str, str] = {}
    for line in lines[start:]:
        if re.match(r"^ {0,2}\S", line):
            break  # the next service or top-level key
        match = _ENV_LINE.match(line)
        if match:
            env[match.group(1)] = match.group(2)
    return env


def _settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name in [n for n in os.environ if n.upper().startswith("GOVWATCH_")]:
        monkeypatch.delenv(name)
    # What a newsroom's .env holds: every token, for every service.
    dotenv = {"GOVWATCH_TELEGRAM__TOKEN": "123:abc", "GOVWATCH_SLACK__BOT_TOKEN": "xoxb-1",
              "GOVWATCH_SLACK__APP_TOKEN": "xapp-1"}  # fmt: skip
    for name, value in (dotenv | env).items():  # compose: `environment` overrides .env
        monkeypatch.setenv(name, value)
    return load_settings(None)


def test_workers_run_no_chat_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _service_env("worker")
    assert env["GOVWATCH_DATABASE__URL"].startswith("postgresql+asyncpg://")
    settings = _settings(monkeypatch, env)
    assert not settings.telegram.active
    assert not settings.slack.active


def test_the_bot_runs_the_backends_on_the_same_database(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _service_env("bot")
    assert env["GOVWATCH_DATABASE__URL"] == _service_env("worker")["GOVWATCH_DATABASE__URL"]
    settings = _settings(monkeypatch, env)
    assert settings.telegram.active
    assert settings.slack.active
    text = COMPOSE.read_text()
    assert "--scale worker=" in text
    assert "--scale govwatch" not in text
    assert "replicas: 1" in text.split("\n  bot:", 1)[1].split("\n  worker:", 1)[0]
