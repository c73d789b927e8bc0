"""Requests through forward proxies: httpx's proxy support on aiohttp's transport.

The target's host is first resolved and checked by the SSRF guard (``Pins``) and the proxy
is asked for that checked address, so it never resolves a name we did not check. Failures
name the proxy by host:port only: its URL holds credentials.
"""

from __future__ import annotations

import ssl
import time
from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from httpx_aiohttp import AiohttpTransport

from bot.config import HttpSettings
from bot.config.proxies import proxy_secrets
from bot.errors import FetchError, FetchTimeout, RateLimited
from bot.logs import RedactingFilter
from bot.net.causes import cause_in_words, classify
from bot.net.egress import Egress, Pins
from bot.net.limits import HostGate
from bot.net.reading import DEFAULT_RETRY_AFTER, Response, answer, parse_retry_after


class Shift(Exception):
    """This address cannot carry the request now (429, proxy failure): try another."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(error.detail or error.reason)
        self.error = error


class ProxyRefused(Exception):
    """A proxy answered a plain-HTTP request itself with 407 (not the target)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class Proxied:
    """Every configured address (one state each), and requests through the proxies."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        guarded: AbstractResolver,
        inner: AbstractResolver | None,
        ssl_context: ssl.SSLContext | bool,
    ) -> None:
        self._settings = settings
        self._inner = inner
        self._ssl = ssl_context
        self.pins = Pins(guarded)
        self.egresses: dict[str, Egress] = {}
        self.redact = RedactingFilter()
        self._session: aiohttp.ClientSession | None = None

    def egress(self, entry: str) -> Egress:
        """The state of one configured address: one IP, one budget, whichever platforms list it."""
        key = entry.strip()
        egress = self.egresses.get(key)
        if egress is None:
            taken = {e.label for e in self.egresses.values()}
            egress = self.egresses[key] = Egress.of(key, taken)
            if egress.proxy is not None:
                secrets = proxy_secrets(egress.key)
                self.redact = RedactingFilter([*self.redact.secrets, *secrets])
        return egress

    def _connections(self) -> aiohttp.ClientSession:
        """The session proxied requests share (aiohttp keys its pool by proxy and target)."""
        if self._session is None:
            # This connector resolves proxy hosts only, which the operator chose: no guard
            # here. Targets reach it as addresses the guard already checked (Pins).
            connector = aiohttp.TCPConnector(
                resolver=self._inner or DefaultResolver(),
                limit=self._settings.max_connections,
                limit_per_host=self._settings.per_host_concurrency,
                ttl_dns_cache=30,
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    def _client(self, egress: Egress) -> httpx.AsyncClient:
        if egress.client is None:
            transport = AiohttpTransport(client=self._connections(), proxy=egress.httpx_proxy())
            egress.client = httpx.AsyncClient(
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
                transport=transport,
                follow_redirects=False,
                trust_env=False,
                timeout=self._settings.timeout.total_seconds(),
                headers={"User-Agent": self._settings.user_agent},
            )
        return egress.client

    async def one(
        self, egress: Egress, url: str, headers: dict[str, str], *, cap: int, gate: HostGate
    ) -> Response | str:
        """One request through ``egress``'s proxy, to the target's checked address."""
        client = self._client(egress)
        pinned = await self.pins.pin(url)
        sent = dict(headers)
        if pinned.host_header is not None:
            sent["Host"] = pinned.host_header
        extensions = {"sni_hostname": pinned.sni} if pinned.sni else None
        request = client.build_request("GET", pinned.url, headers=sent, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            if status == 407:
                raise ProxyRefused(status)  # the proxy itself answered: our credentials
            flat = {k.lower(): v for k, v in response.headers.items()}
            return await answer(url, status, flat, response.aiter_raw(), cap=cap, gate=gate)
        finally:
            await response.aclose()

    def failure(
        self, exc: Exception, egress: Egress, gate: HostGate, host: str
    ) -> FetchError | Shift:
        """A failed proxied request in words naming the proxy by host:port, never more."""
        cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
        now = time.monotonic()
        if isinstance(cause, aiohttp.ClientProxyConnectionError):
            why = f"{egress.label} cannot be reached ({_os_words(cause)})"
            rest = egress.rest(now, why)
            words = f"{why}; resting {rest:.0f} s"
            return Shift(FetchError(words, detail=words))
        status = cause.status if isinstance(cause, aiohttp.ClientHttpProxyError) else None
        if isinstance(cause, ProxyRefused):
            status = cause.status
        if status == 407:
            why = f"{egress.label} refused our credentials (HTTP 407 Proxy Authentication Required)"
            rest = egress.rest(now, why)
            words = f"{why}; resting {rest:.0f} s"
            return Shift(FetchError(words, detail=words))
        if status == 429 and isinstance(cause, aiohttp.ClientHttpProxyError):
            told = cause.headers.get("Retry-After") if cause.headers is not None else None
            wait = parse_retry_after(told) or DEFAULT_RETRY_AFTER
            gate.blocked_until = max(gate.blocked_until, now + wait)
            words = f"{egress.label} answered HTTP 429 to a tunnel to {host} (wait {wait:.0f} s)"
            return Shift(RateLimited(words, retry_after=wait, detail=words))
        if status is not None:
            words = f"{egress.label} could not open a tunnel to {host} (HTTP {status})"
            return Shift(FetchError(words, detail=words))
        error = classify(exc)
        words = self.redact.redact(f"{error.detail or error.reason} (through {egress.label})")
        if isinstance(error, FetchTimeout):
            return FetchTimeout(words, detail=words)
        return FetchError(words, reason=error.reason, detail=words)

    async def close(self) -> None:
        """Close every proxied client and their shared session."""
        for egress in self.egresses.values():
            if egress.client is not None:
                await egress.client.aclose()
                egress.client = None
        if self._session is not None:
            await self._session.close()
            self._session = None


def _os_words(cause: aiohttp.ClientConnectorError) -> str:
    """ "connection refused" and the like, without the host (the label names it)."""
    words = cause_in_words(cause)
    return words.removesuffix(f" by {cause.host}:{cause.port}").removesuffix(
        f" to {cause.host}:{cause.port}"
    )
