# ruff: noqa: E501 - the page templates keep the real pages' long lines verbatim
"""The demo world: t.me pages, a Bluesky-like API, a Graph-like API and RSS on loopback.

Every response copies the structure of the real platform (see tests/data), so govwatch's
real sources read them unchanged. The world's state evolves with :meth:`World.advance`
(world seconds); :meth:`World.start` serves it and advances it in the background at
``speed`` world seconds per real second. Post timestamps are real (UTC now), so the app's
clock, silence and report periods work as in production.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any

from aiohttp import web

from bot.demo import script
from bot.demo.script import AccountPlan, Happening
from bot.domain import Platform

#: The placeholder host of rss URLs in the demo roster.
PLACEHOLDER = "https://demo.invalid"
#: The token the Graph-like API accepts.
DEMO_TOKEN = "demo-token"  # noqa: S105 - a public placeholder, not a secret
#: Prefix of every platform's routes; base URLs are ``<world>/<prefix>``.
PREFIX = {
    # t.me paths at the root: the Telegram source recognises /s/ pages by their path.
    Platform.TELEGRAM: "",
    Platform.BLUESKY: "/bsky",
    Platform.FACEBOOK: "/graph/v21.0",
    Platform.RSS: "/rss",
}
_HISTORY_DAYS = (0.3, 0.8, 1.4, 2.1, 3.0, 4.2, 5.5, 6.3, 8.0, 10.5, 13.0, 16.0)


@dataclass(slots=True)
class WorldPost:
    """One post in the world (ids increase with time)."""

    id: int
    text: str
    published_at: datetime
    views: int
    edited: bool = False
    deleted: bool = False


@dataclass(slots=True)
class WorldAccount:
    """One account in the world and its mutable state."""

    platform: Platform
    handle: str
    plan: AccountPlan
    number: int
    followers: float
    post_every: float | None
    next_post_in: float
    posts: list[WorldPost] = field(default_factory=list)
    failing: bool = False
    text_index: int = 0

    @property
    def visible(self) -> list[WorldPost]:
        """Posts not deleted, oldest first."""
        return [p for p in self.posts if not p.deleted]

    @property
    def slug(self) -> str:
        """The handle's last path segment (used for rss URLs)."""
        return self.handle.rstrip("/").rsplit("/", 1)[-1]


def abbreviate(value: int) -> str:
    """Telegram's /s/ style: 912, 9.87K, 48.2K, 104K, 1.23M."""
    if value < 1000:
        return str(value)
    for size, suffix in ((1_000_000, "M"), (1000, "K")):
        if value >= size:
            scaled = value / size
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            text = f"{scaled:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{scaled:.0f}"
            return text + suffix
    return str(value)  # pragma: no cover


def spaced(value: int) -> str:
    """An exact count with space separators, as on the plain t.me page ("48 213")."""
    return f"{value:,}".replace(",", " ")


