"""The one hardened HTTP client every source uses: httpx's API on aiohttp's transport.

Guards: the SSRF check at connection time (``GuardedResolver``) plus a URL check on every
redirect hop, a byte cap on the raw and on the decoded body, a total deadline per fetch,
per-host concurrency and rate limits, conditional GET, and Retry-After honoured per host.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver
from httpx_aiohttp import AiohttpTransport

from bot.config import HttpSettings
from bot.errors import (
    FetchError,
    FetchTimeout,
    GovwatchError,
    RateLimited,
    ResponseTooLarge,
    TooManyRedirects,
)
from bot.net.causes import cause_in_words
from bot.net.guard import GuardedResolver, check_url

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_RETRY_AFTER = 24 * 3600.0
_DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class Response:
    """A finished response: final URL, decoded (capped) body and cache validators."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    not_modified: bool = False
    validators: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


class _Decoder:
    """Decodes gzip/deflate incrementally and refuses output beyond ``cap`` bytes."""

    def __init__(self, encoding: str, cap: int) -> None:
        self._cap = cap
        self._size = 0
        self._zlib: Any = None
        self._pending_deflate = encoding == "deflate"
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding not in ("", "identity", "deflate"):
            words = f"unsupported content-encoding {encoding[:40]!r}"
            raise FetchError(words, reason="bad_encoding", detail=words)

    def feed(self, chunk: bytes) -> bytes:
        if self._pending_deflate and chunk:
            # "deflate" is zlib-wrapped by the RFC but raw in some servers.
            raw = (chunk[0] & 0x0F) != 8
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            self._pending_deflate = False
        remaining = self._cap - self._size
        if self._zlib is None:
            out = chunk
        else:
            try:
                out = self._zlib.decompress(chunk, remaining + 1)
            except zlib.error as exc:
                words = "the compressed answer is corrupt"
                raise FetchError(f"{words}: {exc}", reason="bad_encoding", detail=words) from exc
        self._size += len(out)
        if self._size > self._cap:
            words = f"the decoded answer is larger than {self._cap} bytes"
            raise ResponseTooLarge(words, detail=words)
        return out


class _HostGate:
    """Per-host concurrency slots, request spacing and a Retry-After cooldown."""

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.next_start = 0.0
        self.blocked_until = 0.0

    async def pace(self, rate: float) -> None:
        now = time.monotonic()
        start = max(now, self.next_start)
        self.next_start = start + 1.0 / rate
        if start > now:
            await asyncio.sleep(start - now)


