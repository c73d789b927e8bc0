"""The Source interface and the helpers every platform module shares."""

from __future__ import annotations

import html
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, TypedDict
from urllib.parse import urlsplit

from pydantic import SecretStr
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.config import Settings, SourceSettings
from bot.domain import AccountRef, Count, Observation, Platform, PostSeen, Status
from bot.errors import FetchError, ParseError, RateLimited
from bot.net.client import HttpClient, Response

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Platforms whose missing token was already logged in this process.
_TOKEN_WARNED: set[Platform] = set()


def utcnow() -> datetime:
    """The current time, aware UTC, without microseconds."""
    return datetime.now(UTC).replace(microsecond=0)


def unknown(
    account: AccountRef,
    fetched_at: datetime,
    reason: str,
    *,
    retry_after: float | None = None,
    platform: Platform | None = None,
    detail: str | None = None,
) -> Observation:
    """An ``unknown`` observation with ``reason`` (and its cause in words) and no values."""
    return Observation(
        platform=platform or account.platform,
        handle=account.handle,
        status=Status.UNKNOWN,
        fetched_at=fetched_at,
        reason=reason,
        retry_after=retry_after,
        detail=detail,
    )


def absent(platform: Platform, handle: str, fetched_at: datetime, reason: str) -> Observation:
    """An ``absent`` observation: positive evidence the account does not exist or is hidden."""
    return Observation(
        platform=platform, handle=handle, status=Status.ABSENT, fetched_at=fetched_at, reason=reason
    )


class Followers(TypedDict):
    """The follower fields of an Observation."""

    followers: int | None
    followers_exact: bool | None
    followers_margin: int


def followers_of(count: Count | int | None) -> Followers:
    """The Observation follower fields of a count (a bare int is exact, None is not given)."""
    if count is None:
        return Followers(followers=None, followers_exact=None, followers_margin=0)
    found = Count(count, exact=True) if isinstance(count, int) else count
    return Followers(
        followers=found.value, followers_exact=found.exact, followers_margin=found.margin
    )


def parse_json(body: bytes) -> Any:
    """Decode a JSON body or raise ParseError(bad_json)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"not JSON: {exc}", reason="bad_json") from exc


def parse_time(value: object) -> datetime | None:
    """Parse an ISO 8601 timestamp into aware UTC; None when missing or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def encode_validators(url: str, found: Mapping[str, str]) -> dict[str, str]:
    """Store one URL's cache validators as a JSON value keyed by the URL."""
    return {url: json.dumps(dict(found), sort_keys=True)} if found else {}


def decode_validators(account: AccountRef, url: str) -> dict[str, str]:
    """The cache validators stored for ``url`` (empty when none or unreadable)."""
    raw = account.validators.get(url)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}


@dataclass(frozen=True)
class ParseContext:
    """What a parser knows besides the bodies: whose answers they are, when and where from."""

    handle: str
    fetched_at: datetime
    # The account's options (e.g. the HTML selectors) and the operator's time zone.
    options: Mapping[str, Any] = field(default_factory=dict)
    tz: tzinfo = UTC
    # The address the first answer finally came from (after redirects); None for saved files.
    url: str | None = None
    # The account's public profile address when known (the roster's URL, ``probe --url``):
    # a source that builds addresses from it keeps its scheme and port.
    profile: str | None = None