class World:
    """The simulated platforms and their evolution."""

    def __init__(
        self,
        *,
        speed: float = 60.0,
        seed: int = 2021,
        plans: dict[tuple[Platform, str], AccountPlan] | None = None,
        plot: tuple[Happening, ...] = script.PLOT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.speed = speed
        self.clock = clock
        self.elapsed = 0.0
        self.base_url = ""
        self._rng = random.Random(seed)
        self._plot = sorted(plot, key=lambda h: h.at)
        self._plans = plans or script.PLANS
        self.accounts: dict[tuple[Platform, str], WorldAccount] = {}
        self.populate()
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None

    # --- state -------------------------------------------------------------------------

    def populate(self) -> None:
        """(Re)build every account and its history relative to now (before anyone reads)."""
        self.accounts = {
            key: self._make_account(key, plan, number)
            for number, (key, plan) in enumerate(self._plans.items(), start=1)
        }

    def _make_account(
        self, key: tuple[Platform, str], plan: AccountPlan, number: int
    ) -> WorldAccount:
        platform, handle = key
        every = None if plan.goes_silent else plan.post_every
        acc = WorldAccount(
            platform=platform,
            handle=handle,
            plan=plan,
            number=number,
            followers=float(plan.followers),
            post_every=every,
            next_post_in=self._gap(every) if every else 0.0,
        )
        now = self.clock()
        if plan.post_every is None:
            newest = timedelta(days=plan.dormant_days)
            ages = [newest + timedelta(days=d * 9) for d in range(6)]
        else:
            if plan.goes_silent:
                first = (script.SILENT_AFTER - script.SILENCE_LEAD) / self.speed
            else:
                # well inside the silence threshold, so nobody looks silent at first sight
                first = self._rng.uniform(0.05, 0.25) * script.SILENT_AFTER / self.speed
            ages = [timedelta(seconds=first)] + [timedelta(days=d) for d in _HISTORY_DAYS]
        for age in sorted(ages, reverse=True):
            self._add_post(acc, now - age)
        return acc

    def _gap(self, every: float) -> float:
        # Never longer than half the silence threshold: only the scripted
        # minister goes silent.
        return min(self._rng.expovariate(1 / every) + 0.2 * every, script.SILENT_AFTER * 0.45)

    def _add_post(self, acc: WorldAccount, when: datetime) -> WorldPost:
        texts = script.TEXTS[acc.plan.topic]
        text = texts[acc.text_index % len(texts)]
        acc.text_index += 1
        number = 100 + len(acc.posts) * 3 + acc.text_index % 3
        reach = max(int(acc.followers * self._rng.uniform(0.15, 0.6)), 3)
        post = WorldPost(id=number, text=text, published_at=when, views=reach)
        acc.posts.append(post)
        return post

    def advance(self, seconds: float) -> None:
        """Move the world ``seconds`` of world time forward: growth, posts, the plot."""
        start, self.elapsed = self.elapsed, self.elapsed + seconds
        hours = seconds / script.HOUR
        for acc in self.accounts.values():
            acc.followers += acc.plan.growth_per_hour * hours * self._rng.uniform(0.5, 1.5)
            if acc.post_every is None:
                continue
            acc.next_post_in -= seconds
            if acc.next_post_in <= 0:
                self._add_post(acc, self.clock())
                acc.next_post_in = self._gap(acc.post_every)
        for happening in self._plot:
            if start <= happening.at < self.elapsed:
                self._apply(happening)

    def _apply(self, happening: Happening) -> None:
        acc = self.accounts[(happening.platform, happening.handle)]
        match happening.kind:
            case "jump":
                acc.followers += happening.amount
            case "delete":
                visible = acc.visible
                if len(visible) >= 3:
                    visible[-2].deleted = True
            case "edit":
                newest = acc.visible[-1]
                newest.text += script.EDIT_SUFFIX
                newest.edited = True
            case "fail":
                acc.failing = True
            case "recover":
                acc.failing = False

    def account(self, platform: Platform, handle: str) -> WorldAccount | None:
        """The account the world serves for ``platform``/``handle``, if any."""
        return self.accounts.get((platform, handle))

    # --- serving -----------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving every platform."""
        app = web.Application()
        tg, bs, fb, rss = (
            PREFIX[p]
            for p in (Platform.TELEGRAM, Platform.BLUESKY, Platform.FACEBOOK, Platform.RSS)
        )
        app.router.add_get(f"{bs}/xrpc/app.bsky.actor.getProfile", self._bs_profile)
        app.router.add_get(f"{bs}/xrpc/app.bsky.feed.getAuthorFeed", self._bs_feed)
        app.router.add_get(f"{fb}/{{page}}/posts", self._fb_posts)
        app.router.add_get(f"{fb}/{{page}}", self._fb_page)
        app.router.add_get(f"{rss}/{{name}}", self._rss)
        app.router.add_get(f"{tg}/s/{{channel}}", self._tg_preview)
        app.router.add_get(f"{tg}/{{channel}}", self._tg_plain)
        return app

    def base_urls(self) -> dict[Platform, str]:
        """The base URL of every platform, for settings.sources.<platform>.base_url."""
        return {platform: self.base_url + prefix for platform, prefix in PREFIX.items()}

    def rss_url(self, placeholder_url: str) -> str:
        """The loopback URL of a feed written with the placeholder host."""
        return placeholder_url.replace(PLACEHOLDER + "/rss", self.base_url + PREFIX[Platform.RSS])

    async def start(self, *, host: str = "127.0.0.1", port: int = 0, evolve: bool = True) -> str:
        """Serve the world on ``host``:``port`` (0: any free port); return its base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        self.base_url = f"http://{host}:{bound}"
        if evolve:
            self.begin()
        return self.base_url

    def begin(self, *, delay: float = 0.0) -> None:
        """Start the evolution after ``delay`` real seconds (e.g. once baselines are read)."""
        if self._task is None:
            self._task = asyncio.create_task(self._evolve(delay=delay), name="demo-world")

    async def _evolve(self, *, delay: float = 0.0, step: float = 0.25) -> None:
        await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(step)
            now = loop.time()
            self.advance((now - last) * self.speed)
            last = now

    async def stop(self) -> None:
        """Stop evolving and serving."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _find(self, platform: Platform, handle: str) -> WorldAccount | None:
        if platform is Platform.RSS:
            for acc in self.accounts.values():
                if acc.platform is Platform.RSS and acc.slug == handle:
                    return acc
            return None
        if platform is Platform.BLUESKY and handle.startswith("did:"):
            for acc in self.accounts.values():
                if acc.platform is Platform.BLUESKY and _did(acc) == handle:
                    return acc
            return None
        return self.accounts.get((platform, handle.lower()))

    # --- Telegram ----------------------------------------------------------------------

    async def _tg_preview(self, request: web.Request) -> web.StreamResponse:
        acc = self._find(Platform.TELEGRAM, request.match_info["channel"])
        if acc is None:
            raise web.HTTPFound(f"{PREFIX[Platform.TELEGRAM]}/{request.match_info['channel']}")
        if acc.failing:
            return _unavailable()
        return _html(tg_preview_page(acc, "https://t.me"))

    async def _tg_plain(self, request: web.Request) -> web.StreamResponse:
        acc = self._find(Platform.TELEGRAM, request.match_info["channel"])
        if acc is not None and acc.failing:
            return _unavailable()
        return _html(tg_plain_page(acc, request.match_info["channel"]))

    # --- Bluesky -----------------------------------------------------------------------

    def _bs_account(self, request: web.Request) -> WorldAccount | web.Response:
        acc = self._find(Platform.BLUESKY, request.query.get("actor", ""))
        if acc is None:
            body = {"error": "InvalidRequest", "message": "Profile not found"}
            return web.json_response(body, status=400)
        if acc.failing:
            return _unavailable()
        return acc

    async def _bs_profile(self, request: web.Request) -> web.StreamResponse:
        acc = self._bs_account(request)
        if isinstance(acc, web.Response):
            return acc
        return web.json_response(bluesky_profile(acc))

    async def _bs_feed(self, request: web.Request) -> web.StreamResponse:
        acc = self._bs_account(request)
        if isinstance(acc, web.Response):
            return acc
        limit = _int(request.query.get("limit"), 50, 1, 100)
        return web.json_response(bluesky_feed(acc, limit=limit))

    # --- Facebook Graph ----------------------------------------------------------------

    def _fb_account(self, request: web.Request) -> WorldAccount | web.Response:
        token = request.query.get("access_token") or request.headers.get(
            "Authorization", ""
        ).removeprefix("Bearer ")
        if token != DEMO_TOKEN:
            return _graph_error("An access token is required to request this resource.", 104, 400)
        acc = self._find(Platform.FACEBOOK, request.match_info["page"])
        if acc is None:
            message = f"Unsupported get request. Object with ID '{request.match_info['page']}'"
            return _graph_error(message + " does not exist.", 100, 400, kind="GraphMethodException")
        if acc.failing:
            return _graph_error("An unexpected error has occurred.", 2, 500)
        return acc

    async def _fb_page(self, request: web.Request) -> web.StreamResponse:
        acc = self._fb_account(request)
        if isinstance(acc, web.Response):
            return acc
        fields = request.query.get("fields", "name,followers_count,fan_count").split(",")
        return web.json_response(facebook_page(acc, fields))

    async def _fb_posts(self, request: web.Request) -> web.StreamResponse:
        acc = self._fb_account(request)
        if isinstance(acc, web.Response):
            return acc
        limit = _int(request.query.get("limit"), 25, 1, 100)
        return web.json_response(facebook_posts(acc, self.base_url, limit=limit))

    # --- RSS ---------------------------------------------------------------------------

    async def _rss(self, request: web.Request) -> web.StreamResponse:
        acc = self._find(Platform.RSS, request.match_info["name"])
        if acc is None:
            raise web.HTTPNotFound()
        if acc.failing:
            return _unavailable()
        body = rss_feed(acc, self.base_url).encode()
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, content_type="application/rss+xml", charset="utf-8", headers={"ETag": etag}
        )


