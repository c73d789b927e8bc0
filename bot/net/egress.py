"""Egress: the addresses requests leave from, and how a platform's pool chooses one.

An address is ``direct`` (our own) or one forward proxy. Each address keeps, per target
host, its own request spacing, concurrency slots and 429 cooldown (``limits.HostGate``), so a
throttled address slows only its own share. A platform with ``proxies`` configured
spreads its requests over them: every request goes to the address expected to start it
soonest (least loaded: the later of its next pacing slot and now, plus what already
waits there), skipping addresses that cool down; ties rotate. No account is tied to an
address: stored validators (ETag, Last-Modified) are valid from any address, and a
deletion or absence confirmed over several polls is then confirmed from different
addresses, so one throttled address cannot fake it alone.

Proxies are trusted operator configuration: their own addresses are not checked by the
SSRF guard (a proxy on 10.0.0.5 is fine). The target is: before a proxied request its
host is resolved and checked exactly as a direct connection's would be, and the proxy is
then asked for that checked address (``http://<ip>/...`` or ``CONNECT <ip>:443`` with the
name in ``Host`` and in TLS SNI), so the proxy never resolves a name we did not check.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx
from aiohttp.abc import AbstractResolver

from bot.config.proxies import DIRECT, ProxyAddress, parse_proxy
from bot.errors import FetchError
from bot.net.guard import parse_ip

#: A proxy that cannot be reached or refuses our credentials rests this long, doubling
#: on each further failure up to the maximum, so a dead proxy costs one request per rest.
FAULT_REST = 30.0
FAULT_REST_MAX = 900.0
#: How long a checked target address is reused (as the direct connector's DNS cache).
PIN_TTL = 30.0
_PIN_CACHE_MAX = 4096


class Egress:
    """One address requests leave from: ``direct`` or a proxy (``proxy`` set)."""

    def __init__(self, key: str, label: str, proxy: ProxyAddress | None) -> None:
        #: The entry as configured (a proxy URL holds its credentials): identity only.
        self.key = key
        #: What logs, errors and metrics may show: "direct" or "proxy host:port".
        self.label = label
        self.proxy = proxy
        self.down_until = 0.0
        self.faults = 0
        #: Why it rests, in words (set with ``down_until``).
        self.fault = ""
        self.client: httpx.AsyncClient | None = None

    @classmethod
    def of(cls, entry: str, taken: set[str]) -> Egress:
        """The egress of a configured entry; ``taken`` labels get a "#n" to stay apart."""
        text = entry.strip()
        if text == DIRECT:
            return cls(DIRECT, DIRECT, None)
        proxy = parse_proxy(text)
        label = f"proxy {proxy.where}"
        number = 2
        while label in taken:
            # Several sessions of one provider's gateway share host:port, not the exit IP.
            label = f"proxy {proxy.where} #{number}"
            number += 1
        return cls(text, label, proxy)

    def httpx_proxy(self) -> httpx.Proxy:
        """The proxy for httpx-aiohttp's transport (credentials as Basic auth)."""
        assert self.proxy is not None
        proxy = self.proxy
        auth = (proxy.username or "", proxy.password or "") if proxy.password is not None else None
        host = f"[{proxy.host}]" if ":" in proxy.host else proxy.host
        return httpx.Proxy(httpx.URL(f"http://{host}:{proxy.port}"), auth=auth)

    def rest(self, now: float, why: str) -> float:
        """Take this proxy out of use after a failure; return for how many seconds."""
        wait = min(FAULT_REST * 2.0 ** min(self.faults, 16), FAULT_REST_MAX)
        self.faults += 1
        self.down_until = max(self.down_until, now + wait)
        self.fault = why
        return wait

    def served(self) -> None:
        """The proxy carried a request: forget its earlier failures."""
        self.faults = 0


class Pool:
    """A platform's addresses and the rate per address and host (None: the caller's)."""

    def __init__(self, egresses: tuple[Egress, ...], rate: float | None = None) -> None:
        self.egresses = egresses
        self.rate = rate
        #: Where the next tie goes: the address after the one chosen last.
        self.turn = 0


@dataclass(frozen=True, slots=True)
class Pinned:
    """A target rewritten to its checked address: what to ask the proxy for."""

    url: str
    host_header: str | None
    sni: str | None


class Pins:
    """Checked target addresses per (host, port), resolved through the SSRF guard."""

    def __init__(self, resolver: AbstractResolver) -> None:
        self._resolver = resolver
        self._cache: dict[tuple[str, int], tuple[float, str]] = {}

    async def pin(self, url: str) -> Pinned:
        """``url`` with its host replaced by an address the guard accepted."""
        parsed = httpx.URL(url)
        host = parsed.host
        if parse_ip(host) is not None:
            return Pinned(url, None, None)  # a literal address was judged by check_url
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        address = await self._address(host, port)
        pinned = str(parsed.copy_with(host=address))
        sni = host if parsed.scheme == "https" else None
        return Pinned(pinned, parsed.netloc.decode("ascii"), sni)

    async def _address(self, host: str, port: int) -> str:
        now = time.monotonic()
        hit = self._cache.get((host, port))
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            answers = await self._resolver.resolve(host, port, socket.AF_UNSPEC)
        except OSError as exc:
            words = f"could not resolve host {host}"
            raise FetchError(f"{words}: {exc.strerror or exc}", detail=words) from None
        if not answers:
            words = f"could not resolve host {host}"
            raise FetchError(words, detail=words)
        address = _prefer_v4([str(a["host"]) for a in answers])
        if len(self._cache) >= _PIN_CACHE_MAX:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[(host, port)] = (now + PIN_TTL, address)
        return address


def _prefer_v4(addresses: list[str]) -> str:
    """The first IPv4 answer (what proxies route most widely), else the first answer."""
    for address in addresses:
        try:
            if isinstance(ipaddress.ip_address(address), ipaddress.IPv4Address):
                return address
        except ValueError:
            continue
    return addresses[0]