class Source(ABC):
    """Reads one platform. ``fetch`` never raises for fetch or parse problems.

    ``responses`` names the answers ``parse`` reads, in the order the live fetch asks for
    them and ``govwatch probe --file`` takes them; every answer after the first is optional.
    """

    platform: ClassVar[Platform]
    responses: ClassVar[tuple[str, ...]]
    default_base_url: ClassVar[str] = ""
    needs_token: ClassVar[bool] = False
    # The field of this platform's settings section that holds its token.
    credential: ClassVar[str | None] = None
    exact_followers: ClassVar[bool] = True
    has_posts: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A platform class without its answers named could not be probed: fail at import.
        if "platform" in cls.__dict__ and not getattr(cls, "responses", ()):
            raise TypeError(f"{cls.__name__} must name its responses")

    @classmethod
    def parse(cls, bodies: Sequence[bytes], ctx: ParseContext) -> Observation:
        """The observation of these answers (in ``responses`` order); may raise ParseError."""
        observation = cls.parse_first(bodies[0], ctx)
        for body in bodies[1 : len(cls.responses)]:
            if not observation.ok or observation.posts_hidden:
                break  # live fetches ask no further either: a hidden account's posts are not ours
            observation = cls.parse_next(observation, body, ctx)
        return observation

    @classmethod
    @abstractmethod
    def parse_first(cls, body: bytes, ctx: ParseContext) -> Observation:
        """The observation of the first answer alone."""

    @classmethod
    def parse_next(cls, observation: Observation, body: bytes, ctx: ParseContext) -> Observation:
        """Add a later answer (e.g. the posts) to an ok observation; one-answer sources keep it."""
        return observation

    def __init__(self, *, http: HttpClient, settings: Settings) -> None:
        self.settings = settings
        # Through this platform's proxy pool when it has one; else the client itself.
        self.http = http.via(self.options.proxies, rate=self.options.proxy_rate)

    @property
    def options(self) -> SourceSettings:
        """This platform's section of ``settings.sources``."""
        section: SourceSettings = getattr(self.settings.sources, self.platform.value)
        return section

    @property
    def rate(self) -> float | None:
        """The per-host request rate this platform asks for (None: the client default)."""
        return self.options.per_host_rate

    @property
    def base_url(self) -> str:
        """This platform's configured base address, without a trailing slash."""
        return (self.options.base_url or self.default_base_url).rstrip("/")

    def token(self) -> SecretStr | None:
        """This platform's configured token, or None."""
        value = getattr(self.options, self.credential) if self.credential else None
        return value if isinstance(value, SecretStr) else None

    def has_token(self) -> bool:
        """True when the operator configured what this source needs."""
        return not self.needs_token or self.token() is not None

    async def fetch(self, account: AccountRef) -> Observation:
        """Fetch one account and classify the result as ok, absent or unknown."""
        fetched_at = utcnow()
        if self.needs_token and not self.has_token():
            if self.platform not in _TOKEN_WARNED:
                _TOKEN_WARNED.add(self.platform)
                log.warning("%s: no token configured; its accounts stay unknown", self.platform)
            return unknown(
                account,
                fetched_at,
                "token_required",
                platform=self.platform,
                detail=f"sources.{self.platform.value}.{self.credential or 'token'} is not set",
            )
        try:
            return await self._fetch(account, fetched_at)
        except RateLimited as exc:
            return unknown(
                account, fetched_at, exc.reason, retry_after=exc.retry_after, detail=exc.detail
            )
        except (FetchError, ParseError) as exc:
            log.debug("%s %s: %s", self.platform, account.handle, exc)
            return unknown(account, fetched_at, exc.reason, detail=exc.detail)
        except Exception:
            # A parser bug on one odd page must not stop the poller; it is logged loudly.
            log.exception("%s %s: unexpected error while reading", self.platform, account.handle)
            return unknown(account, fetched_at, "parser_error")

    @abstractmethod
    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        """Platform-specific fetch; may raise FetchError or ParseError."""

    async def get(self, url: str, account: AccountRef, **kwargs: Any) -> Response:
        """GET ``url`` with this account's stored validators and this platform's rate."""
        return await self.http.get(
            url, validators=decode_validators(account, url), rate=self.rate, **kwargs
        )


def not_modified(account: AccountRef, platform: Platform, fetched_at: datetime) -> Observation:
    """The observation for a 304: nothing changed since the last ok fetch."""
    return Observation(
        platform=platform,
        handle=account.handle,
        status=Status.OK,
        fetched_at=fetched_at,
        not_modified=True,
        validators=dict(account.validators),
    )


