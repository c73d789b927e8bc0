"""The one hardened HTTP client every source uses: httpx's API on aiohttp's transport.

Guards: the SSRF check at connection time (``GuardedResolver``) plus a URL check on every
redirect hop, a byte cap on the raw and on the decoded body, a total deadline per fetch,
per-host concurrency and rate limits, conditional GET, and Retry-After honoured per host.
A platform with proxies configured reads through :meth:`HttpClient.via`, which spreads its
requests over its pool (``bot.net.egress`` says how, and how the guard still applies).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from httpx_aiohttp import AiohttpTransport
from pydantic import SecretStr

from bot.config import HttpSettings
from bot.config.proxies import DIRECT, proxy_secrets
from bot.errors import (
    FetchError,
    FetchTimeout,
    GovwatchError,
    RateLimited,
    ResponseTooLarge,
    TooManyRedirects,
)
from bot.logs import RedactingFilter
from bot.net.causes import cause_in_words
from bot.net.egress import Egress, HostGate, Pinned, Pins, Pool
from bot.net.guard import GuardedResolver, check_url

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_RETRY_AFTER = 24 * 3600.0
_DEFAULT_RETRY_AFTER = 60.0
#: Addresses one request may try: a 429 or a failing proxy moves it to another address.
_MAX_ATTEMPTS = 3


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


class Fetcher(Protocol):
    """What a source reads with: the client itself, or a platform's view through its pool."""

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        validators: Mapping[str, str] | None = None,
        rate: float | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """Fetch ``url`` under every guard (see ``HttpClient.get``)."""
        ...


