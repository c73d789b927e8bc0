"""The evidence of one post: which stored post a request means, and its two files.

A journalist names a post by its link, by an official and the post's id, or by an
alert's event (the ``ev:`` button). :func:`find_by_link`, :func:`find_by_id` and
:func:`find_by_event` answer with the post, the choices, or why nothing matches: the
account is not watched, or it is watched and no such post was stored.
:func:`build_evidence` turns what the store keeps about the post into
``evidence-<platform>-<post id>.json`` (stable keys, documented in the README) and a
readable ``.html`` (Jinja2, every outside text escaped, raw fragments shown as escaped
source text, no script and no outside resource). Each fragment's SHA-256 is computed
again here and compared with the one stored with it; a mismatch is said loudly in both.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.ext.asyncio import AsyncSession

from bot.detect.state import same_text
from bot.domain import EventKind, Platform
from bot.handles import canonical_url
from bot.i18n import format_datetime, format_number, t
from bot.reports.post_links import PostLink, link_variants, looks_like_link, parse_post_link
from bot.store import evidence as store
from bot.store.evidence import AccountRef, PostRef, StoredPost, StoredVersion

#: The ``format`` of the JSON file; a change of its keys gets a new number.
FORMAT = "govwatch-evidence/1"
#: Results of checking a version's fragment against its stored SHA-256.
CHECK_OK = "ok"
CHECK_MISMATCH = "mismatch"
CHECK_NO_FRAGMENT = "no_fragment"
CHECK_NO_STORED_HASH = "no_stored_hash"
CHECK_MISSING_FRAGMENT = "missing_fragment"
#: Checks that mean the stored evidence is not what it claims to be.
FAILED_CHECKS = frozenset({CHECK_MISMATCH, CHECK_NO_STORED_HASH, CHECK_MISSING_FRAGMENT})
#: Platforms whose post ids are unique across the platform (a link need not name the account).
_GLOBAL_IDS = frozenset({Platform.YOUTUBE, Platform.X})
#: Platforms a link on an unknown host may belong to (the host is the account's).
_SITE_PLATFORMS = (Platform.RSS.value, Platform.HTML.value, Platform.MASTODON.value)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


# --- which post ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """Exactly one stored post matches."""

    post: PostRef


@dataclass(frozen=True, slots=True)
class Choices:
    """Several stored posts match (the same id on two of an official's platforms)."""

    posts: tuple[PostRef, ...]


@dataclass(frozen=True, slots=True)
class NotWatched:
    """No watched account matches: govwatch cannot have stored the post."""

    platform: str | None
    handle: str | None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class NoPost:
    """The account (or the platform's accounts) is watched, but no such post was stored."""

    platform: str | None
    #: The one account the request named, when it named one.
    account: AccountRef | None = None
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class NoEvent:
    """The event id names no event about a post."""

    event_id: str


Resolution = Found | Choices | NotWatched | NoPost | NoEvent


def _pick(posts: Sequence[PostRef], miss: NoPost) -> Resolution:
    unique = list({p.id: p for p in posts}.values())
    if not unique:
        return miss
    return Found(unique[0]) if len(unique) == 1 else Choices(tuple(unique))


def _host_of(account: AccountRef) -> str | None:
    if account.platform == Platform.MASTODON.value:
        return account.handle.partition("@")[2].split(":", 1)[0].lower() or None
    url = account.url or account.handle
    try:
        host = urlsplit(url if "://" in url else "https://" + url).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


async def _site_accounts(session: AsyncSession, host: str) -> list[AccountRef]:
    """Feeds, web pages and Mastodon accounts served from ``host``."""
    found = await store.accounts_on(session, _SITE_PLATFORMS)
    return [a for a in found if _host_of(a) == host.removeprefix("www.")]


def _handles(link: PostLink) -> list[str]:
    """Ways the account a link names may be stored (a Mastodon handle with or without port)."""
    if link.handle is None:
        return []
    handles = [link.handle]
    if link.platform is Platform.MASTODON and link.handle.count(":"):
        handles.append(link.handle.rsplit(":", 1)[0])
    return handles


async def _link_accounts(session: AsyncSession, link: PostLink) -> tuple[list[AccountRef], bool]:
    """The watched accounts a link may be a post of, and whether the link named them."""
    platform = link.platform
    if platform is None:
        return await _site_accounts(session, link.host), False
    if link.handle is not None:
        found = await store.accounts_named(session, platform.value, _handles(link))
        if found:
            return found, True
        if platform is Platform.MASTODON:
            # A path like /@name/123 on a site that is no watched Mastodon account's.
            return await _site_accounts(session, link.host), False
        if platform is not Platform.FACEBOOK:
            return [], False
    if platform is Platform.VK:
        owner = urlsplit(link.url).path.removeprefix("/wall").split("_", 1)[0]
        found = await store.accounts_named(session, platform.value, [owner])
        if found:
            return found, True
    if platform in (Platform.VK, Platform.FACEBOOK, Platform.INSTAGRAM):
        # Their post links need not name the account as it is stored: try them all.
        return await store.accounts_on(session, [platform.value]), False
    return [], False


async def find_by_link(session: AsyncSession, text: str) -> Resolution:
    """The stored post ``text`` (a post link) names.

    Raises ``InvalidLink`` (a ``UserInputError``) when ``text`` is not a web link.
    """
    link = parse_post_link(text)
    platform = link.platform.value if link.platform else None
    if link.platform in _GLOBAL_IDS and link.post_id and link.handle is None:
        # Unique on the platform: the link need not name the account.
        same = await store.posts_with_id(session, link.post_id, platform=platform)
        if same or await store.has_accounts(session, str(platform)):
            return _pick(same, NoPost(platform))
        return NotWatched(platform, None, link.host)
    accounts, named = await _link_accounts(session, link)
    if not accounts:
        return NotWatched(platform, link.handle, link.host)
    ids = [a.id for a in accounts]
    found: list[PostRef] = []
    # A post id is unique only within the account the link names (VK walls, Mastodon
    # servers and feeds number their posts each on their own).
    if link.post_id is not None and named:
        found = await store.posts_with_id(session, link.post_id, account_ids=ids)
    if not found:
        found = await store.posts_with_link(session, ids, link_variants(text))
    only = accounts[0] if len(accounts) == 1 else None
    return _pick(found, NoPost(platform or (only.platform if only else None), only))


async def find_by_id(
    session: AsyncSession, official_id: int, post_id: str, *, platform: str | None = None
) -> Resolution:
    """The stored post ``post_id`` of one official, on ``platform`` (a link names it alone)."""
    if looks_like_link(post_id):
        return await find_by_link(session, post_id)
    accounts = await store.official_accounts(session, official_id)
    if platform is not None:
        accounts = [a for a in accounts if a.platform == platform]
    if not accounts:
        return NotWatched(platform, None)
    found = await store.posts_with_id(session, post_id, account_ids=[a.id for a in accounts])
    only = accounts[0] if len(accounts) == 1 else None
    return _pick(found, NoPost(platform, only, post_id))


def _number(text: str) -> int:
    """A row id typed or carried by a button (0, which names no row, for anything else)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else 0


async def find_by_event(session: AsyncSession, event_id: str) -> Resolution:
    """The stored post the alert event ``event_id`` is about."""
    number = _number(event_id)
    about = await store.event_post(session, number)
    if about is None:
        return NoEvent(event_id)
    account_id, post_id = about
    found = await store.posts_with_id(session, post_id, account_ids=[account_id])
    return _pick(found, NoPost(None, None, post_id))


async def find_by_row(session: AsyncSession, row_id: str) -> Resolution:
    """The stored post with row id ``row_id`` (what a choice button carries)."""
    number = _number(row_id)
    return _pick(await store.post_by_row(session, number), NoPost(None, None, row_id))


# --- the evidence document ----------------------------------------------------------------


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def raw_check(raw: str | None, stored: str | None) -> tuple[str | None, str]:
    """The fragment's SHA-256 computed now, and how it compares with the stored one."""
    if raw is None:
        return None, CHECK_NO_FRAGMENT if stored is None else CHECK_MISSING_FRAGMENT
    computed = sha256_hex(raw)
    if stored is None:
        return computed, CHECK_NO_STORED_HASH
    return computed, CHECK_OK if computed == stored.strip().lower() else CHECK_MISMATCH


def govwatch_version() -> str:
    """The installed govwatch version ("unknown" when run from an uninstalled tree)."""
    try:
        return metadata.version("govwatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def iso_z(value: datetime | None) -> str | None:
    """``value`` as ISO 8601 in UTC with a ``Z`` (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time from a document or payload (``Z`` or an offset), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Sighting:
    """When a version was last seen, with its views then, and where that comes from."""

    at: datetime
    views: int | None
    source: str


def last_sighting(post: StoredPost, version: StoredVersion) -> Sighting:
    """The latest sighting of ``version``: the page window's when it is newer than stored.

    Only the latest version of a post still on the page is refreshed from
    ``account_state.extra`` (``window_at`` and the window entry's views), and only when
    the window saw the same text.
    """
    stored = Sighting(version.last_seen_at, version.views, "stored")
    latest = bool(post.versions) and version.version == post.versions[-1].version
    entry, seen = post.window_entry, parse_time(post.window_at)
    if not latest or post.deleted or entry is None or seen is None:
        return stored
    if seen <= version.last_seen_at:
        return stored
    if len(entry) > 1 and isinstance(entry[1], str) and not same_text(entry[1], version.text):
        return stored
    views = _count(entry[3]) if len(entry) > 3 else None
    return Sighting(seen, version.views if views is None else views, "window")


def _version_doc(post: StoredPost, version: StoredVersion) -> dict[str, Any]:
    computed, check = raw_check(version.raw, version.raw_sha256)
    sighting = last_sighting(post, version)
    return {
        "version": version.version,
        "text": version.text,
        "text_sha256": sha256_hex(version.text),
        "first_seen_at": iso_z(version.first_seen_at),
        "last_seen_at": iso_z(sighting.at),
        "last_seen_source": sighting.source,
        "views": sighting.views,
        "raw": version.raw,
        "raw_sha256": version.raw_sha256,
        "raw_sha256_computed": computed,
        "raw_check": check,
    }


def _deletion(post: StoredPost) -> dict[str, Any]:
    deleted = [e for e in post.events if e.kind == EventKind.POST_DELETED.value]
    return deleted[-1].payload if deleted else {}


def _post_doc(post: StoredPost, versions: list[dict[str, Any]]) -> dict[str, Any]:
    deletion = _deletion(post)
    seen = [post.last_seen_at]
    seen += [t for t in (parse_time(v["last_seen_at"]) for v in versions) if t is not None]
    seen += [t for t in (parse_time(deletion.get("last_seen_at")),) if t is not None]
    last = max(seen)
    latest = versions[-1] if versions else None
    return {
        "platform": post.account.platform,
        "post_id": post.platform_post_id,
        "url": post.url,
        "published_at": iso_z(post.published_at),
        "first_seen_at": iso_z(post.first_seen_at),
        "last_seen_at": iso_z(last),
        "views": latest["views"] if latest else post.views,
        "edited": post.edited or len(versions) > 1,
        "deleted": post.deleted,
        "deleted_at": iso_z(post.deleted_at),
        "first_missed_at": iso_z(parse_time(deletion.get("first_missed_at"))),
        "deletion_confirmed_by_polls": _count(deletion.get("misses")),
        "is_reply": post.is_reply,
        "is_repost": post.is_repost,
        "forwarded_from": post.forwarded_from,
        "versions": len(versions),
        "text_sha256": latest["text_sha256"] if latest else sha256_hex(post.text),
    }


def profile_url(account: AccountRef) -> str | None:
    """The account's public address: as stored, else the platform's canonical one."""
    if account.url:
        return account.url
    try:
        return canonical_url(Platform(account.platform), account.handle)
    except ValueError:
        return None


def evidence_document(post: StoredPost, *, generated_at: datetime) -> dict[str, Any]:
    """The JSON document of one post's evidence (the keys the README documents)."""
    versions = [_version_doc(post, v) for v in post.versions]
    failed = [v["version"] for v in versions if v["raw_check"] in FAILED_CHECKS]
    verified = sum(1 for v in versions if v["raw_check"] == CHECK_OK)
    status = "mismatch" if failed else ("ok" if verified else "unverified")
    return {
        "format": FORMAT,
        "generated_at": iso_z(generated_at),
        "generator": {"name": "govwatch", "version": govwatch_version()},
        "official": {
            "name": post.official_name,
            "names": dict(post.official_names),
            "position": post.official_position,
            "organisation": post.official_organisation,
        },
        "account": {
            "platform": post.account.platform,
            "handle": post.account.handle,
            "profile_url": profile_url(post.account),
            "watched": post.account.enabled,
        },
        "post": _post_doc(post, versions),
        "versions": versions,
        "events": [
            {
                "id": e.id,
                "kind": e.kind,
                "occurred_at": iso_z(e.occurred_at),
                "detected_at": iso_z(e.detected_at),
                "payload": e.payload,
            }
            for e in post.events
        ],
        "integrity": {"status": status, "verified": verified, "failed_versions": failed},
    }


# --- the files -----------------------------------------------------------------------------


def file_stem(platform: str, post_id: str) -> str:
    """``evidence-<platform>-<post id>``, the id made safe for a file name."""
    safe = _UNSAFE_NAME.sub("_", post_id).strip("_")[:60]
    if safe != post_id:
        # Feed guids are links: keep them apart even when they clean up alike.
        safe = f"{safe}-{sha256_hex(post_id)[:8]}" if safe else sha256_hex(post_id)[:8]
    return f"evidence-{_UNSAFE_NAME.sub('_', platform)}-{safe}"


@dataclass(frozen=True, slots=True)
class EvidenceFiles:
    """The two files of one post's evidence."""

    stem: str
    json: bytes
    html: bytes
    document: dict[str, Any]

    @property
    def json_name(self) -> str:
        """The JSON file's name."""
        return f"{self.stem}.json"

    @property
    def html_name(self) -> str:
        """The HTML file's name."""
        return f"{self.stem}.html"

    @property
    def zip_name(self) -> str:
        """The name of the archive holding both."""
        return f"{self.stem}.zip"

    @property
    def failed_versions(self) -> list[int]:
        """Versions whose fragment does not match its stored SHA-256."""
        return list(self.document["integrity"]["failed_versions"])

    def zip(self) -> bytes:
        """Both files in one ZIP archive (one attachment in chat)."""
        when = parse_time(self.document["generated_at"]) or datetime(1980, 1, 1, tzinfo=UTC)
        stamp = when.astimezone(UTC).timetuple()[:6]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in ((self.json_name, self.json), (self.html_name, self.html)):
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        return out.getvalue()


@cache
def _templates() -> Environment:
    # Autoescape everywhere: every value in the page comes from outside or from catalogs.
    return Environment(
        loader=PackageLoader("bot.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def web_href(url: object) -> str | None:
    """``url`` when it may be a link (http or https), else None (shown as text only)."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _labels(locale: str) -> Callable[..., str]:
    def label(key: str, **params: Any) -> str:
        return t(locale, f"evidence.html.{key}", **params)

    return label


def _local(locale: str, tz: str) -> Callable[[object], str]:
    def local(value: object) -> str:
        parsed = parse_time(value)
        if parsed is None:
            return t(locale, "evidence.html.unknown")
        return format_datetime(parsed, locale, tz=tz)

    return local


def _platform_label(locale: str, platform: str) -> str:
    try:
        return t(locale, f"reports.platform.{platform}")
    except KeyError:
        return platform


def render_html(document: dict[str, Any], *, locale: str, tz: str, json_name: str) -> str:
    """The readable page of an evidence document, in ``locale``, times also in ``tz``."""
    template = _templates().get_template("evidence.html")
    return template.render(
        d=document,
        lang=locale,
        zone=tz,
        json_name=json_name,
        L=_labels(locale),
        local=_local(locale, tz),
        number=lambda n: format_number(n, locale),
        href=web_href,
        platform=_platform_label(locale, document["account"]["platform"]),
        name=document["official"]["names"].get(locale) or document["official"]["name"],
        failed=FAILED_CHECKS,
    )


def build_evidence(
    post: StoredPost, *, generated_at: datetime, locale: str, tz: str
) -> EvidenceFiles:
    """The JSON and HTML files of ``post``'s evidence (generated at a whole second)."""
    document = evidence_document(post, generated_at=generated_at.replace(microsecond=0))
    data = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    stem = file_stem(post.account.platform, post.platform_post_id)
    page = render_html(document, locale=locale, tz=tz, json_name=f"{stem}.json")
    return EvidenceFiles(stem, data.encode("utf-8"), page.encode("utf-8"), document)


async def load_evidence(
    session: AsyncSession, post: PostRef, *, generated_at: datetime, locale: str, tz: str
) -> EvidenceFiles | None:
    """The evidence files of a found post (None if it vanished from the store meanwhile)."""
    stored = await store.load_post(session, post.id)
    if stored is None:
        return None
    return build_evidence(stored, generated_at=generated_at, locale=locale, tz=tz)