def http_failure(response: Response) -> str:
    """The reason name for an unexpected HTTP status."""
    return f"http_{response.status}"


def require_ok(response: Response, what: str = "HTTP") -> Response:
    """``response`` when it is a 200, else ParseError(http_<status>): unknown, never absent."""
    if response.status != 200:
        words = f"the server answered HTTP {response.status}"
        raise ParseError(f"{what} {response.status}", reason=http_failure(response), detail=words)
    return response


def reject_server_error(response: Response, what: str = "HTTP") -> Response:
    """``response`` unless it is a 5xx (an API's 4xx carries an error object to classify)."""
    if response.status >= 500:
        words = f"the server answered HTTP {response.status}"
        raise ParseError(f"{what} {response.status}", reason=http_failure(response), detail=words)
    return response


def bearer(token: SecretStr | None) -> dict[str, str]:
    """The ``Authorization`` header for a bearer token (``token_required`` when missing)."""
    if token is None:
        raise ParseError("no token configured", reason="token_required")
    return {"Authorization": f"Bearer {token.get_secret_value()}"}


def add_posts(
    observation: Observation, posts: tuple[PostSeen, ...], *, counted: bool = False
) -> Observation:
    """``observation`` with a later answer's posts (``counted``: none of a total 0 is no_posts)."""
    return replace(
        observation, posts=posts, no_posts=counted and not posts and observation.posts_count == 0
    )


# Elements that end a line, and those that stand apart as paragraphs (a blank line).
_LINES = frozenset(
    {"div", "li", "dt", "dd", "tr", "section", "article", "header", "footer", "aside", "nav",
     "figcaption", "address", "details", "summary", "main", "caption"}
)  # fmt: skip
_PARAGRAPHS = frozenset(
    {"p", "blockquote", "pre", "ul", "ol", "dl", "table", "figure", "hr",
     "h1", "h2", "h3", "h4", "h5", "h6"}
)  # fmt: skip
_UNSEEN = frozenset({"script", "style", "template", "head", "noscript"})
_HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
_PRE_IN, _PRE_OUT = object(), object()


