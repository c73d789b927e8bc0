"""Normalise what editors type (a handle or a profile URL) into a canonical handle and URL.

Pure functions, no I/O. ``normalize_handle`` raises ``InvalidHandle`` with a message fit
to show the editor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from bot.domain import Platform
from bot.errors import InvalidHandle

_TG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_BSKY = re.compile(r"^(did:plc:[a-z2-7]{24}|did:web:[a-z0-9.-]+|([a-z0-9-]+\.)+[a-z]{2,})$")
_MASTODON = re.compile(r"^([A-Za-z0-9_]{1,30})@([a-z0-9-]+(\.[a-z0-9-]+)+)$")
_YT_CHANNEL = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_YT_HANDLE = re.compile(r"^@[A-Za-z0-9._-]{3,30}$")
_FB_ID = re.compile(r"^(\d{5,20}|[A-Za-z0-9.]{5,50})$")
_SIMPLE = re.compile(r"^[A-Za-z0-9_.]{1,50}$")
# Also zero-width and bidi controls: invisible in chat, they disguise where a URL points.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\s\\\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _strip(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise InvalidHandle("empty handle")
    return value


def _path_parts(url: str, *hosts: str) -> list[str]:
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host not in hosts:
        raise InvalidHandle(f"{url!r} is not a {hosts[0]} address")
    return [p for p in parts.path.split("/") if p]


def _looks_like_url(value: str) -> bool:
    return "://" in value or "/" in value


def validate_url(url: str) -> str:
    """Check an http(s) URL's form (not its address): scheme, host, no userinfo or controls."""
    if _CONTROL.search(url):
        raise InvalidHandle(f"URL {url!r} contains spaces, backslashes or control characters")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 literal
        raise InvalidHandle(f"URL {url!r} is malformed") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidHandle(f"URL {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise InvalidHandle(f"URL {url!r} has no host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidHandle(f"URL {url!r} must not contain a user name or password")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise InvalidHandle(f"URL {url!r} has a malformed port") from exc
    return url


def _telegram(raw: str) -> str:
    value = _strip(raw).removeprefix("@")
    if _looks_like_url(value):
        parts = _path_parts(value, "t.me", "telegram.me")
        if parts and parts[0] == "s":
            parts = parts[1:]
        if not parts:
            raise InvalidHandle(f"{raw!r} names no channel")
        value = parts[0]
    if not _TG_NAME.match(value):
        raise InvalidHandle(f"{raw!r} is not a Telegram channel name (5-32 letters, digits, _)")
    return value.lower()


def _bluesky(raw: str) -> str:
    value = _strip(raw).removeprefix("@").lower()
    if _looks_like_url(value) and not value.startswith("did:"):
        parts = _path_parts(value, "bsky.app")
        if len(parts) < 2 or parts[0] != "profile":
            raise InvalidHandle(f"{raw!r} is not a Bluesky profile address")
        value = parts[1]
    if not _BSKY.match(value):
        raise InvalidHandle(f"{raw!r} is not a Bluesky handle (name.bsky.social) or DID")
    return value


def _mastodon(raw: str) -> str:
    value = _strip(raw).removeprefix("@")
    if _looks_like_url(value):
        parts = urlsplit(value if "://" in value else "https://" + value)
        segments = [p for p in parts.path.split("/") if p]
        if not parts.hostname or not segments or not segments[0].startswith("@"):
            raise InvalidHandle(f"{raw!r} is not a Mastodon profile address (https://host/@user)")
        value = f"{segments[0][1:]}@{parts.hostname}"
    user, _, host = value.partition("@")
    value = f"{user}@{host.lower()}"
    if not _MASTODON.match(value):
        raise InvalidHandle(f"{raw!r} is not a Mastodon account (user@instance)")
    return value


def _youtube(raw: str) -> str:
    value = _strip(raw)
    if _looks_like_url(value):
        parts = urlsplit(value if "://" in value else "https://" + value)
        segments = _path_parts(value, "youtube.com")
        query = parse_qs(parts.query)
        if "channel_id" in query:
            value = query["channel_id"][0]
        elif len(segments) >= 2 and segments[0] == "channel":
            value = segments[1]
        elif segments and segments[0].startswith("@"):
            value = segments[0]
        else:
            raise InvalidHandle(f"{raw!r} is not a YouTube channel address")
    if _YT_CHANNEL.match(value):
        return value
    if _YT_HANDLE.match(value):
        return value.lower()
    raise InvalidHandle(f"{raw!r} is not a YouTube channel id (UC...) or @handle")


def _facebook(raw: str) -> str:
    value = _strip(raw)
    if _looks_like_url(value):
        parts = urlsplit(value if "://" in value else "https://" + value)
        segments = _path_parts(value, "facebook.com", "fb.com")
        query = parse_qs(parts.query)
        if segments and segments[0] == "profile.php" and "id" in query:
            value = query["id"][0]
        elif segments:
            value = segments[-1] if segments[0] == "pages" else segments[0]
        else:
            raise InvalidHandle(f"{raw!r} names no Facebook page")
    if not _FB_ID.match(value):
        raise InvalidHandle(f"{raw!r} is not a Facebook page id or name")
    return value


def _simple(host: str, label: str) -> Callable[[str], str]:
    def normalize(raw: str) -> str:
        value = _strip(raw).removeprefix("@")
        if _looks_like_url(value):
            segments = _path_parts(value, host, *(("twitter.com",) if host == "x.com" else ()))
            if not segments:
                raise InvalidHandle(f"{raw!r} names no {label} account")
            value = segments[0]
        if not _SIMPLE.match(value):
            raise InvalidHandle(f"{raw!r} is not a {label} name")
        return value.lower()

    return normalize


def _url_handle(raw: str) -> str:
    return validate_url(_strip(raw))


_NORMALIZERS: dict[Platform, Callable[[str], str]] = {
    Platform.TELEGRAM: _telegram,
    Platform.BLUESKY: _bluesky,
    Platform.MASTODON: _mastodon,
    Platform.YOUTUBE: _youtube,
    Platform.RSS: _url_handle,
    Platform.HTML: _url_handle,
    Platform.FACEBOOK: _facebook,
    Platform.INSTAGRAM: _simple("instagram.com", "Instagram"),
    Platform.X: _simple("x.com", "X"),
    Platform.VK: _simple("vk.com", "VK"),
}


def parse_platform(name: str) -> Platform:
    """The Platform called ``name`` (case-insensitive; "twitter" means X)."""
    key = name.strip().lower()
    key = {"twitter": "x", "tg": "telegram", "bsky": "bluesky", "fb": "facebook"}.get(key, key)
    try:
        return Platform(key)
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise InvalidHandle(f"unknown platform {name!r} (known: {known})") from None


def normalize_handle(platform: Platform, raw: str) -> str:
    """The canonical handle for what an editor typed (a handle or a profile URL)."""
    try:
        return _NORMALIZERS[platform](raw)
    except ValueError as exc:  # urlsplit's own errors (e.g. "Invalid IPv6 URL")
        raise InvalidHandle(f"{raw!r} is not a valid address") from exc


def account_url(platform: Platform, raw: str, handle: str) -> str:
    """The account's address as typed where it carries more than the handle can.

    A Mastodon profile typed as ``http://host:8080/@name`` keeps its scheme and port (an
    instance on a non-standard port or plain HTTP); everything else is ``canonical_url``.
    """
    value = _strip(raw).removeprefix("@")
    if platform is Platform.MASTODON and "://" in value:
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.netloc:
            user = handle.partition("@")[0]
            return f"{parts.scheme}://{parts.netloc.lower()}/@{user}"
    return canonical_url(platform, handle)


def canonical_url(platform: Platform, handle: str) -> str:
    """The public web address of an account."""
    match platform:
        case Platform.TELEGRAM:
            return f"https://t.me/{handle}"
        case Platform.BLUESKY:
            return f"https://bsky.app/profile/{handle}"
        case Platform.MASTODON:
            user, _, host = handle.partition("@")
            return f"https://{host}/@{user}"
        case Platform.YOUTUBE:
            if handle.startswith("@"):
                return f"https://www.youtube.com/{handle}"
            return f"https://www.youtube.com/channel/{handle}"
        case Platform.FACEBOOK:
            return f"https://www.facebook.com/{handle}"
        case Platform.INSTAGRAM:
            return f"https://www.instagram.com/{handle}/"
        case Platform.X:
            return f"https://x.com/{handle}"
        case Platform.VK:
            return f"https://vk.com/{handle}"
        case Platform.RSS | Platform.HTML:
            return handle