# --- responses (pure functions of the state, so tests can call them directly) ----------


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _unavailable() -> web.Response:
    # No Retry-After: the client would then pause the whole host, i.e. every platform.
    return web.Response(status=503, text="Service Unavailable")


def _graph_error(
    message: str, code: int, status: int, *, kind: str = "OAuthException"
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AdemoTrace"}}
    return web.json_response(body, status=status)


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(raw or default), low), high)
    except ValueError:
        return default


def _data_view(acc: WorldAccount, post: WorldPost) -> str:
    payload = {
        "c": -(1_500_000_000 + acc.number),
        "p": post.id,
        "t": int(post.published_at.timestamp()),
        "h": hashlib.sha1(f"{acc.handle}{post.id}".encode(), usedforsecurity=False).hexdigest()[
            :18
        ],
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _tg_message(acc: WorldAccount, post: WorldPost, public: str) -> str:
    channel = acc.handle
    title = escape(acc.plan.title)
    edited = "edited &nbsp;" if post.edited else ""
    stamp = post.published_at.astimezone(UTC)
    return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{channel}/{post.id}" data-view="{_data_view(acc, post)}">
  <div class="tgme_widget_message_user"><a href="{public}/{channel}"><i class="tgme_widget_message_user_photo bgcolor3" data-content="{title[:1]}"></i></a></div>
  <div class="tgme_widget_message_bubble">
    <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="{public}/{channel}"><span dir="auto">{title}</span></a></div>
<div class="tgme_widget_message_text js-message_text" dir="auto">{escape(post.text)}</div>
<div class="tgme_widget_message_footer compact js-message_footer">
  <div class="tgme_widget_message_info short js-message_info">
    <span class="tgme_widget_message_views">{abbreviate(post.views)}</span><span class="copyonly"> views</span><span class="tgme_widget_message_meta">{edited}<a class="tgme_widget_message_date" href="{public}/{channel}/{post.id}"><time datetime="{stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00")}" class="time">{stamp.strftime("%H:%M")}</time></a></span>
  </div>