class _Lines:
    """Collects text; a block boundary asks for one or two line ends, never adds more."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.ends = 0  # line ends at the end of what was written so far

    def text(self, value: str) -> None:
        if not value or (self.ends and not value.strip(" ")):
            return  # the spaces between two blocks are not a line of their own
        self.parts.append(value)
        self.ends = len(value) - len(value.rstrip("\n"))

    def boundary(self, ends: int) -> None:
        if self.parts and self.ends < ends:
            self.parts.append("\n" * (ends - self.ends))
            self.ends = ends


# What ends the inline fast path of node_text: any element that is not simply inline.
_NOT_INLINE = _LINES | _PARAGRAPHS | _UNSEEN | {"pre"}


def node_text(node: LexborNode) -> str:
    """Plain text of an element: <br> and block elements (p, li, div, h1-h6...) end lines."""
    lines = _inline_lines(node)
    return _join_lines(lines) if lines is not None else _block_text(node)


def _inline_lines(node: LexborNode) -> list[str] | None:
    """The tidied lines of an element holding only text, inline elements and <br>, else None."""
    # Equal to _block_text there: only <br> ends a line, and tidying each line collapses
    # every whitespace run (nbsp and newlines in the markup included) as _block_text does.
    # The element's own boundaries only add line ends at the edges, which tidying drops.
    walk = iter(node.traverse(include_text=True))
    first = next(walk, None)
    # A fragment's root or template content is walked from its children: not this path's.
    if first is None or first.mem_id != node.mem_id:
        return None
    root = first.tag
    if root is None or root in _UNSEEN or root == "pre" or root.startswith("-") or root == "br":
        return None
    lines: list[str] = []
    chunks: list[str] = []
    for item in walk:
        tag = item.tag
        if tag == "-text":
            chunks.append(item.text_content or "")
        elif tag == "br":
            lines.append(" ".join("".join(chunks).split()))
            chunks = []
        elif tag is None or tag in _NOT_INLINE:
            return None
    lines.append(" ".join("".join(chunks).split()))
    return lines


def _block_text(node: LexborNode) -> str:
    """node_text for any element: block boundaries, <pre> and unseen elements included."""
    out = _Lines()
    pre = 0
    # An explicit stack, not recursion: a hostile page may nest thousands of elements.
    stack: list[LexborNode | int | object] = [node]
    while stack:
        item = stack.pop()
        if item is _PRE_IN or item is _PRE_OUT:
            pre += 1 if item is _PRE_IN else -1
        elif isinstance(item, int):
            out.boundary(item)
        elif isinstance(item, LexborNode):
            tag = item.tag or ""
            if tag == "-text":
                text = (item.text_content or "").replace("\u00a0", " ")
                out.text(text if pre else _HTML_SPACE.sub(" ", text))
            elif tag == "br":
                out.parts.append("\n")
                out.ends += 1
            elif tag not in _UNSEEN and not tag.startswith("-"):
                ends = 2 if tag in _PARAGRAPHS else 1 if tag in _LINES else 0
                children: list[LexborNode | int | object] = list(item.iter(include_text=True))
                if tag == "pre":
                    children = [_PRE_IN, *children, _PRE_OUT]
                stack.extend([ends, *reversed(children), ends])
    return tidy_lines("".join(out.parts))


def tidy_lines(text: str) -> str:
    """Spaces collapsed within each line, at most one blank line in a row, no outer blanks."""
    return _join_lines([" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")])


def _join_lines(lines: list[str]) -> str:
    """Tidied lines joined, at most one blank line in a row, no outer blanks."""
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n")


def html_to_text(markup: str | None) -> str:
    """Plain text of an HTML fragment (as :func:`node_text`); bare text keeps its lines."""
    if not markup:
        return ""
    if not _HTML_TAG.search(markup):
        # Feeds also carry plain text (type="text"): there a newline is a line break.
        return tidy_lines(html.unescape(markup))
    tree = LexborHTMLParser(f"<div id='gw-root'>{markup}</div>")
    root = tree.css_first("#gw-root")
    return node_text(root) if root is not None else ""


def raw_json(value: object) -> str:
    """The evidence text of an API object: its JSON, keys sorted, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def error_of(data: object) -> str | None:
    """The ``error`` string of a JSON error object, or None."""
    if isinstance(data, dict):
        value = data.get("error")
        if isinstance(value, str):
            return value
    return None


def newest_first(posts: Iterable[PostSeen]) -> tuple[PostSeen, ...]:
    """Posts sorted newest first; undated posts keep their page order at the end."""
    items = list(posts)
    dated = [p for p in items if p.published_at is not None]
    dated.sort(key=lambda p: p.published_at or _EPOCH, reverse=True)
    return tuple(dated) + tuple(p for p in items if p.published_at is None)