class _Shift(Exception):
    """This address cannot carry the request now (429, proxy failure): try another."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(error.detail or error.reason)
        self.error = error


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

    def __init__(
        self,
        settings: HttpSettings,
        *,
        resolver: AbstractResolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings
        self._allow_private = settings.allow_private_networks
        self._inner_resolver = resolver
        self._resolver = GuardedResolver(resolver, allow_private=self._allow_private)
        # None: the default verified context (a test passes one trusting its own CA).
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._pins = Pins(self._resolver)
        #: (egress key, host) -> its gate; direct requests use the "direct" key.
        self._gates: dict[tuple[str, str], HostGate] = {}
        self._egresses: dict[str, Egress] = {}
        self._redact = RedactingFilter()
        self._session: aiohttp.ClientSession | None = None
        self._proxy_session: aiohttp.ClientSession | None = None
        self._client: httpx.AsyncClient | None = None

    def via(self, proxies: Sequence[SecretStr | str], *, rate: float | None = None) -> Fetcher:
        """A view spreading requests over ``proxies`` at ``rate`` each; no proxies: ``self``."""
        # "direct" in ``proxies`` is our own address; ``rate`` applies per address and host.
        if not proxies:
            return self
        entries = [p.get_secret_value() if isinstance(p, SecretStr) else p for p in proxies]
        return _Routed(self, Pool(tuple(self._egress(e) for e in entries), rate))

    def _egress(self, entry: str) -> Egress:
        # One state per address, whichever platforms list it: one IP, one budget.
        key = entry.strip()
        egress = self._egresses.get(key)
        if egress is None:
            taken = {e.label for e in self._egresses.values()}
            egress = self._egresses[key] = Egress.of(key, taken)
            if egress.proxy is not None:
                self._redact = RedactingFilter([*self._redact.secrets, *_secrets_of(egress)])
        return egress

    def _direct_session(self) -> aiohttp.ClientSession:
        # Built lazily: aiohttp needs a running loop, and nothing connects at import time.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=self._resolver,
                limit=self._settings.max_connections,
                limit_per_host=self._settings.per_host_concurrency,
                ttl_dns_cache=30,
                ssl=self._ssl,
            )
            # No cookies anywhere: no state shared between accounts, no jar growing.
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self._settings.user_agent},
                timeout=aiohttp.ClientTimeout(total=self._settings.timeout.total_seconds()),
                auto_decompress=False,  # _Decoder decodes, under the byte cap
            )
        return self._session

    def _session_for(self, egress: Egress | None) -> httpx.AsyncClient:
        if egress is None or egress.proxy is None:
            if self._client is None:
                self._client = self._httpx(AiohttpTransport(client=self._direct_session()))
            return self._client
        if egress.client is None:
            egress.client = self._httpx(
                AiohttpTransport(client=self._proxy_connections(), proxy=egress.httpx_proxy())
            )
        return egress.client

    def _proxy_connections(self) -> aiohttp.ClientSession:
        """The session proxied requests share (aiohttp keys its pool by proxy and target)."""
        if self._proxy_session is None:
            # This connector resolves proxy hosts only, which the operator chose: no guard
            # here. Targets reach it as addresses the guard already checked (Pins).
            connector = aiohttp.TCPConnector(
                resolver=self._inner_resolver or DefaultResolver(),
                limit=self._settings.max_connections,
                limit_per_host=self._settings.per_host_concurrency,
                ttl_dns_cache=30,
                ssl=self._ssl,
            )
            self._proxy_session = aiohttp.ClientSession(
                connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._proxy_session

    def _httpx(self, transport: AiohttpTransport) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            timeout=self._settings.timeout.total_seconds(),
            headers={"User-Agent": self._settings.user_agent},
        )

    def _gate(self, egress: str, host: str) -> HostGate:
        gate = self._gates.get((egress, host))
        if gate is None:
            gate = self._gates[(egress, host)] = HostGate(self._settings.per_host_concurrency)
        return gate

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        validators: Mapping[str, str] | None = None,
        rate: float | None = None,
        max_bytes: int | None = None,
        pool: Pool | None = None,
    ) -> Response:
        """Fetch ``url`` under every guard and return the final response (see class doc)."""
        check_url(url, allow_private=self._allow_private)
        host = (urlsplit(url).hostname or "").lower()
        request_headers = {"Accept-Encoding": "gzip, deflate", **(headers or {})}
        request_headers.update(_conditional_headers(validators))
        cap = max_bytes or self._settings.max_response_bytes
        if pool is not None:
            pace = pool.rate or rate or self._settings.per_host_rate
            return await self._pooled(url, host, request_headers, cap=cap, rate=pace, pool=pool)
        gate = self._gate(DIRECT, host)
        self._refuse_if_cooling(gate, host)
        async with gate.slots:
            await gate.pace(rate or self._settings.per_host_rate)
            self._refuse_if_cooling(gate, host)
            return await self._deadline(url, host, request_headers, cap=cap, gate=gate)

    async def _deadline(
        self,
        url: str,
        host: str,
        headers: dict[str, str],
        *,
        cap: int,
        gate: HostGate,
        egress: Egress | None = None,
    ) -> Response:
        try:
            async with asyncio.timeout(self._settings.timeout.total_seconds()):
                return await self._follow(url, headers, cap=cap, gate=gate, egress=egress)
        except TimeoutError:
            seconds = self._settings.timeout.total_seconds()
            words = f"no complete answer from {host} within {seconds:g} s"
            through = f" through {egress.label}" if egress and egress.proxy else ""
            failure = FetchTimeout(words + through, detail=words + through)
        raise failure  # outside the handler: no aiohttp error (and its proxy auth) chained

    def cooling_hosts(self) -> int:
        """How many (address, host) pairs wait out a 429 (or a 503 with Retry-After) now."""
        now = time.monotonic()
        return sum(1 for gate in self._gates.values() if gate.blocked_until > now)

    def _refuse_if_cooling(self, gate: HostGate, host: str) -> None:
        wait = gate.blocked_until - time.monotonic()
        if wait > 0:
            words = f"{host} asked us to wait {wait:.0f} s more"
            raise RateLimited(words, retry_after=wait, detail=words)

    # -- pools ---------------------------------------------------------------------------

    async def _pooled(
        self, url: str, host: str, headers: dict[str, str], *, cap: int, rate: float, pool: Pool
    ) -> Response:
        """Try the least-loaded free address; a 429 or a proxy failure moves on to another."""
        tried: set[str] = set()
        last: FetchError | None = None
        while len(tried) < min(len(pool.egresses), _MAX_ATTEMPTS):
            chosen = self._choose(pool, host, rate, tried)
            if chosen is None:
                break
            tried.add(chosen[0].key)
            try:
                return await self._attempt(url, host, headers, cap=cap, rate=rate, on=chosen)
            except _Shift as shift:
                last = shift.error
        failure = last or self._unavailable(pool, host)
        if isinstance(failure, RateLimited):
            # When the pool can send again, not when the address that said so can.
            failure.retry_after = self._pool_wait(pool, host) or None
        raise failure

    def _unavailable(self, pool: Pool, host: str) -> FetchError:
        """Why no address of ``pool`` may send to ``host`` now: the one free soonest."""
        now = time.monotonic()

        def free_at(egress: Egress) -> float:
            return max(egress.down_until, self._gate(egress.key, host).blocked_until)

        egress = min(pool.egresses, key=free_at)
        wait = free_at(egress) - now
        if egress.down_until >= self._gate(egress.key, host).blocked_until:
            words = f"{egress.label} rests {wait:.0f} s more after: {egress.fault}"
            return FetchError(words, detail=words)
        words = f"{egress.label} is waiting for {host} ({wait:.0f} s more)"
        return RateLimited(words, retry_after=wait, detail=words)

    def _choose(
        self, pool: Pool, host: str, rate: float, tried: set[str]
    ) -> tuple[Egress, HostGate] | None:
        """The free address (not tried, not resting, not cooling) expected to start first."""
        now = time.monotonic()
        count = len(pool.egresses)
        best: tuple[float, int, int] | None = None
        for offset in range(count):
            # Ties go round: counted from the address after the one chosen last.
            index = (pool.turn + offset) % count
            egress = pool.egresses[index]
            if egress.key in tried or egress.down_until > now:
                continue
            gate = self._gate(egress.key, host)
            if gate.blocked_until > now:
                continue
            candidate = (gate.expected_start(now, rate), offset, index)
            if best is None or candidate < best:
                best = candidate
        if best is None:
            return None
        pool.turn = best[2] + 1
        egress = pool.egresses[best[2]]
        return egress, self._gate(egress.key, host)

    def _pool_wait(self, pool: Pool, host: str) -> float:
        """Seconds until some address of ``pool`` may send to ``host`` again (0: now)."""
        now = time.monotonic()
        waits = [
            max(e.down_until, self._gate(e.key, host).blocked_until) - now for e in pool.egresses
        ]
        return max(min(waits), 0.0)

    async def _attempt(
        self,
        url: str,
        host: str,
        headers: dict[str, str],
        *,
        cap: int,
        rate: float,
        on: tuple[Egress, HostGate],
    ) -> Response:
        egress, gate = on
        gate.queued += 1
        waiting = True
        try:
            async with gate.slots:
                # From here its pacing slot counts it (next_start), no longer the queue.
                gate.queued -= 1
                waiting = False
                await gate.pace(rate)
                now = time.monotonic()
                if gate.blocked_until > now or egress.down_until > now:
                    # Another request found this address throttled or failing while we
                    # queued: this one moves on to another address.
                    raise _Shift(self._unavailable(Pool((egress,)), host))
                try:
                    response = await self._deadline(
                        url, host, headers, cap=cap, gate=gate, egress=egress
                    )
                except RateLimited as exc:
                    if egress.proxy is not None and exc.detail:
                        exc.detail = f"{exc.detail} through {egress.label}"
                    raise _Shift(exc) from None
                egress.served()
                return response
        finally:
            if waiting:
                gate.queued -= 1

    # -- one fetch -----------------------------------------------------------------------

    async def _follow(
        self,
        url: str,
        headers: dict[str, str],
        *,
        cap: int,
        gate: HostGate,
        egress: Egress | None = None,
    ) -> Response:
        # Direct requests go straight over aiohttp (httpx's layer on top cost about a third
        # of a poll's CPU); proxied ones keep httpx's proxy support.
        client = self._session_for(egress) if egress is not None and egress.proxy else None
        for _hop in range(self._settings.max_redirects + 1):
            check_url(url, allow_private=self._allow_private)
            failure: Exception | None = None
            try:
                if egress is not None and egress.proxy is not None:
                    pinned = await self._pins.pin(url)
                    response = await self._one(client, url, pinned, headers, cap=cap, gate=gate)
                else:
                    response = await self._one_direct(url, headers, cap=cap, gate=gate)
            except GovwatchError:
                raise
            except (
                _ProxyRefused,
                httpx.HTTPError,
                httpx.InvalidURL,
                aiohttp.ClientError,
                OSError,
                ValueError,
            ) as exc:
                if egress is None or egress.proxy is None:
                    raise _classify(exc) from exc
                failure = self._proxy_failure(exc, egress, gate, urlsplit(url).hostname or "")
            if failure is not None:
                # Raised outside the handler, so not chained: aiohttp's proxy errors carry
                # the proxy URL with its password and the Proxy-Authorization header.
                raise failure
            if isinstance(response, Response):
                return response
            url = response
        words = f"more than {self._settings.max_redirects} redirects"
        raise TooManyRedirects(words, detail=words)

    async def _one_direct(
        self, url: str, headers: dict[str, str], *, cap: int, gate: HostGate
    ) -> Response | str:
        """One request without a proxy: the same answer handling as ``_one``."""
        session = self._direct_session()
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            flat = {k.lower(): v for k, v in response.headers.items()}
            chunks = response.content.iter_any()
            return await _answer(url, response.status, flat, chunks, cap=cap, gate=gate)

    async def _one(
        self,
        client: httpx.AsyncClient | None,
        url: str,
        pinned: Pinned,
        headers: dict[str, str],
        *,
        cap: int,
        gate: HostGate,
    ) -> Response | str:
        assert client is not None
        sent = dict(headers)
        if pinned.host_header is not None:
            sent["Host"] = pinned.host_header
        extensions = {"sni_hostname": pinned.sni} if pinned.sni else None
        request = client.build_request("GET", pinned.url, headers=sent, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            if status == 407:
                raise _ProxyRefused(status)  # the proxy itself answered: our credentials
            flat = {k.lower(): v for k, v in response.headers.items()}
            return await _answer(url, status, flat, response.aiter_raw(), cap=cap, gate=gate)
        finally:
            await response.aclose()

    def _proxy_failure(
        self, exc: Exception, egress: Egress, gate: HostGate, host: str
    ) -> FetchError | _Shift:
        """A failed proxied request in words naming the proxy by host:port, never more."""
        cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
        now = time.monotonic()
        if isinstance(cause, aiohttp.ClientProxyConnectionError):
            why = f"{egress.label} cannot be reached ({_os_words(cause)})"
            rest = egress.rest(now, why)
            words = f"{why}; resting {rest:.0f} s"
            return _Shift(FetchError(words, detail=words))
        status = cause.status if isinstance(cause, aiohttp.ClientHttpProxyError) else None
        if isinstance(cause, _ProxyRefused):
            status = cause.status
        if status == 407:
            why = f"{egress.label} refused our credentials (HTTP 407 Proxy Authentication Required)"
            rest = egress.rest(now, why)
            words = f"{why}; resting {rest:.0f} s"
            return _Shift(FetchError(words, detail=words))
        if status == 429 and isinstance(cause, aiohttp.ClientHttpProxyError):
            told = cause.headers.get("Retry-After") if cause.headers is not None else None
            wait = parse_retry_after(told) or _DEFAULT_RETRY_AFTER
            gate.blocked_until = max(gate.blocked_until, now + wait)
            words = f"{egress.label} answered HTTP 429 to a tunnel to {host} (wait {wait:.0f} s)"
            return _Shift(RateLimited(words, retry_after=wait, detail=words))
        if status is not None:
            words = f"{egress.label} could not open a tunnel to {host} (HTTP {status})"
            return _Shift(FetchError(words, detail=words))
        error = _classify(exc)
        words = self._redact.redact(f"{error.detail or error.reason} (through {egress.label})")
        if isinstance(error, FetchTimeout):
            return FetchTimeout(words, detail=words)
        return FetchError(words, reason=error.reason, detail=words)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        for client in [self._client, *(e.client for e in self._egresses.values())]:
            if client is not None:
                await client.aclose()
        for session in (self._session, self._proxy_session):
            if session is not None:
                await session.close()
        for egress in self._egresses.values():
            egress.client = None
        self._client = None
        self._session = None
        self._proxy_session = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _Routed:
    """A platform's view of the client: every request goes through its pool."""

    def __init__(self, client: HttpClient, pool: Pool) -> None:
        self._client = client
        self.pool = pool

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        validators: Mapping[str, str] | None = None,
        rate: float | None = None,
        max_bytes: int | None = None,
    ) -> Response:
        """Fetch ``url`` through the least-loaded free address of the pool."""
        return await self._client.get(
            url,
            headers=headers,
            validators=validators,
            rate=rate,
            max_bytes=max_bytes,
            pool=self.pool,
        )