class HttpClient:
    """Hardened async HTTP client shared by all sources.

    ``get`` follows redirects itself (checking each hop) and returns the final response
    whatever its status, so sources classify 4xx/5xx themselves. It raises a
    ``FetchError`` subclass only when no classifiable answer exists: ``BlockedAddress`` /
    ``InvalidURL`` (refused URL or address), ``ResponseTooLarge``, ``FetchTimeout``,
    ``TooManyRedirects``, ``RateLimited`` (429, or 503 with Retry-After; later requests
    to that host fail fast until the wait is over) and ``FetchError`` for network errors.
    A 304 to a conditional GET comes back as ``not_modified=True`` with an empty body.
    """

    def __init__(self, settings: HttpSettings, *, resolver: AbstractResolver | None = None) -> None:
        self._settings = settings
        self._allow_private = settings.allow_private_networks
        self._resolver = GuardedResolver(resolver, allow_private=self._allow_private)
        self._gates: dict[str, _HostGate] = {}
        self._session: aiohttp.ClientSession | None = None
        self._client: httpx.AsyncClient | None = None

    def _ensure_client(self) -> httpx.AsyncClient:
        # Built lazily: aiohttp needs a running loop, and nothing connects at import time.
        if self._client is None:
            connector = aiohttp.TCPConnector(
                resolver=self._resolver,
                limit=self._settings.max_connections,
                limit_per_host=self._settings.per_host_concurrency,
                ttl_dns_cache=30,
            )
            # No cookies anywhere: no state shared between accounts, no jar growing per host.
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
            )
            self._client = httpx.AsyncClient(
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
                transport=AiohttpTransport(client=self._session),
                follow_redirects=False,
                trust_env=False,
                timeout=self._settings.timeout.total_seconds(),
                headers={"User-Agent": self._settings.user_agent},
            )
        return self._client

    def _gate(self, host: str) -> _HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = _HostGate(self._settings.per_host_concurrency)
        return gate

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        validators: Mapping[str, str] | None = None,
        rate: float | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """Fetch ``url`` under every guard and return the final response (see class doc)."""
        check_url(url, allow_private=self._allow_private)
        host = (urlsplit(url).hostname or "").lower()
        gate = self._gate(host)
        self._refuse_if_cooling(gate, host)
        request_headers = {"Accept-Encoding": "gzip, deflate", **(headers or {})}
        request_headers.update(_conditional_headers(validators))
        cap = max_bytes or self._settings.max_response_bytes
        async with gate.slots:
            await gate.pace(rate or self._settings.per_host_rate)
            self._refuse_if_cooling(gate, host)
            try:
                async with asyncio.timeout(self._settings.timeout.total_seconds()):
                    return await self._follow(url, request_headers, cap=cap, gate=gate)
            except TimeoutError as exc:
                seconds = self._settings.timeout.total_seconds()
                words = f"no complete answer from {host} within {seconds:g} s"
                raise FetchTimeout(words, detail=words) from exc

    def cooling_hosts(self) -> int:
        """How many hosts are waiting out a 429 (or a 503 with Retry-After) right now."""
        now = time.monotonic()
        return sum(1 for gate in self._gates.values() if gate.blocked_until > now)

    def _refuse_if_cooling(self, gate: _HostGate, host: str) -> None:
        wait = gate.blocked_until - time.monotonic()
        if wait > 0:
            words = f"{host} asked us to wait {wait:.0f} s more"
            raise RateLimited(words, retry_after=wait, detail=words)

    async def _follow(
        self, url: str, headers: dict[str, str], *, cap: int, gate: _HostGate
    ) -> Response:
        client = self._ensure_client()
        for _hop in range(self._settings.max_redirects + 1):
            check_url(url, allow_private=self._allow_private)
            try:
                response = await self._one(client, url, headers, cap=cap, gate=gate)
            except GovwatchError:
                raise
            except (
                httpx.HTTPError,
                httpx.InvalidURL,
                aiohttp.ClientError,
                OSError,
                ValueError,
            ) as exc:
                raise _classify(exc) from exc
            if isinstance(response, Response):
                return response
            url = response
        words = f"more than {self._settings.max_redirects} redirects"
        raise TooManyRedirects(words, detail=words)

    async def _one(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        *,
        cap: int,
        gate: _HostGate,
    ) -> Response | str:
        request = client.build_request("GET", url, headers=headers)
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            if status in _REDIRECTS and "location" in response.headers:
                return urljoin(url, response.headers["location"])
            flat = {k.lower(): v for k, v in response.headers.items()}
            if status == 429 or (status == 503 and "retry-after" in flat):
                wait = parse_retry_after(flat.get("retry-after")) or _DEFAULT_RETRY_AFTER
                gate.blocked_until = max(gate.blocked_until, time.monotonic() + wait)
                words = f"{request.url.host} answered HTTP {status} (wait {wait:.0f} s)"
                raise RateLimited(words, retry_after=wait, detail=words)
            found = _validators(flat)
            if status == 304:
                return Response(304, url, flat, b"", not_modified=True, validators=found)
            body = await _read_capped(response, flat, cap=cap)
            return Response(status, url, flat, body, validators=found)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close every pooled connection."""
        if self._client is not None:
            await self._client.aclose()
        if self._session is not None:
            await self._session.close()
        self._client = None
        self._session = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _classify(exc: Exception) -> FetchError:
    """Map a transport error to FetchTimeout or FetchError(network), its cause in words."""
    # httpx-aiohttp maps every aiohttp connection error (refused, reset) to ConnectTimeout:
    # judge by the original aiohttp error when there is one.
    cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    if isinstance(cause, aiohttp.ServerTimeoutError | asyncio.TimeoutError | TimeoutError):
        return FetchTimeout(str(cause) or "timeout", detail="the server did not answer in time")
    if cause is exc and isinstance(exc, httpx.TimeoutException):
        return FetchTimeout(str(exc) or "timeout", detail="the server did not answer in time")
    return FetchError(f"{type(cause).__name__}: {cause}", detail=cause_in_words(cause))


def _conditional_headers(validators: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if validators:
        if validators.get("etag"):
            out["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            out["If-Modified-Since"] = validators["last_modified"]
    return out


def _validators(headers: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    if headers.get("etag"):
        found["etag"] = headers["etag"]
    if headers.get("last-modified"):
        found["last_modified"] = headers["last-modified"]
    return found


async def _read_capped(response: httpx.Response, headers: Mapping[str, str], *, cap: int) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        words = f"the answer declares {declared} bytes, more than {cap}"
        raise ResponseTooLarge(words, detail=words)
    decoder = _Decoder(headers.get("content-encoding", "").strip().lower(), cap)
    raw_size = 0
    parts: list[bytes] = []
    async for chunk in response.aiter_raw():
        raw_size += len(chunk)
        if raw_size > cap:
            words = f"the answer is larger than {cap} bytes"
            raise ResponseTooLarge(words, detail=words)
        parts.append(decoder.feed(chunk))
    return b"".join(parts)
