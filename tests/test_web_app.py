"""`govwatch run` serves the public site when ``[web] enabled``; a worker never does."""

from __future__ import annotations

import socket

import aiohttp

from bot.app import App
from bot.chat.console import ConsoleBackend
from bot.config import load_settings
from bot.store.engine import Database
from bot.web.server import WebServer


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
