"""Post links as journalists paste them: one normal form, and what the link names.

Pure functions, no I/O. Two links to the same post compare equal after
:func:`normalize_link`: the scheme (http or https), ``www.``/``m.`` hosts, host aliases
(``telegram.me``, ``twitter.com``, ``youtu.be``), Telegram's ``/s/`` preview path, a
trailing slash, the fragment and the query string (only the parameters that name the
post are kept: YouTube's ``v``, Facebook's ``story_fbid``/``id``/``fbid``; on other sites
tracking parameters are dropped and the rest sorted) do not matter.
:func:`parse_post_link` also says which platform, account and post id a link names
where the link itself says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from bot.domain import Platform
from bot.errors import UserInputError

#: Hosts that are another name of a platform's host.
_HOST_ALIASES = {
    "telegram.me": "t.me",
    "telegram.dog": "t.me",
    "twitter.com": "x.com",
    "mobile.twitter.com": "x.com",
    "mobile.x.com": "x.com",
    "fb.com": "facebook.com",
    "web.facebook.com": "facebook.com",
    "mbasic.facebook.com": "facebook.com",
    "music.youtube.com": "youtube.com",
    "youtu.be": "youtube.com",
}
_PREFIXES = ("www.", "m.", "mobile.")
#: Query parameters that name the post, per host; every other one is dropped there.
_KEPT_QUERY = {
    "youtube.com": frozenset({"v"}),
    "facebook.com": frozenset({"story_fbid", "id", "fbid"}),
}
#: Hosts whose query strings never name a post (previews, embeds, share tracking).
_NO_QUERY = frozenset({"t.me", "x.com", "bsky.app", "instagram.com", "vk.com"})
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|yclid|dclid|mc_cid|mc_eid|igshid|si|_ga)$")
#: Hosts whose first path segment is an account name, compared without case.
_CASELESS_NAME = frozenset({"t.me", "x.com", "instagram.com", "vk.com"})
_DIGITS = re.compile(r"^\d{1,20}$")
_VK_WALL = re.compile(r"^wall(-?\d+)_(\d+)$")
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
_MASTODON_USER = re.compile(r"^@([A-Za-z0-9_]{1,30})(?:@([A-Za-z0-9.-]+))?$")
_SPACES = re.compile(r"\s")


class InvalidLink(UserInputError):
    """Text that is not a web link to a post."""


@dataclass(frozen=True, slots=True)
class PostLink:
    """What a post link names; ``None`` where the link does not say."""

    #: The normal form (see :func:`normalize_link`).
    url: str
    #: The host without ``www.`` and port, after aliases.
    host: str
    platform: Platform | None = None
    #: The account's handle as govwatch stores it, when the link names the account.
    handle: str | None = None
    #: The platform's own post id (Telegram message number, Bluesky rkey, ...).
    post_id: str | None = None


def looks_like_link(text: str) -> bool:
    """True when ``text`` is meant as a web address rather than a name or a post id."""
    value = text.strip().strip("<>")
    if "://" in value:
        return True
    head = value.split("/", 1)[0]
    return "/" in value and "." in head and not head.startswith(".")


def _split(text: str) -> tuple[str, str, int | None, str, str]:
    value = text.strip().strip("<>").strip()
    if not value or _SPACES.search(value):
        raise InvalidLink(f"{text!r} is not a link")
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InvalidLink(f"{text!r} is not a valid link") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidLink(f"{text!r} is not a web link (http:// or https://)")
    if "@" in parts.netloc:
        raise InvalidLink(f"{text!r} is not a post link (it names a user, not a page)")
    return parts.scheme.lower(), parts.hostname.lower().rstrip("."), port, parts.path, parts.query


def _host(hostname: str) -> str:
    host = _HOST_ALIASES.get(hostname, hostname)
    for prefix in _PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
            break
    return _HOST_ALIASES.get(host, host)


def _segments(path: str) -> list[str]:
    return [quote(unquote(p), safe="@:!$&'()*+,;=-._~") for p in path.split("/") if p]


def _query(host: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if host in _NO_QUERY:
        return []
    kept = _KEPT_QUERY.get(host)
    if kept is not None:
        return sorted((k, v) for k, v in pairs if k in kept)
    return sorted((k, v) for k, v in pairs if not _TRACKING.match(k.lower()))


def _canonical(
    host: str, hostname: str, segments: list[str], pairs: list[tuple[str, str]]
) -> tuple[list[str], list[tuple[str, str]]]:
    """The path and query of a link, with the ways of writing one post made one."""
    if host == "t.me" and segments[:1] == ["s"]:
        segments = segments[1:]
    if host == "youtube.com":
        if hostname == "youtu.be" and segments:
            return ["watch"], [("v", segments[0])]
        if len(segments) >= 2 and segments[0] in ("shorts", "live", "embed"):
            return ["watch"], [("v", segments[1])]
    if host == "vk.com":
        # vk.com/page?w=wall-1_2 opens the post wall-1_2 over the page.
        wall = next((v for k, v in pairs if k == "w" and _VK_WALL.match(v)), None)
        if wall is not None:
            return [wall], []
    if host in _CASELESS_NAME and segments:
        segments = [segments[0].lower(), *segments[1:]]
    if host == "bsky.app" and len(segments) >= 2 and segments[0] == "profile":
        segments = [segments[0], segments[1].lower(), *segments[2:]]
    return segments, _query(host, pairs)


def normalize_link(text: str) -> str:
    """The one form of a post link that compares equal for every way of writing it."""
    _, hostname, port, path, query = _split(text)
    host = _host(hostname)
    pairs = parse_qsl(query, keep_blank_values=True)
    segments, kept = _canonical(host, hostname, _segments(path), pairs)
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    url = f"https://{netloc}/" + "/".join(segments)
    if kept:
        url += "?" + urlencode(kept)
    return url


def link_variants(text: str) -> tuple[str, ...]:
    """Ways a stored link to the same post may be written (for an exact-match lookup)."""
    scheme, hostname, port, path, query = _split(text)
    normal = normalize_link(text)
    parts = urlsplit(normal)
    hosts = {hostname, _host(hostname), "www." + _host(hostname)}
    netlocs = {h if port in (None, 80, 443) else f"{h}:{port}" for h in hosts}
    paths = {parts.path, parts.path.rstrip("/") + "/", path or "/"}
    # Feeds store non-Latin paths either way: percent-encoded or as the letters.
    paths |= {unquote(p) for p in paths}
    queries = {"", query, parts.query}
    found = {text.strip(), normal}
    for sch in {"https", "http", scheme}:
        for netloc in netlocs:
            for p in paths:
                for q in queries:
                    found.add(f"{sch}://{netloc}{p}" + (f"?{q}" if q else ""))
    return tuple(sorted(found))


def parse_post_link(text: str) -> PostLink:
    """The platform, handle and post id ``text`` names (each ``None`` when it does not say)."""
    url = normalize_link(text)
    parts = urlsplit(url)
    host = parts.hostname or ""
    segments = [unquote(p) for p in parts.path.split("/") if p]
    query = dict(parse_qsl(parts.query))
    platform, handle, post_id = _platform_of(host, parts.port, segments, query)
    return PostLink(url=url, host=host, platform=platform, handle=handle, post_id=post_id)


def _platform_of(
    host: str, port: int | None, seg: list[str], query: dict[str, str]
) -> tuple[Platform | None, str | None, str | None]:
    n = len(seg)
    if host == "t.me":
        if n >= 2 and _DIGITS.match(seg[1]) and seg[0] != "c":
            return Platform.TELEGRAM, seg[0], seg[1]
        if n >= 3 and seg[0] == "c" and _DIGITS.match(seg[2]):
            return Platform.TELEGRAM, None, seg[2]  # a private channel: never watched
        return Platform.TELEGRAM, seg[0] if seg else None, None
    if host == "bsky.app":
        if n >= 4 and seg[0] == "profile" and seg[2] == "post":
            return Platform.BLUESKY, seg[1], seg[3]
        return Platform.BLUESKY, seg[1] if n >= 2 and seg[0] == "profile" else None, None
    if host == "x.com":
        if n >= 3 and seg[1] == "status" and _DIGITS.match(seg[2]):
            return Platform.X, None if seg[0] == "i" else seg[0], seg[2]
        if n >= 4 and seg[:3] == ["i", "web", "status"] and _DIGITS.match(seg[3]):
            return Platform.X, None, seg[3]
        return Platform.X, seg[0] if seg else None, None
    if host == "youtube.com":
        video = query.get("v", "")
        return Platform.YOUTUBE, None, video if _YT_ID.match(video) else None
    if host == "vk.com":
        wall = _VK_WALL.match(seg[0]) if seg else None
        return Platform.VK, None, wall.group(2) if wall else None
    if host == "facebook.com":
        return Platform.FACEBOOK, _facebook_page(seg), None
    if host == "instagram.com":
        return Platform.INSTAGRAM, None, None
    return _mastodon(host, port, seg)


def _facebook_page(seg: list[str]) -> str | None:
    if not seg or seg[0] in ("permalink.php", "story.php", "photo.php", "watch", "groups"):
        return None
    return seg[1] if seg[0] == "pages" and len(seg) > 1 else seg[0]


def _mastodon(
    host: str, port: int | None, seg: list[str]
) -> tuple[Platform | None, str | None, str | None]:
    """``https://host/@user/123`` (or ``/users/user/statuses/123``) is a Mastodon status."""
    user: str | None = None
    post: str | None = None
    if len(seg) >= 2 and _DIGITS.match(seg[1]):
        found = _MASTODON_USER.match(seg[0])
        if found:
            user, home = found.group(1), found.group(2)
            if home:
                # Another server's account viewed here: the status id is this server's own.
                return Platform.MASTODON, f"{user}@{home.lower()}", None
            post = seg[1]
    elif len(seg) >= 4 and seg[0] == "users" and seg[2] == "statuses" and _DIGITS.match(seg[3]):
        user, post = seg[1], seg[3]
    if user is None:
        return None, None, None
    server = host if port in (None, 80, 443) else f"{host}:{port}"
    return Platform.MASTODON, f"{user}@{server}", post
