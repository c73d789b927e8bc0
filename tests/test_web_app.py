"""`govwatch run` serves the public site when ``[web] enabled``; a worker never does;
docker-compose's ``web`` service serves it from the bot's database."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.app import App
from bot.chat.console import ConsoleBackend
from bot.config import Settings, load_settings
from bot.store.engine import Database
from bot.web.server import WebServer

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_run_serves_the_site_when_enabled(database: Database) -> None:
    port = _port()
    settings = load_settings(None, web={"enabled": True, "port": port})
    app = App(settings, db=database, sources={}, backends={"console": ConsoleBackend(stream=None)})
    assert isinstance(app.web, WebServer)
    await app.start()
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as r:
            status, csp = r.status, r.headers["Content-Security-Policy"]
    finally:
        await app.stop()
    assert status == 200
    assert "default-src 'none'" in csp


async def test_off_by_default_and_never_in_a_worker(database: Database) -> None:
    assert App(load_settings(None), db=database, sources={}, chat=False).web is None
    on = load_settings(None, web={"enabled": True, "port": _port()})
    assert App(on, db=database, sources={}, chat=False, serve_ops=False).web is None


async def test_an_unreachable_database_is_a_503_with_the_same_headers(
    unavailable_database: Database,
) -> None:
    settings = load_settings(None, web={"port": _port()})
    server = WebServer(settings, db=unavailable_database)
    await server.start()
    try:
        base = f"http://127.0.0.1:{settings.web.port}"
        async with aiohttp.ClientSession() as http, http.get(base + "/w/x") as r:
            status, headers, body = r.status, r.headers, await r.text()
    finally:
        await server.stop()
    assert status == 503
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Traceback" not in body


def _compose_web() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return dict(compose["services"]["web"])


def test_compose_serves_the_site_from_the_bots_database() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web, bot = compose["services"]["web"], compose["services"]["bot"]
    assert web["command"] == ["web"]
    env = web["environment"]
    assert env["GOVWATCH_DATABASE__URL"] == bot["environment"]["GOVWATCH_DATABASE__URL"]
    settings = Settings.model_validate(
        {"database": {"url": env["GOVWATCH_DATABASE__URL"]},
         "web": {"listen": env["GOVWATCH_WEB__LISTEN"], "port": env["GOVWATCH_WEB__PORT"]}}
    )  # fmt: skip
    assert (settings.web.listen, settings.web.port) == ("0.0.0.0", 8080)  # in the container
    # published on the host's loopback only: a proxy in front serves the public
    assert web["ports"] == ["127.0.0.1:8080:8080"]


async def _health(port: int) -> int:
    command = _compose_web()["healthcheck"]["test"]
    assert command[:2] == ["CMD", "python"]
    env = {**os.environ, "GOVWATCH_WEB__PORT": str(port)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *command[2:], env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(proc.wait(), 60)


async def test_compose_health_check_asks_the_front_page(database: Database) -> None:
    settings = load_settings(None, web={"port": _port()})
    server = WebServer(settings, db=database)
    await server.start()
    try:
        assert await _health(settings.web.port) == 0
    finally:
        await server.stop()
    assert await _health(settings.web.port) == 1  # nothing listens: unhealthy
