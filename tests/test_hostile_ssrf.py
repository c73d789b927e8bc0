"""The SSRF table across the product: every private-address trick is refused, no connection made.

A loopback listener stands where the private address would lead and counts accepted
connections; every form of "127.0.0.1" (decimal, hex, octal, short, IPv6-mapped, NAT64,
6to4, Teredo), cloud metadata, CGNAT, DNS names that resolve (or rebind) to private
addresses and redirects to private addresses or ``file:`` must leave it at zero, through
the real feed source, through ``/watch add`` and through ``govwatch probe --url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy import func, select

from bot import cli
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.domain import AccountRef, Platform, Status
from bot.net import guard
from bot.net.client import HttpClient
from bot.reply import Caller, render_plain
from bot.sources.rss import RssSource
from bot.store.engine import Database
from bot.store.models import Account
from tests.crash_summary import Tally
from tests.fakes.faulty_world import render_rss

FEED = render_rss("trap", [])


class Listener:
    """A loopback HTTP server that answers a valid feed and counts accepted connections."""

    def __init__(self) -> None:
        self.accepts = 0
        self.port = 0
        self._servers: list[asyncio.AbstractServer] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepts += 1
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                f"Content-Length: {len(FEED)}\r\n\r\n"
            )
            writer.write(head.encode() + FEED)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._servers.append(server)
        # The same port on ::1 too, so IPv6 loopback forms would land here.
        with contextlib.suppress(OSError):
            self._servers.append(await asyncio.start_server(self._serve, "::1", self.port))

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    trap = Listener()
    await trap.start()
    try:
        yield trap
    finally:
        await trap.stop()


class ScriptedResolver(AbstractResolver):
    """DNS as an attacker runs it: fixed answers per name, or a new answer per lookup."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: dict[str, int] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        script = self.answers[host]
        n = self.calls.get(host, 0)
        self.calls[host] = n + 1
        addresses = script[min(n, len(script) - 1)]
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for a in addresses
        ]

    async def close(self) -> None:
        return None


def _settings(**http: object) -> Settings:
    return load_settings(None, http={"timeout": "3s", "per_host_rate": 1000.0, **http})


LITERAL_FORMS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0x7f.0.0.1",
    "0177.0.0.1",  # octal
    "0177.0000.0000.0001",
    "127.1",  # short form
    "127.0.1",
    "0",  # 0.0.0.0 reaches the local host on Linux
    "0.0.0.0",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:7f00:1]",
    "[64:ff9b::7f00:1]",  # NAT64
    "[2002:7f00:1::]",  # 6to4
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
]
# Never reachable here; the network guard of conftest.py would refuse them anyway.
PRIVATE_HOSTS = [
    "169.254.169.254",
    "[fd00:ec2::254]",
    "100.64.0.1",
    "100.100.100.200",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.0.1",
    "[fe80::1]",
    "[fc00::1]",
]


async def _fetch(url: str, settings: Settings, resolver: AbstractResolver | None = None) -> object:
    async with HttpClient(settings.http, resolver=resolver) as http:
        source = RssSource(http=http, settings=settings)
        return await source.fetch(AccountRef(platform=Platform.RSS, handle=url, url=url))


@pytest.mark.parametrize("host", LITERAL_FORMS)
async def test_loopback_forms_are_blocked_before_connecting(
    host: str, listener: Listener, crash_tally: Tally
) -> None:
    obs = await _fetch(f"http://{host}:{listener.port}/feed.rss", _settings())
    assert obs.status is Status.UNKNOWN
    assert obs.reason == "blocked_address"
    assert listener.accepts == 0
    crash_tally.refusal()


async def test_the_listener_does_answer_when_private_networks_are_allowed(
    listener: Listener,
) -> None:
    """Control: the trap is reachable, so a zero count above means "refused", not "missed"."""
    obs = await _fetch(
        f"http://127.0.0.1:{listener.port}/feed.rss", _settings(allow_private_networks=True)
    )
    assert obs.status is Status.OK
    assert listener.accepts == 1


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
async def test_private_and_metadata_addresses_are_blocked(host: str, crash_tally: Tally) -> None:
    obs = await _fetch(f"http://{host}/latest/meta-data/feed.rss", _settings())
    assert obs.reason == "blocked_address"
    crash_tally.refusal()


@pytest.mark.parametrize(
    ("name", "answers"),
    [
        ("metadata.google.internal", [["169.254.169.254"]]),
        ("intranet.gov.example", [["10.1.2.3"]]),
        ("cgnat.gov.example", [["100.64.12.1"]]),
        ("mapped.gov.example", [["::ffff:127.0.0.1"]]),
        ("mixed.gov.example", [["93.184.216.34", "127.0.0.1"]]),  # one bad answer suffices
    ],
)
async def test_names_resolving_to_private_addresses_are_blocked(
    name: str, answers: list[list[str]], listener: Listener, crash_tally: Tally
) -> None:
    resolver = ScriptedResolver({name: answers})
    obs = await _fetch(f"http://{name}:{listener.port}/feed.rss", _settings(), resolver)
    assert obs.reason == "blocked_address"
    assert listener.accepts == 0
    crash_tally.refusal()