def obj(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def seq(value: object) -> list[Any]:
    """``value`` when it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


# A wall is told by its structure, never by a word somewhere in the page: a channel
# whose post says "Login" or "cookie" is not a login wall or a consent page.
# Login: a password field or a form made for signing in, outside the site's header,
# menu or footer (many official sites put a small sign-in box there on every page);
# a redirect (meta refresh, canonical address or the final URL) to a sign-in path.
_LOGIN_FORM = re.compile(r"log_?-?in|sign_?-?in|(^|[^a-z])(auth|sso|signon)([^a-z]|$)")
_LOGIN_PATH = re.compile(
    r"/(accounts/)?(log_?-?in|sign_?-?in|signon|auth|sso|oauth|session|checkpoint)(/|\?|#|\.|$)",
    re.IGNORECASE,
)
_CHROME = frozenset({"header", "nav", "footer", "aside"})
_CHROME_NAME = re.compile(r"(^|[^a-z])(header|footer|nav|navbar|menu|topbar|sidebar)([^a-z]|$)")
# Consent: the containers of the consent platforms sites use (OneTrust, Cookiebot,
# Usercentrics, Didomi, Quantcast, TrustArc, consentmanager, Google Funding Choices,
# Sourcepoint, Osano/cookieconsent, CookieLawInfo, Facebook's own), Google's consent
# interstitial (a form posting to consent.google.com / consent.youtube.com), a dialog
# named for cookies or consent, or a redirect to a consent host.
_CONSENT_CONTAINERS = (
    "#onetrust-consent-sdk, #onetrust-banner-sdk, #CybotCookiebotDialog, #usercentrics-root,"
    " #didomi-host, .qc-cmp2-container, #truste-consent-track, #cmpbox, .fc-consent-root,"
    " #sp_message_container, .cc-window, #cookie-law-info-bar,"
    " [data-testid=cookie-policy-manage-dialog]"
)
_CONSENT_HOST = re.compile(r"^(consent|guce|cmp)\.|^myprivacy\.", re.IGNORECASE)
_CONSENT_NAME = re.compile(r"cookie|consent|gdpr", re.IGNORECASE)


def wall_reason(body: bytes, url: str | None = None) -> str:
    """Why a page lacks its content (login_wall, consent_page, layout_changed), by structure."""
    # From forms, known containers and redirect targets, and the address the page finally
    # came from (``url``): never from its words.
    tree = LexborHTMLParser(body[:500_000])
    targets = [t for t in (url, *_redirect_targets(tree)) if t]
    if _login_form(tree) or any(_LOGIN_PATH.search(urlsplit(t).path) for t in targets):
        return "login_wall"
    if _consent_dialog(tree) or any(_CONSENT_HOST.search(_host(t)) for t in targets):
        return "consent_page"
    return "layout_changed"


def _redirect_targets(tree: LexborHTMLParser) -> list[str]:
    """Where the page sends the reader: meta refresh, canonical and og:url addresses."""
    found: list[str] = []
    for meta in tree.css("meta[http-equiv]"):
        if (meta.attributes.get("http-equiv") or "").lower() == "refresh":
            _, _, target = (meta.attributes.get("content") or "").partition("=")
            found.append(target.strip(" '\""))
    for node in tree.css('link[rel=canonical], meta[property="og:url"]'):
        found.append(node.attributes.get("href") or node.attributes.get("content") or "")
    return found


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _login_form(tree: LexborHTMLParser) -> bool:
    """A password field, or a form made for signing in, in the page's own content."""
    for box in tree.css("input"):
        if (box.attributes.get("type") or "").lower() == "password" and not _in_chrome(box):
            return True
    for form in tree.css("form"):
        names = " ".join(form.attributes.get(k) or "" for k in ("action", "id", "name", "class"))
        if _LOGIN_FORM.search(names.lower()) and not _in_chrome(form):
            return True
    return False


def _in_chrome(node: LexborNode) -> bool:
    """True inside the site's header, menu, footer or sidebar."""
    parent = node.parent
    while parent is not None:
        names = f"{parent.attributes.get('id') or ''} {parent.attributes.get('class') or ''}"
        if parent.tag in _CHROME or _CHROME_NAME.search(names.lower()):
            return True
        parent = parent.parent
    return False


def _consent_dialog(tree: LexborHTMLParser) -> bool:
    """A consent platform's container, Google's consent form or a cookie/consent dialog."""
    if tree.css_first(_CONSENT_CONTAINERS) is not None:
        return True
    for form in tree.css("form[action]"):
        if _CONSENT_HOST.search(_host(form.attributes.get("action") or "")):
            return True
    for dialog in tree.css("dialog, [role=dialog], [role=alertdialog], [aria-modal=true]"):
        names = " ".join(
            dialog.attributes.get(k) or "" for k in ("id", "class", "aria-label", "aria-labelledby")
        )
        if _CONSENT_NAME.search(names):
            return True
    return False
