"""Loopback HTTP servers that misbehave on purpose: bombs, endless bodies, slow drips.

``HostileServer`` is an aiohttp app on 127.0.0.x port 0 with one route per misbehaviour.
It counts requests per path and the peak number of concurrent requests, so tests can
prove that a guarded client never reached it, or never exceeded its per-host limit.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections import Counter
from types import TracebackType

from aiohttp import web

BOMB_SIZE = 50_000_000  # decoded size of the gzip bomb (about 50 KB compressed)


def _gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * 1_000_000
    parts = [compressor.compress(chunk) for _ in range(BOMB_SIZE // len(chunk))]
    parts.append(compressor.flush())
    return b"".join(parts)


class HostileServer:
    """A loopback server with hostile routes; use as ``async with HostileServer() as s``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.hits: Counter[str] = Counter()
        self.active = 0
        self.peak = 0
        self.seen_headers: list[dict[str, str]] = []
        self.redirect_to = "http://127.0.0.1:1/"
        self._runner: web.AppRunner | None = None
        self._bomb: bytes | None = None

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """An absolute URL on this server."""
        return self.base + path

    @web.middleware
    async def _count(self, request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.seen_headers.append(dict(request.headers))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            return await handler(request)
        finally:
            self.active -= 1

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(
            text="hello", headers={"ETag": '"v1"', "Last-Modified": "Mon, 04 May 2026 10:00:00 GMT"}
        )

    async def _cookie(self, request: web.Request) -> web.Response:
        response = web.Response(text="have a cookie")
        response.set_cookie("session", "tracking-id")
        return response

    async def _etag(self, request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return await self._ok(request)

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("s", "0.3")))
        return web.Response(text="slow")

    async def _gzip(self, request: web.Request) -> web.Response:
        body = gzip.compress(b"small and honest " * 100)
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    async def _encoded(self, request: web.Request) -> web.Response:
        data = b"encoded body " * 50
        kind = request.query["kind"]
        raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        bodies = {
            "deflate": zlib.compress(data),
            "rawdeflate": raw.compress(data) + raw.flush(),
            "corrupt": b"\x1f\x8b\x08\x00garbage-not-gzip" * 10,
            "br": b"\x0b\x02\x80hello\x03",
        }
        encoding = {"rawdeflate": "deflate", "corrupt": "gzip"}.get(kind, kind)
        return web.Response(body=bodies[kind], headers={"Content-Encoding": encoding})

    async def _bomb_route(self, request: web.Request) -> web.Response:
        if self._bomb is None:
            self._bomb = await asyncio.to_thread(_gzip_bomb)
        return web.Response(body=self._bomb, headers={"Content-Encoding": "gzip"})

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            while True:
                await response.write(chunk)
        except (ConnectionResetError, RuntimeError):
            return response

    async def _drip(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000000"})
        await response.prepare(request)
        try:
            for _ in range(1_000_000):
                await response.write(b"x")
                await asyncio.sleep(0.05)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    async def _big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"y" * int(request.query.get("n", "100000")))

    async def _throttled(self, request: web.Request) -> web.Response:
        status = int(request.query.get("status", "429"))
        return web.Response(
            status=status,
            text="slow down",
            headers={"Retry-After": request.query.get("after", "30")},
        )

    async def _redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(location=request.query.get("to", self.redirect_to))

    async def _loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(location="/loop")

    async def _headers(self, request: web.Request) -> web.Response:
        return web.json_response(dict(request.headers))

    async def __aenter__(self) -> HostileServer:
        app = web.Application(middlewares=[self._count])
        app.router.add_get("/ok", self._ok)
        app.router.add_get("/etag", self._etag)
        app.router.add_get("/cookie", self._cookie)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/gzip", self._gzip)
        app.router.add_get("/bomb", self._bomb_route)
        app.router.add_get("/encoded", self._encoded)
        app.router.add_get("/endless", self._endless)
        app.router.add_get("/drip", self._drip)
        app.router.add_get("/big", self._big)
        app.router.add_get("/throttled", self._throttled)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/loop", self._loop)
        app.router.add_get("/headers", self._headers)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