</div>
  </div>
</div></div>"""


def tg_preview_page(acc: WorldAccount, public: str) -> str:
    """The t.me/s/<channel> page: header counters and the newest 20 messages."""
    posts = acc.visible[-20:]
    title = escape(acc.plan.title)
    channel = acc.handle
    prev = (
        f'<link rel="prev" href="/s/{channel}?before={posts[0].id}">'
        if len(acc.visible) > 20
        else ""
    )
    messages = "".join(_tg_message(acc, p, public) for p in posts)
    photos = 40 + len(acc.posts) * 2
    return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{title} – Telegram</title>
    <meta property="og:title" content="{title}">
    <meta property="og:site_name" content="Telegram">
    <meta property="og:description" content="{title}: официальный канал (демо)">
    {prev}
<link rel="canonical" href="/s/{channel}?before={posts[-1].id + 1 if posts else 1}">
  </head>
  <body class="widget_frame_base tgme_webpreview mobile emoji_image thin_box_shadow tme_mode no_transitions">
    <header class="tgme_header search_collapsed">
  <div class="tgme_container">
    <div class="tgme_header_right_column">
      <section class="tgme_right_column">
        <div class="tgme_channel_info">
          <div class="tgme_channel_info_header">
            <div class="tgme_channel_info_header_title_wrap">
              <div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>
            </div>
            <div class="tgme_channel_info_header_username"><a href="{public}/{channel}">@{channel}</a></div>
          </div>
          <div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span class="counter_value">{abbreviate(int(acc.followers))}</span> <span class="counter_type">subscribers</span></div><div class="tgme_channel_info_counter"><span class="counter_value">{abbreviate(photos)}</span> <span class="counter_type">photos</span></div><div class="tgme_channel_info_counter"><span class="counter_value">{len(acc.posts) // 4}</span> <span class="counter_type">links</span></div></div>
          <div class="tgme_channel_info_description">{title}: официальный канал (демо)</div>
        </div>
      </section>
    </div>
  </div>
</header>
<main class="tgme_main" data-url="/{channel}">
  <div class="tgme_container">
    <section class="tgme_channel_history js-message_history">
      {messages}
    </section>
  </div>
</main>
  </body>
</html>
"""


