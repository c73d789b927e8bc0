"""docker-compose.yml and the Dockerfile: one process consumes chat updates, workers only
poll (issue 15); every container serves /metrics and /healthz, and its health check asks
/healthz (issue 18).

The services' flat ``environment`` maps are read line by line and go through the real
settings loader; the health checks are read with PyYAML (a dev dependency) and run, as
Docker would run them, against a live ops server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from bot import metrics
from bot.config import Settings, load_settings
from bot.ops.server import OpsServer
from bot.store.engine import Database
from tests.test_ops import free_port, ops_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
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


def _dockerfile_healthcheck() -> list[str]:
    text = DOCKERFILE.read_text()
    instruction = text.split("\nHEALTHCHECK ", 1)[1].replace("\\\n", "").split("\n", 1)[0]
    return list(json.loads(instruction.split(" CMD ", 1)[1]))


def test_every_container_serves_ops_inside_the_compose_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "GOVWATCH_OPS__ENABLED=true" in DOCKERFILE.read_text()
    for service in ("bot", "worker"):
        ops = _settings(monkeypatch, _service_env(service)).ops
        assert (ops.enabled, ops.listen, ops.port) == (True, "0.0.0.0", 9108)
    compose = yaml.safe_load(COMPOSE.read_text())
    for service in ("bot", "worker"):
        check = compose["services"][service]["healthcheck"]
        assert check["test"] == ["CMD", *_dockerfile_healthcheck()]
        assert "ports" not in compose["services"][service]  # the network stays private


async def _docker_runs(command: list[str], port: int) -> tuple[int, str]:
    """Run a HEALTHCHECK ``CMD`` as Docker would, with the image's environment."""
    assert command[0] == "python"
    env = {**os.environ, "GOVWATCH_OPS__PORT": str(port)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_the_image_health_check_asks_healthz(
    database: Database, unavailable_database: Database
) -> None:
    command = _dockerfile_healthcheck()
    metrics.ticked()
    healthy = ops_settings(database.url, free_port(), ops={"max_tick_age": "1m"})
    broken = ops_settings(database.url, free_port(), ops={"max_tick_age": "1m"})
    servers = [
        OpsServer(healthy, db=database, platforms=[], backends=[], multiprocess_dir=None),
        OpsServer(broken, db=unavailable_database, platforms=[], backends=[],
                  multiprocess_dir=None),
    ]  # fmt: skip
    for server in servers:
        await server.start()
    try:
        code, out = await _docker_runs(command, healthy.ops.port)
        assert (code, json.loads(out)["ok"]) == (0, True)
        code, out = await _docker_runs(command, broken.ops.port)
        assert code == 1
        assert json.loads(out)["checks"]["database"].startswith("unavailable")
    finally:
        for server in servers:
            await server.stop()
    code, out = await _docker_runs(command, free_port())  # nothing listens: unhealthy
    assert code == 1