async def test_dns_rebinding_is_blocked_on_every_lookup(
    listener: Listener, crash_tally: Tally
) -> None:
    """Public on the first lookup, 127.0.0.1 on the next: the second fetch must not connect."""
    name = "rebind.gov.example"
    resolver = ScriptedResolver({name: [["93.184.216.34"], ["127.0.0.1"]]})
    url = f"http://{name}:{listener.port}/feed.rss"
    first = await _fetch(url, _settings(), resolver)
    # The public answer passes the guard; conftest.py refuses the real connection.
    assert first.status is Status.UNKNOWN
    assert first.reason == "network"
    second = await _fetch(url, _settings(), resolver)
    assert second.reason == "blocked_address"
    assert resolver.calls[name] == 2
    assert listener.accepts == 0
    crash_tally.refusal()


@pytest.fixture
def public_redirector(monkeypatch: pytest.MonkeyPatch) -> str:
    """127.0.0.2 plays a public web site (the only stand-in for the internet here)."""
    real = guard.refusal

    def refusal(ip: guard.IPAddress) -> str | None:
        return None if ip == ipaddress.ip_address("127.0.0.2") else real(ip)

    monkeypatch.setattr(guard, "refusal", refusal)
    return "127.0.0.2"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/feed.rss",
        "http://2130706433:{port}/feed.rss",
        "http://[::ffff:7f00:1]:{port}/feed.rss",
        "http://localhost:{port}/feed.rss",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/_GET",
        "http://user:pw@127.0.0.2:{port}/feed.rss",
    ],
)
async def test_redirects_to_private_addresses_or_files_are_blocked(
    target: str, public_redirector: str, listener: Listener, crash_tally: Tally
) -> None:
    location = target.format(port=listener.port)
    app = web.Application()

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(location=location)

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=FEED, content_type="application/rss+xml")

    app.router.add_get("/hop", hop)
    app.router.add_get("/feed.rss", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, public_redirector, 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        obs = await _fetch(f"http://{public_redirector}:{port}/hop", _settings())
        control = await _fetch(f"http://{public_redirector}:{port}/feed.rss", _settings())
    finally:
        await runner.cleanup()
    assert control.status is Status.OK  # the stand-in really is "public"
    assert obs.status is Status.UNKNOWN
    assert obs.reason == "blocked_address"
    assert listener.accepts == 0
    crash_tally.refusal()


# --- through /watch add ------------------------------------------------------------------


def _editor() -> Caller:
    return Caller(
        backend="console",
        user_id="editor",
        chat_id="console",
        local_editor=True,
        language_hint="en",
    )


@pytest.mark.parametrize(
    ("platform", "host"),
    [("rss", h) for h in [*LITERAL_FORMS[:9], *LITERAL_FORMS[11:], *PRIVATE_HOSTS[:3]]]
    + [("html", "127.0.0.1"), ("html", "2130706433")],
)
async def test_watch_add_refuses_private_addresses(
    platform: str, host: str, database: Database, listener: Listener, crash_tally: Tally
) -> None:
    service = CommandService(db=database, settings=_settings())
    url = f"http://{host}:{listener.port}/feed.rss"
    reply = render_plain(
        await service.handle(_editor(), f'/watch add "Dana Omarova" {platform} {url}')
    )
    async with database.sessions() as session:
        accounts = await session.scalar(select(func.count()).select_from(Account))
    assert accounts == 0, reply
    assert "added" not in reply.lower()
    assert listener.accepts == 0
    crash_tally.refusal()


# --- through govwatch probe --url ---------------------------------------------------------


def _probe(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "govwatch.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "gw.db"}"\n[http]\ntimeout = "3s"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "probe", "--url", url, "--json", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )


def _probe_in_process(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, object]:
    config = tmp_path / "govwatch.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "gw.db"}"\n')
    code = cli.main(["probe", "--url", url, "--json", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 0
    answer: dict[str, object] = json.loads(out)
    return answer


def test_probe_url_refuses_every_loopback_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], crash_tally: Tally
) -> None:
    with _ThreadListener() as trap:
        for host in LITERAL_FORMS:
            answer = _probe_in_process(f"http://{host}:{trap.port}/feed.rss", tmp_path, capsys)
            assert answer["status"] == "unknown", (host, answer)
            assert answer["reason"] == "blocked_address", (host, answer)
            crash_tally.refusal()
        assert trap.accepts == 0


def test_probe_url_as_a_real_process(tmp_path: Path) -> None:
    """The same through ``python -m bot probe`` (argument parsing, exit status, stdout)."""
    with _ThreadListener() as trap:
        result = _probe(f"http://0x7f000001:{trap.port}/feed.rss", tmp_path)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert (answer["status"], answer["reason"]) == ("unknown", "blocked_address")
        result = _probe("file:///etc/passwd", tmp_path)
        assert result.returncode == 2
        assert "http:// or https://" in result.stderr
        assert "root:" not in result.stdout
        assert "Traceback" not in result.stderr
        assert trap.accepts == 0


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://127.0.0.1/", "http://u:p@127.0.0.1/x.rss", "http://[::1"],
)
def test_probe_url_refuses_foreign_schemes_in_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], crash_tally: Tally
) -> None:
    config = tmp_path / "govwatch.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "gw.db"}"\n')
    code = cli.main(["probe", "--url", url, "--json", "--config", str(config)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    crash_tally.refusal()


class _ThreadListener:
    """A blocking loopback listener in a thread, for tests whose code runs its own loop."""

    def __init__(self) -> None:
        self.accepts = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.accepts += 1
            conn.close()

    def __enter__(self) -> _ThreadListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()