def tg_plain_page(acc: WorldAccount | None, channel: str) -> str:
    """The plain t.me/<channel> page: exact subscribers, or the contact page for unknown names."""
    if acc is None:
        body = f"""<div class="tgme_page_icon"><i class="tgme_icon_user"></i></div>
<div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact <a class="tgme_username_link" href="tg://resolve?domain={escape(channel)}">@{escape(channel)}</a> right away.</div>"""
        head = f'<title>Telegram: Contact @{escape(channel)}</title>\n<meta name="robots" content="noindex, nofollow">'
    else:
        title = escape(acc.plan.title)
        head = f"<title>Telegram: View @{acc.handle}</title>"
        body = f"""<div class="tgme_page_title" dir="auto">
  <span dir="auto">{title}</span>
</div>
<div class="tgme_page_extra">{spaced(int(acc.followers))} subscribers</div>
<div class="tgme_page_description" dir="auto">{title}: официальный канал (демо)</div>
<div class="tgme_page_context_link_wrap"><a class="tgme_page_context_link" href="/s/{acc.handle}">Preview channel</a></div>"""
    return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    {head}
    <meta property="og:site_name" content="Telegram">
  </head>
  <body class="no_transition">
    <div class="tgme_page_wrap">
      <div class="tgme_body_wrap">
        <div class="tgme_page">
{body}
        </div>
      </div>
    </div>
  </body>
