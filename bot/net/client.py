"""The one hardened HTTP client every source uses.

Guards: the SSRF check at connection time (``GuardedResolver``) plus a URL check on every
redirect hop, a byte cap on the raw and on the decoded body, a total deadline per fetch,
per-host concurrency and rate limits, conditional GET, and Retry-After honoured per host.
A platform with proxies configured reads through :meth:`HttpClient.via`, which spreads its
requests over its pool (``bot.net.egress`` says how, and how the guard still applies).

The parts: ``direct`` (our own address, aiohttp), ``proxied`` (forward proxies, httpx on
aiohttp), ``limits`` (per-host slots, spacing, cooldowns), ``routing`` (which address of
a pool), ``reading`` (one answer: redirects, 429s, validators, byte caps).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Protocol

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver
from pydantic import SecretStr

from bot.config import HttpSettings
from bot.config.proxies import DIRECT
from bot.errors import FetchError, FetchTimeout, GovwatchError, RateLimited, TooManyRedirects
from bot.net.causes import classify
from bot.net.direct import Direct
from bot.net.egress import Egress, Pool
from bot.net.guard import GuardedResolver, UrlGuard
from bot.net.limits import Gates, HostGate
from bot.net.proxied import Proxied, ProxyRefused, Shift
from bot.net.reading import Response, parse_retry_after, request_headers
from bot.net.routing import choose, pool_wait, unavailable

__all__ = ["Fetcher", "HttpClient", "Response", "parse_retry_after"]

#: Addresses one request may try: a 429 or a failing proxy moves it to another address.
_MAX_ATTEMPTS = 3
#: What a transport raises for a request that got no answer (mapped to FetchError).
_TRANSPORT_ERRORS = (
    ProxyRefused,
    httpx.HTTPError,
    httpx.InvalidURL,
    aiohttp.ClientError,
    OSError,
    ValueError,
)


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
        self._timeout = settings.timeout.total_seconds()
        self._rate = settings.per_host_rate
        self._cap = settings.max_response_bytes
        self._urls = UrlGuard(allow_private=settings.allow_private_networks)
        guarded = GuardedResolver(resolver, allow_private=settings.allow_private_networks)
        # None: the default verified context (a test passes one trusting its own CA).
        verify: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._gates = Gates(settings.per_host_concurrency)
        self._direct = Direct(settings, guarded, verify)
        self._proxied = Proxied(settings, guarded=guarded, inner=resolver, ssl_context=verify)

    def via(self, proxies: Sequence[SecretStr | str], *, rate: float | None = None) -> Fetcher:
        """A view spreading requests over ``proxies`` at ``rate`` each; no proxies: ``self``."""
        # "direct" in ``proxies`` is our own address; ``rate`` applies per address and host.
        if not proxies:
            return self
        entries = [p.get_secret_value() if isinstance(p, SecretStr) else p for p in proxies]
        return _Routed(self, Pool(tuple(self._proxied.egress(e) for e in entries), rate))

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
        host = self._urls.host_of(url)
        sent = request_headers(headers, validators)
        cap = max_bytes or self._cap
        if pool is not None:
            pace = pool.rate or rate or self._rate
            return await self._pooled(url, host, sent, cap=cap, rate=pace, pool=pool)
        gate = self._gates.of(DIRECT, host)
        gate.refuse_if_cooling(host)
        async with gate.slots:
            await gate.pace(rate or self._rate)
            gate.refuse_if_cooling(host)
            return await self._deadline(url, host, sent, cap=cap, gate=gate)

    def cooling_hosts(self) -> int:
        """How many (address, host) pairs wait out a 429 (or a 503 with Retry-After) now."""
        return self._gates.cooling()

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
            async with asyncio.timeout(self._timeout):
                return await self._follow(url, headers, cap=cap, gate=gate, egress=egress)
        except TimeoutError:
            words = f"no complete answer from {host} within {self._timeout:g} s"
            through = f" through {egress.label}" if egress and egress.proxy else ""
            failure = FetchTimeout(words + through, detail=words + through)
        raise failure  # outside the handler: no aiohttp error (and its proxy auth) chained

    async def _follow(
        self,
        url: str,
        headers: dict[str, str],
        *,
        cap: int,
        gate: HostGate,
        egress: Egress | None = None,
    ) -> Response:
        proxied = egress if egress is not None and egress.proxy is not None else None
        for hop in range(self._settings.max_redirects + 1):
            # The first URL was checked by ``get``; every redirect target is checked here.
            host = self._urls.host_of(url) if hop else ""
            failure: Exception | None = None
            try:
                if proxied is not None:
                    answer = await self._proxied.one(proxied, url, headers, cap=cap, gate=gate)
                else:
                    answer = await self._direct.one(url, headers, cap=cap, gate=gate)
            except GovwatchError:
                raise
            except _TRANSPORT_ERRORS as exc:
                if proxied is None:
                    raise classify(exc) from exc
                host = host or self._urls.host_of(url)
                failure = self._proxied.failure(exc, proxied, gate, host)
            if failure is not None:
                # Raised outside the handler, so not chained: aiohttp's proxy errors carry
                # the proxy URL with its password and the Proxy-Authorization header.
                raise failure
            if isinstance(answer, Response):
                return answer
            url = answer
        words = f"more than {self._settings.max_redirects} redirects"
        raise TooManyRedirects(words, detail=words)

    # -- pools ---------------------------------------------------------------------------

    async def _pooled(
        self, url: str, host: str, headers: dict[str, str], *, cap: int, rate: float, pool: Pool
    ) -> Response:
        """Try the least-loaded free address; a 429 or a proxy failure moves on to another."""
        tried: set[str] = set()
        last: FetchError | None = None
        while len(tried) < min(len(pool.egresses), _MAX_ATTEMPTS):
            chosen = choose(self._gates, pool, host, rate, tried)
            if chosen is None:
                break
            tried.add(chosen[0].key)
            try:
                return await self._attempt(url, host, headers, cap=cap, rate=rate, on=chosen)
            except Shift as shift:
                last = shift.error
        failure = last or unavailable(self._gates, pool, host)
        if isinstance(failure, RateLimited):
            # When the pool can send again, not when the address that said so can.
            failure.retry_after = pool_wait(self._gates, pool, host) or None
        raise failure

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
                    raise Shift(unavailable(self._gates, Pool((egress,)), host))
                try:
                    response = await self._deadline(
                        url, host, headers, cap=cap, gate=gate, egress=egress
                    )
                except RateLimited as exc:
                    if egress.proxy is not None and exc.detail:
                        exc.detail = f"{exc.detail} through {egress.label}"
                    raise Shift(exc) from None
                egress.served()
                return response
        finally:
            if waiting:
                gate.queued -= 1

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._proxied.close()
        await self._direct.close()

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
