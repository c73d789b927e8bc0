"""Reading one answer: redirects, 429 cooldowns, conditional GET and the byte caps.

Both transports (direct aiohttp, proxied httpx) hand their answer here as a status, the
headers with lower-cased names and the raw body chunks; what comes back is the next URL
of a redirect or the finished ``Response``.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.errors import FetchError, RateLimited, ResponseTooLarge
from bot.net.limits import HostGate

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER = 24 * 3600.0
DEFAULT_RETRY_AFTER = 60.0


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
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Decoder:
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
        """The decoded bytes of ``chunk``; raises once the decoded total passes the cap."""
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


def request_headers(
    headers: Mapping[str, str] | None, validators: Mapping[str, str] | None
) -> dict[str, str]:
    """What one request sends: the caller's headers, compression and the validators."""
    out = {"Accept-Encoding": "gzip, deflate"}
    if headers:
        out.update(headers)
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


async def answer(
    url: str,
    status: int,
    flat: dict[str, str],
    chunks: AsyncIterator[bytes],
    *,
    cap: int,
    gate: HostGate,
) -> Response | str:
    """A redirect's next URL, or the response: 429s cool the host, the body is capped."""
    if status in REDIRECTS and "location" in flat:
        return urljoin(url, flat["location"])
    if status == 429 or (status == 503 and "retry-after" in flat):
        wait = parse_retry_after(flat.get("retry-after")) or DEFAULT_RETRY_AFTER
        gate.blocked_until = max(gate.blocked_until, time.monotonic() + wait)
        host = urlsplit(url).hostname or ""
        words = f"{host} answered HTTP {status} (wait {wait:.0f} s)"
        raise RateLimited(words, retry_after=wait, detail=words)
    found = _validators(flat)
    if status == 304:
        return Response(304, url, flat, b"", not_modified=True, validators=found)
    body = await read_capped(chunks, flat, cap=cap)
    return Response(status, url, flat, body, validators=found)


async def read_capped(
    chunks: AsyncIterator[bytes], headers: Mapping[str, str], *, cap: int
) -> bytes:
    """The decoded body, refused when its raw or decoded size passes ``cap``."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        words = f"the answer declares {declared} bytes, more than {cap}"
        raise ResponseTooLarge(words, detail=words)
    encoding = headers.get("content-encoding", "").strip().lower()
    decoder = Decoder(encoding, cap) if encoding not in ("", "identity") else None
    raw_size = 0
    parts: list[bytes] = []
    async for chunk in chunks:
        raw_size += len(chunk)
        if raw_size > cap:
            words = f"the answer is larger than {cap} bytes"
            raise ResponseTooLarge(words, detail=words)
        # An identity body is its raw bytes: the raw cap above is the decoded cap too.
        parts.append(chunk if decoder is None else decoder.feed(chunk))
    return parts[0] if len(parts) == 1 else b"".join(parts)
