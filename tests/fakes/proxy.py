"""A loopback HTTP forward proxy for the egress tests: absolute-URI GET and CONNECT.

It speaks what real forward proxies (Squid, a provider's gateway) speak: ``GET
http://host:port/path`` is fetched upstream (with aiohttp's client) and relayed,
``CONNECT host:port`` opens a byte tunnel. It counts what it carries, remembers the
targets it was asked for (so a test sees which address a client pinned), may demand
credentials (407 without the right ``Proxy-Authorization: Basic``) and, on demand,
answers 429 with Retry-After as a throttled exit address would. Tests run it and the
world behind it on loopback, where the conftest guard keeps every connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from types import TracebackType

import aiohttp

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "upgrade"}
)


class FakeProxy:
    """``async with FakeProxy() as proxy``; ``proxy.url`` is what a config names."""

    def __init__(self, host: str = "127.0.0.1", *, credentials: tuple[str, str] | None = None):
        self.host = host
        self.port = 0
        self.credentials = credentials
        #: Requests received (a GET or a CONNECT each), answered in any way.
        self.requests = 0
        #: Requests carried to the target (GETs relayed, tunnels opened).
        self.served = 0
        #: Requests answered 429 / 407 by the proxy itself.
        self.throttled = 0
        self.refused = 0
        #: Request targets as received: "http://127.0.0.1:5000/s/x" or "127.0.0.1:443".
        self.targets: list[str] = []
        #: The Host header of every relayed GET.
        self.hosts: list[str] = []
        #: The Proxy-Authorization header of every request (None when absent).
        self.auth_seen: list[str | None] = []
        #: When each request arrived (time.monotonic()).
        self.arrivals: list[float] = []
        self.retry_after = "1"
        self._throttle_left = 0
        self._server: asyncio.Server | None = None
        self._upstream: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The proxy URL, credentials included when it demands them."""
        if self.credentials is None:
            return f"http://{self.host}:{self.port}"
        user, password = self.credentials
        return f"http://{user}:{password}@{self.host}:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        """This proxy's URL with other credentials (to be refused)."""
        return f"http://{user}:{password}@{self.host}:{self.port}"

    def throttle(self, count: int = 1_000_000, *, retry_after: str = "1") -> None:
        """Answer the next ``count`` requests with 429 and this Retry-After."""
        self._throttle_left = count
        self.retry_after = retry_after

    async def start(self) -> None:
        """Listen on ``host``, port 0."""
        self._upstream = aiohttp.ClientSession(
            auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        )
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close the port, every tunnel and the upstream session."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()
        if self._upstream is not None:
            await self._upstream.close()

    async def __aenter__(self) -> FakeProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- serving ---------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection is over."""
        head = await reader.readuntil(b"\r\n\r\n")
        line, *rest = head.decode("latin-1").split("\r\n")
        method, target, _version = line.split(" ", 2)
        headers = dict(_header(h) for h in rest if h)
        self.requests += 1
        self.arrivals.append(time.monotonic())
        self.targets.append(target)
        auth = next((v for k, v in headers.items() if k.lower() == "proxy-authorization"), None)
        self.auth_seen.append(auth)
        if self.credentials is not None and auth != _basic(*self.credentials):
            self.refused += 1
            await _answer(
                writer, 407, "Proxy Authentication Required", {"Proxy-Authenticate": "Basic"}
            )
            return method != "CONNECT"
        if self._throttle_left > 0:
            self._throttle_left -= 1
            self.throttled += 1
            await _answer(writer, 429, "Too Many Requests", {"Retry-After": self.retry_after})
            return method != "CONNECT"
        if method == "CONNECT":
            await self._tunnel(target, reader, writer)
            return False
        await self._relay(method, target, headers, writer)
        return True

    async def _relay(
        self, method: str, target: str, headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> None:
        assert self._upstream is not None
        forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
        self.hosts.append(next((v for k, v in headers.items() if k.lower() == "host"), ""))
        self.served += 1
        async with self._upstream.request(
            method, target, headers=forwarded, allow_redirects=False
        ) as upstream:
            body = await upstream.read()
            kept = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in _HOP_BY_HOP | {"content-length", "transfer-encoding"}
            }
            await _answer(writer, upstream.status, upstream.reason or "", kept, body)

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, _, port = target.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        self.served += 1
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip(), value.strip()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("latin-1")).decode("ascii")


async def _answer(
    writer: asyncio.StreamWriter,
    status: int,
    reason: str,
    headers: dict[str, str],
    body: bytes = b"",
) -> None:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(Exception):
            sink.write_eof()
