"""Requests from our own address, straight over aiohttp (no httpx layer: a third of a
poll's CPU went there), connecting only to addresses the SSRF guard's resolver checked."""

from __future__ import annotations

import ssl

import aiohttp
from aiohttp.abc import AbstractResolver

from bot.config import HttpSettings
from bot.net.limits import HostGate
from bot.net.reading import Response, answer


class Direct:
    """The direct session (made on first use: aiohttp needs a running loop) and one request."""

    def __init__(
        self, settings: HttpSettings, resolver: AbstractResolver, ssl_context: ssl.SSLContext | bool
    ) -> None:
        self._settings = settings
        self._resolver = resolver
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The one pooled session of direct requests."""
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
                # No timer of aiohttp's own per request: the client's deadline (one
                # asyncio.timeout over every hop and the body) bounds each fetch.
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=False,  # reading.Decoder decodes, under the byte cap
            )
        return self._session

    async def one(
        self, url: str, headers: dict[str, str], *, cap: int, gate: HostGate
    ) -> Response | str:
        """One request: the next URL of a redirect, or the finished response."""
        async with self.session().get(url, headers=headers, allow_redirects=False) as response:
            flat = {k.lower(): v for k, v in response.headers.items()}
            chunks = response.content.iter_any()
            return await answer(url, response.status, flat, chunks, cap=cap, gate=gate)

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