</html>
"""


# --- Bluesky ---------------------------------------------------------------------------


def _did(acc: WorldAccount) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    digest = hashlib.sha256(acc.handle.encode()).digest()
    return "did:plc:" + "".join(alphabet[b % 32] for b in digest[:24])


def _rkey(post: WorldPost) -> str:
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    value, out = int(post.published_at.timestamp() * 1000) * 1024 + post.id, ""
    while value:
        value, rest = divmod(value, 32)
        out = alphabet[rest] + out
    return out[-13:]


def _zulu(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def bluesky_profile(acc: WorldAccount) -> dict[str, Any]:
    """app.bsky.actor.getProfile (profileViewDetailed)."""
    return {
        "did": _did(acc),
        "handle": acc.handle,
        "displayName": acc.plan.title,
        "description": f"{acc.plan.title}. Official account (demo).",
        "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
        "labels": [],
        "createdAt": "2023-09-12T08:20:41.337Z",
        "indexedAt": _zulu(acc.posts[-1].published_at) if acc.posts else "2023-09-12T08:20:41.337Z",
        "followersCount": int(acc.followers),
        "followsCount": 87,
        "postsCount": len(acc.visible),
    }


def bluesky_feed(acc: WorldAccount, *, limit: int) -> dict[str, Any]:
    """app.bsky.feed.getAuthorFeed: newest first, the official's own posts only."""
    did = _did(acc)
    author = {"did": did, "handle": acc.handle, "displayName": acc.plan.title, "labels": []}
    feed = []
    for post in reversed(acc.visible[-limit:]):
        rkey = _rkey(post)
        feed.append(
            {
                "post": {
                    "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
                    "cid": "bafyrei" + hashlib.sha256(rkey.encode()).hexdigest()[:52],
                    "author": author,
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "createdAt": _zulu(post.published_at),
                        "langs": ["ru"],
                        "text": post.text,
                    },
                    "replyCount": post.views // 200,
                    "repostCount": post.views // 90,
                    "likeCount": post.views // 12,
                    "quoteCount": post.views // 900,
                    "indexedAt": _zulu(post.published_at),
                    "labels": [],
                }
            }
        )
    return {"feed": feed, "cursor": _zulu(acc.visible[0].published_at)} if feed else {"feed": []}


# --- Facebook --------------------------------------------------------------------------


def facebook_page(acc: WorldAccount, fields: list[str]) -> dict[str, Any]:
    """GET /{page-id}?fields=...: only the fields asked for, plus the id."""
    values: dict[str, Any] = {
        "name": acc.plan.title,
        "followers_count": int(acc.followers),
        "fan_count": int(acc.followers * 0.93),
        "link": f"https://www.facebook.com/{acc.handle}",
    }
    page = {key: values[key] for key in fields if key in values}
    page["id"] = acc.handle
    return page


def facebook_posts(acc: WorldAccount, base_url: str, *, limit: int) -> dict[str, Any]:
    """GET /{page-id}/posts: ``{"data": [...], "paging": {...}}``, newest first."""
    data = [
        {
            "id": f"{acc.handle}_{post.id}",
            "message": post.text,
            "created_time": post.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "permalink_url": f"https://www.facebook.com/{acc.handle}/posts/{post.id}",
        }
        for post in reversed(acc.visible[-limit:])
    ]
    paging: dict[str, Any] = {"cursors": {"before": "QVFIUmRlbW9B", "after": "QVFIUmRlbW9C"}}
    if len(acc.visible) > limit:
        paging["next"] = (
            f"{base_url}{PREFIX[Platform.FACEBOOK]}/{acc.handle}/posts?after=QVFIUmRlbW9C"
        )
    return {"data": data, "paging": paging}


# --- RSS -------------------------------------------------------------------------------


def rss_feed(acc: WorldAccount, base_url: str) -> str:
    """An RSS 2.0 press-release feed, newest first (items without titles, as RSS allows)."""
    site = f"{base_url}{PREFIX[Platform.RSS]}"
    items = "".join(
        f"""
    <item>
      <link>{site}/{acc.slug}/{post.id}</link>
      <guid isPermaLink="false">{acc.slug}-{post.id}</guid>
      <pubDate>{format_datetime(post.published_at.astimezone(UTC), usegmt=True)}</pubDate>
      <description><![CDATA[<p>{escape(post.text)}</p>]]></description>
    </item>"""
        for post in reversed(acc.visible[-20:])
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{escape(acc.plan.title)}</title>
    <link>{site}/{acc.slug}</link>
    <description>{escape(acc.plan.title)} (демо)</description>
    <language>ru</language>
    <ttl>15</ttl>{items}
  </channel>
</rss>
"""
