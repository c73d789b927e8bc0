"""The demo world: t.me pages, a Bluesky-like API, a Graph-like API and RSS on loopback.

The world's state (:mod:`bot.demo.state`) evolves with :meth:`World.advance` (world
seconds); :meth:`World.start` serves it and advances it in the background at ``speed``
world seconds per real second. The answers themselves are pure functions in
:mod:`bot.demo.responses` and :mod:`bot.demo.tme`. Post timestamps are real (UTC now), so
the app's clock, silence and report periods work as in production: the world only makes
life faster (more posts per real minute), it never bends the time the app reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.demo import responses, script, tme
from bot.demo.script import AccountPlan, Happening
from bot.demo.state import DEMO_TOKEN, PLACEHOLDER, PREFIX, WorldAccount, WorldPost
from bot.domain import Platform
from bot.reports.silence import DEFAULT_DAYS

__all__ = ["DEMO_TOKEN", "PLACEHOLDER", "PREFIX", "World", "WorldAccount", "WorldPost"]

_HISTORY_DAYS = (0.3, 0.8, 1.4, 2.1, 3.0, 4.2, 5.5, 6.3, 8.0, 10.5, 13.0, 16.0)
#: The silence threshold the demo uses: what /silent counts by default (7 days).
SILENT_AFTER = timedelta(days=DEFAULT_DAYS)
#: The quiet minister crosses the threshold at least this many real seconds after the
#: world is populated, so the first poll has read him before (else it is never announced).
MIN_SILENCE_LEAD_S = 12.0


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
        silent_after: timedelta = SILENT_AFTER,
    ) -> None:
        self.speed = speed
        self.clock = clock
        self.silent_after = silent_after
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
                first = self.silent_after - self.silence_lead
            else:
                first = timedelta(seconds=self._rng.uniform(*script.FIRST_POST_AGE) / self.speed)
            ages = [first] + [first + timedelta(days=d) for d in _HISTORY_DAYS]
        for age in sorted(ages, reverse=True):
            self._add_post(acc, now - age)
        return acc

    @property
    def silence_lead(self) -> timedelta:
        """How long after populating the world the quiet minister crosses the threshold."""
        return timedelta(seconds=max(script.SILENCE_LEAD / self.speed, MIN_SILENCE_LEAD_S))

    def _gap(self, every: float) -> float:
        # Regular enough that an active account never looks quiet for long.
        return min(self._rng.expovariate(1 / every) + 0.2 * every, script.MAX_QUIET * 0.45)

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
                if acc.platform is Platform.BLUESKY and responses.did_of(acc) == handle:
                    return acc
            return None
        return self.accounts.get((platform, handle.lower()))

    # --- Telegram ----------------------------------------------------------------------

    async def _tg_preview(self, request: web.Request) -> web.StreamResponse:
        acc = self._find(Platform.TELEGRAM, request.match_info["channel"])
        if acc is None:
            raise web.HTTPFound(f"{PREFIX[Platform.TELEGRAM]}/{request.match_info['channel']}")
        if acc.failing:
            return responses.unavailable()
        return _html(tme.channel_page(responses.tme_channel(acc)))

    async def _tg_plain(self, request: web.Request) -> web.StreamResponse:
        acc = self._find(Platform.TELEGRAM, request.match_info["channel"])
        if acc is not None and acc.failing:
            return responses.unavailable()
        if acc is None:
            return _html(tme.contact_page(request.match_info["channel"]))
        return _html(tme.plain_page(responses.tme_channel(acc)))

    # --- Bluesky -----------------------------------------------------------------------

    def _bs_account(self, request: web.Request) -> WorldAccount | web.Response:
        acc = self._find(Platform.BLUESKY, request.query.get("actor", ""))
        if acc is None:
            body = {"error": "InvalidRequest", "message": "Profile not found"}
            return web.json_response(body, status=400)
        if acc.failing:
            return responses.unavailable()
        return acc

    async def _bs_profile(self, request: web.Request) -> web.StreamResponse:
        acc = self._bs_account(request)
        if isinstance(acc, web.Response):
            return acc
        return web.json_response(responses.bluesky_profile(acc))

    async def _bs_feed(self, request: web.Request) -> web.StreamResponse:
        acc = self._bs_account(request)
        if isinstance(acc, web.Response):
            return acc
        limit = responses.int_param(request.query.get("limit"), 50, 1, 100)
        return web.json_response(responses.bluesky_feed(acc, limit=limit))

    # --- Facebook Graph ----------------------------------------------------------------

    def _fb_account(self, request: web.Request) -> WorldAccount | web.Response:
        token = request.query.get("access_token") or request.headers.get(
            "Authorization", ""
        ).removeprefix("Bearer ")
        if token != DEMO_TOKEN:
            return responses.graph_error(
                "An access token is required to request this resource.", 104, 400
            )
        acc = self._find(Platform.FACEBOOK, request.match_info["page"])
        if acc is None:
            message = f"Unsupported get request. Object with ID '{request.match_info['page']}'"
            return responses.graph_error(
                message + " does not exist.", 100, 400, kind="GraphMethodException"
            )
        if acc.failing:
            return responses.graph_error("An unexpected error has occurred.", 2, 500)
        return acc

    async def _fb_page(self, request: web.Request) -> web.StreamResponse:
        acc = self._fb_account(request)
        if isinstance(acc, web.Response):
            return acc
        fields = request.query.get("fields", "name,followers_count,fan_count").split(",")
        return web.json_response(responses.facebook_page(acc, fields))

    async def _fb_posts(self, request: web.Request) -> web.StreamResponse:
        acc = self._fb_account(request)
        if isinstance(acc, web.Response):
            return acc
        limit = responses.int_param(request.query.get("limit"), 25, 1, 100)
        return web.json_response(responses.facebook_posts(acc, self.base_url, limit=limit))

    # --- RSS ---------------------------------------------------------------------------

    async def _rss(self, request: web.Request) -> web.StreamResponse:
        acc = self._find(Platform.RSS, request.match_info["name"])
        if acc is None:
            raise web.HTTPNotFound()
        if acc.failing:
            return responses.unavailable()
        body = responses.rss_feed(acc, self.base_url).encode()
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, content_type="application/rss+xml", charset="utf-8", headers={"ETag": etag}
        )


def _html(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="text/html", charset="utf-8")
