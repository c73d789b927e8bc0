"""SSRF guard: which URLs and addresses govwatch may connect to.

The address check runs inside an aiohttp resolver, so the connector connects only to the
addresses that were checked (no second DNS lookup between check and connect).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.errors import BlockedAddress, InvalidURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CONTROL = re.compile(r"[\x00-\x20\x7f\\]")
# Legacy IPv4 spellings inet_aton accepts: decimal, hex, octal and short ("127.1").
_NUMERIC_V4 = re.compile(r"(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+)){0,3}", re.IGNORECASE)
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
# Cloud metadata endpoints outside the ranges refused anyway (AWS IPv6, Alibaba, Oracle).
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses tunnelled inside an IPv6 address (mapped, NAT64, 6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def refusal(ip: IPAddress) -> str | None:
    """Why connecting to ``ip`` is refused, or None when it is a public unicast address."""
    if ip in _METADATA:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(ip):
            why = refusal(inner)
            if why is not None:
                return f"{why} (embedded in {ip})"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not globally routable"),
    )
    for failed, why in checks:
        if failed:
            return why
    return None


def parse_ip(host: str) -> IPAddress | None:
    """The IP address a URL host names literally (brackets and zone ids removed), or None."""
    value = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        pass
    # "2130706433", "0x7f000001", "0177.0.0.1" and "127.1" all name 127.0.0.1 for some
    # resolver or client: judge them by the address they name.
    if _NUMERIC_V4.fullmatch(value):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(value))
        except OSError:
            return None
    return None


def check_url(url: str, *, allow_private: bool) -> str:
    """Refuse URLs govwatch never fetches; return the URL unchanged when it is acceptable."""
    if _CONTROL.search(url):
        raise InvalidURL(
            f"URL has spaces, backslashes or control characters: {url!r}",
            detail="the URL has spaces, backslashes or control characters",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidURL(
            f"only http and https are fetched: {url!r}", detail="only http and https are fetched"
        )
    if "@" in parts.netloc:
        raise InvalidURL(
            f"URL with a user name or password refused: {url!r}",
            detail="a URL with a user name or password is refused",
        )
    if not parts.hostname:
        raise InvalidURL(f"URL has no host: {url!r}", detail="the URL has no host")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise InvalidURL(
            f"URL has a malformed port: {url!r}", detail="the URL has a malformed port"
        ) from exc
    ip = parse_ip(parts.hostname)
    if ip is not None and not allow_private:
        why = refusal(ip)
        if why is not None:
            words = f"{parts.hostname} is {why}"
            raise BlockedAddress(words, detail=words)
    return url


#: Hosts whose verdict one ``UrlGuard`` remembers (a poller reads from a few hosts).
_VERDICTS_MAX = 1024


class UrlGuard:
    """``check_url`` for one client, remembering each accepted origin.

    Every check but the one for control characters depends only on the scheme and the
    netloc, which end at the first "/", "?" or "#" after "://": a URL starting with an
    origin already accepted needs no second parse. Refusals are not kept (they raise
    every time). Per client, not per process: a test may change ``refusal``.
    """

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        #: "http://host:port" as written -> the host, lower-cased.
        self._hosts: dict[str, str] = {}

    def host_of(self, url: str) -> str:
        """Refuse what ``check_url`` refuses; else the URL's host, lower-cased."""
        if _CONTROL.search(url):
            check_url(url, allow_private=self.allow_private)  # raises, in its words
        origin = _origin(url)
        host = self._hosts.get(origin)
        if host is None:
            check_url(url, allow_private=self.allow_private)
            host = (urlsplit(url).hostname or "").lower()
            if len(self._hosts) >= _VERDICTS_MAX:
                self._hosts.clear()
            self._hosts[origin] = host
        return host


def _origin(url: str) -> str:
    """``url`` up to the end of its netloc (all of it when there is no "://")."""
    start = url.find("://")
    if start < 0:
        return url
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start + 3)
        if 0 <= found < end:
            end = found
    return url[:end]


class GuardedResolver(AbstractResolver):
    """Resolves names with ``inner`` and refuses the name if any answer is not public."""

    def __init__(
        self, inner: AbstractResolver | None = None, *, allow_private: bool = False
    ) -> None:
        self._inner = inner  # the default one is made on first use: it needs a running loop
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` and return only checked addresses (all or nothing)."""
        if self._inner is None:
            self._inner = DefaultResolver()
        answers = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return answers
        for answer in answers:
            ip = parse_ip(answer["host"])
            why = "unparsable" if ip is None else refusal(ip)
            if why is not None:
                # One bad answer condemns the name: a rebinding attacker mixes answers.
                words = f"{host} resolves to {answer['host']} ({why})"
                raise BlockedAddress(words, detail=words)
        if not answers:
            raise BlockedAddress(
                f"{host} resolves to nothing", detail=f"{host} resolves to nothing"
            )
        return answers

    async def close(self) -> None:
        """Release the inner resolver."""
        if self._inner is not None:
            await self._inner.close()
