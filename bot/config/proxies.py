"""Proxy addresses as the operator writes them: ``http://user:password@host:port`` or ``direct``.

A proxy URL carries a password, so nothing here ever puts the URL, its password or its
user info into an error message: problems are worded by what is wrong, and
:func:`proxy_secrets` lists every form of a credential the redaction must mask.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

#: The pool entry that means "our own address, no proxy".
DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class ProxyAddress:
    """One forward proxy: where it listens and the credentials it wants (if any)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def where(self) -> str:
        """``host:port`` (IPv6 in brackets): what logs and errors may show of it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_proxy(value: str) -> ProxyAddress:
    """The proxy a configured URL names; ValueError (never quoting the URL) when invalid."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError("not a valid proxy URL (is the port a number?)") from None
    if parts.scheme != "http":
        raise ValueError(
            'use an HTTP proxy URL "http://[user:password@]host:port" or "direct" '
            "(https:// and socks proxies are not supported)"
        )
    if not parts.hostname:
        raise ValueError("the proxy URL has no host")
    if port is None:
        raise ValueError('name the proxy\'s port, as in "http://host:3128"')
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("a proxy URL has no path, query or fragment")
    if parts.username is not None and parts.password is None:
        raise ValueError('write the credentials as "user:password@" (the password is missing)')
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    try:
        f"{username or ''}:{password or ''}".encode("latin-1")
    except UnicodeEncodeError:
        # Proxy-Authorization: Basic carries Latin-1 only.
        raise ValueError("the proxy's user name and password must be Latin-1 text") from None
    return ProxyAddress(host=parts.hostname, port=port, username=username, password=password)


def proxy_secrets(value: str) -> list[str]:
    """Every form the credentials of a proxy URL may travel in, for log redaction."""
    if value.strip() == DIRECT:
        return []
    try:
        proxy = parse_proxy(value)
    except ValueError:
        return [value]  # an invalid URL is never used, but it may still hold a password
    if proxy.password is None:
        return []
    raw_userinfo = urlsplit(value.strip()).netloc.rpartition("@")[0]
    userinfo = f"{proxy.username}:{proxy.password}"
    basic = base64.b64encode(userinfo.encode("latin-1")).decode("ascii")
    found = [value, value.strip(), raw_userinfo, userinfo, basic, proxy.password]
    found.append(raw_userinfo.partition(":")[2])  # the password as written (percent-encoded)
    return list(dict.fromkeys(s for s in found if s))
