"""Hostile servers behind a watched feed: XML bombs, external entities, gzip bombs, huge and
slow answers. Each ends as an ``unknown`` observation with a clear reason, quickly, with
bounded memory and without any connection to the address an entity points at.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from bot.config import Settings, load_settings
from bot.domain import AccountRef, Observation, Platform, Status
from bot.net.client import HttpClient
from bot.sources.rss import RssSource
from tests.crash_summary import Tally
from tests.fakes.faulty_world import FeedItem, render_rss

CAP = 1_000_000
TIMEOUT = 1.0
GOOD = render_rss("press", [])

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
)


def _xxe(target: str) -> bytes:
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "'
        + target.encode()
        + b'">]>\n<rss version="2.0"><channel><title>&xxe;</title>'
        b"<item><title>&xxe;</title><guid>1</guid></item></channel></rss>"
    )


PARAMETER_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd">'
    b"%remote;]>\n<rss><channel><title>x</title></channel></rss>"
)
# Comments may precede the DOCTYPE: a check of the first bytes only must not be fooled.
PADDED_BOMB = b'<?xml version="1.0"?>\n<!--' + b"x" * 8000 + b"-->\n" + LAUGHS.split(b"\n", 1)[1]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _body(data: bytes, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=data, headers=headers, content_type="application/rss+xml")

    return handler


# Ten times the cap once decoded, a few kB on the wire.
GZIP_BOMB = gzip.compress(b"\0" * 10 * CAP, compresslevel=9)
DEFLATE_BOMB = zlib.compress(b"<rss>" + b" " * 10 * CAP, 9)


async def _gzip_bomb(request: web.Request) -> web.StreamResponse:
    bomb = GZIP_BOMB
    return web.Response(
        body=bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )


async def _deflate_bomb(request: web.Request) -> web.StreamResponse:
    bomb = DEFLATE_BOMB
    return web.Response(
        body=bomb, headers={"Content-Encoding": "deflate"}, content_type="application/rss+xml"
    )


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    chunk = b"<rss>" + b"x" * 65_531
    for _ in range(10_000):  # 650 MB if nobody stops reading
        await response.write(chunk)
    return response


async def _liar(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "application/rss+xml", "Content-Length": str(10**11)}
    )
    await response.prepare(request)
    await response.write(b"<rss>")
    return response


async def _drip(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for byte in GOOD:
        await response.write(bytes([byte]))
        await asyncio.sleep(0.2)
    return response


async def _silent(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(30)
    return web.Response(body=GOOD)


CASES: list[tuple[str, Handler, set[str]]] = [
    ("billion_laughs", _body(LAUGHS), {"unsafe_xml"}),
    ("xxe_file", _body(_xxe("file:///etc/passwd")), {"unsafe_xml"}),
    ("xxe_http", _body(_xxe("http://127.0.0.1:{trap}/secret")), {"unsafe_xml"}),
    ("parameter_entity", _body(PARAMETER_ENTITY), {"unsafe_xml"}),
    ("padded_bomb", _body(PADDED_BOMB), {"unsafe_xml", "not_a_feed"}),
    ("gzip_bomb", _gzip_bomb, {"too_large"}),
    ("deflate_bomb", _deflate_bomb, {"too_large"}),
    (
        "double_gzip",
        _body(gzip.compress(gzip.compress(GOOD)), **{"Content-Encoding": "gzip, gzip"}),
        {"bad_encoding"},
    ),
    (
        "corrupt_gzip",
        _body(b"\x1f\x8b\x08\x00garbage" * 10, **{"Content-Encoding": "gzip"}),
        {"bad_encoding"},
    ),
    ("endless_body", _endless, {"too_large"}),
    ("lying_length", _liar, {"too_large"}),
    ("slow_drip", _drip, {"timeout"}),
    ("no_answer", _silent, {"timeout"}),
]


@pytest.fixture
async def trap() -> AsyncIterator[list[int]]:
    """A listener an external entity would hit; it records every connection."""
    hits: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(1)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    hits_port = server.sockets[0].getsockname()[1]
    hits.append(0)
    hits[0] = hits_port
    try:
        yield hits
    finally:
        server.close()
        await server.wait_closed()


def _settings() -> Settings:
    # Loopback is allowed here so the hostile server can be reached at all.
    return load_settings(
        None,
        http={
            "allow_private_networks": True,
            "timeout": f"{TIMEOUT}s",
            "max_response_bytes": CAP,
            "per_host_rate": 1000.0,
        },
    )


async def _serve_and_fetch(handler: Handler) -> tuple[Observation, float]:
    app = web.Application()
    app.router.add_get("/feed.rss", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/feed.rss"
    settings = _settings()
    try:
        async with HttpClient(settings.http) as http:
            started = time.perf_counter()
            obs = await RssSource(http=http, settings=settings).fetch(
                AccountRef(platform=Platform.RSS, handle=url, url=url)
            )
            return obs, time.perf_counter() - started
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(("name", "handler", "reasons"), CASES, ids=[c[0] for c in CASES])
async def test_hostile_feed_is_unknown(
    name: str, handler: Handler, reasons: set[str], trap: list[int], crash_tally: Tally
) -> None:
    if name == "xxe_http":
        handler = _body(_xxe(f"http://127.0.0.1:{trap[0]}/secret"))
    obs, _ = await _serve_and_fetch(handler)  # its wall time: bench/latency.py
    assert obs.status is Status.UNKNOWN
    assert obs.reason in reasons, obs.reason
    assert obs.followers is None
    assert obs.posts == ()
    assert trap[1:] == [], "an external entity was fetched"
    crash_tally.refusal()


async def test_a_plain_feed_still_reads() -> None:
    """Control: the same server and settings read an honest feed."""
    from datetime import UTC, datetime

    body = render_rss(
        "press",
        [FeedItem("g1", "Statement", datetime(2026, 11, 1, tzinfo=UTC), "https://gov.example/1")],
    )
    obs, _ = await _serve_and_fetch(_body(gzip.compress(body), **{"Content-Encoding": "gzip"}))
    assert obs.status is Status.OK
    assert [p.id for p in obs.posts] == ["g1"]