class _ProxyRefused(Exception):
    """A proxy answered a plain-HTTP request itself with 407 (not the target)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _secrets_of(egress: Egress) -> list[str]:
    proxy = egress.proxy
    return proxy_secrets(egress.key) if proxy is not None else []


def _os_words(cause: aiohttp.ClientConnectorError) -> str:
    """ "connection refused" and the like, without the host (the label names it)."""
    words = cause_in_words(cause)
    return words.removesuffix(f" by {cause.host}:{cause.port}").removesuffix(
        f" to {cause.host}:{cause.port}"
    )


def _classify(exc: Exception) -> FetchError:
    """Map a transport error to FetchTimeout or FetchError(network), its cause in words."""
    # httpx-aiohttp maps every aiohttp connection error (refused, reset) to ConnectTimeout:
    # judge by the original aiohttp error when there is one. A direct request raises the
    # aiohttp error itself (its own cause, the OSError, would lose the address).
    wrapped = isinstance(exc, httpx.HTTPError | httpx.InvalidURL)
    cause = exc.__cause__ if wrapped and isinstance(exc.__cause__, Exception) else exc
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


async def _answer(
    url: str,
    status: int,
    flat: dict[str, str],
    chunks: AsyncIterator[bytes],
    *,
    cap: int,
    gate: HostGate,
) -> Response | str:
    """A redirect's next URL, or the response: 429s cool the host, the body is capped."""
    if status in _REDIRECTS and "location" in flat:
        return urljoin(url, flat["location"])
    if status == 429 or (status == 503 and "retry-after" in flat):
        wait = parse_retry_after(flat.get("retry-after")) or _DEFAULT_RETRY_AFTER
        gate.blocked_until = max(gate.blocked_until, time.monotonic() + wait)
        host = urlsplit(url).hostname or ""
        words = f"{host} answered HTTP {status} (wait {wait:.0f} s)"
        raise RateLimited(words, retry_after=wait, detail=words)
    found = _validators(flat)
    if status == 304:
        return Response(304, url, flat, b"", not_modified=True, validators=found)
    body = await _read_capped(chunks, flat, cap=cap)
    return Response(status, url, flat, body, validators=found)


async def _read_capped(
    chunks: AsyncIterator[bytes], headers: Mapping[str, str], *, cap: int
) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        words = f"the answer declares {declared} bytes, more than {cap}"
        raise ResponseTooLarge(words, detail=words)
    decoder = _Decoder(headers.get("content-encoding", "").strip().lower(), cap)
    raw_size = 0
    parts: list[bytes] = []
    async for chunk in chunks:
        raw_size += len(chunk)
        if raw_size > cap:
            words = f"the answer is larger than {cap} bytes"
            raise ResponseTooLarge(words, detail=words)
        parts.append(decoder.feed(chunk))
    return b"".join(parts)
