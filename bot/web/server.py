"""The public site's HTTP server: routes, security headers, rate limit, conditional answers.

Only GET (and HEAD) exist; no page takes input beyond ``lang``, ``period`` and
``platform`` in the query. Every answer carries a strict Content-Security-Policy (no
script at all, styles only from the site itself) and may be framed only when it is an
``/embed/`` page. Pages carry an ETag and Last-Modified and answer 304 when unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from importlib.resources import files

from aiohttp import web

from bot.config import Settings
from bot.errors import UserInputError
from bot.store.engine import Database
from bot.web.cache import Page
from bot.web.lang import choose_locale
from bot.web.limits import RateLimiter
from bot.web.pages import Site

log = logging.getLogger(__name__)

_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors {frames}"
)
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
_CSS = files("bot.web").joinpath("templates/site.css").read_bytes()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def where_of(listen: str, port: int) -> str:
    """``host:port`` (IPv6 literals in brackets)."""
    return f"[{listen}]:{port}" if ":" in listen else f"{listen}:{port}"


class WebServer:
    """Serves the public site on ``[web] listen:port`` between start and stop."""

    name = "web"

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database,
        clock: Callable[[], datetime] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings.web
        self.site = Site(settings, db, clock=clock)
        self.limiter = limiter or RateLimiter(self.settings.rate_limit)
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The aiohttp application (routes and middleware; ``start`` serves it)."""
        app = web.Application(middlewares=[self._guard])
        get = app.router.add_get
        get("/", self._index)
        get("/w/{name}", self._report)
        get("/embed/w/{name}", self._embed)
        get("/o/{slug}", self._official)
        get("/events", self._events)
        get("/events.atom", self._events_feed)
        get("/data/{file}", self._data)
        get("/evidence/{ref}", self._evidence)
        get("/static/site.css", self._css)
        return app

    async def start(self) -> None:
        """Listen; a taken port or a wrong address is one clear line."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.listen, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            where = where_of(self.settings.listen, self.settings.port)
            raise UserInputError(
                f"cannot serve web.listen/web.port {where}: {exc.strerror or exc}"
            ) from None
        self._runner = runner
        log.info(
            "web: the public site on http://%s", where_of(self.settings.listen, self.settings.port)
        )

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- middleware -------------------------------------------------------------------

    def _address(self, request: web.Request) -> str:
        if self.settings.forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For", "")
            # The last hop is the one our own proxy added; earlier ones are the client's word.
            last = forwarded.split(",")[-1].strip()
            if last:
                return last
        return request.remote or "?"

    def _locale(self, request: web.Request) -> str:
        return choose_locale(
            request.query.get("lang"),
            request.headers.get("Accept-Language"),
            self.site.default_locale,
        )

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        embed = request.path.startswith("/embed/")
        wait = self.limiter.allow(self._address(request))
        if wait > 0:
            response: web.StreamResponse = self._page(
                request, self.site.too_many(self._locale(request))
            )
            response.headers["Retry-After"] = str(max(1, round(wait)))
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status != 404:
                    raise
                response = self._page(request, self.site.not_found(self._locale(request)))
            except Exception:
                # The database down, say: one logged line, a plain answer, the same headers.
                log.exception("web: %s failed", request.path)
                response = web.Response(
                    status=503, text="Temporarily unavailable.", headers={"Retry-After": "30"}
                )
        frames = "*" if embed else "'none'"
        # A page with a policy of its own (the evidence page's inline style) keeps it.
        response.headers.setdefault("Content-Security-Policy", _CSP.format(frames=frames))
        response.headers.update(_HEADERS)
        if embed:
            # Another site's article loads it in a frame.
            response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        else:
            response.headers["X-Frame-Options"] = "DENY"
        return response

    def _page(self, request: web.Request, page: Page | None) -> web.StreamResponse:
        if page is None:
            raise web.HTTPNotFound()
        headers = {
            "Content-Type": page.content_type,
            "Vary": "Accept-Language",
        }
        if page.csp is not None:
            headers["Content-Security-Policy"] = page.csp
        if page.status != 200:
            headers["Cache-Control"] = "no-store"
            return web.Response(body=page.body, status=page.status, headers=headers)
        made = page.made_at.astimezone(UTC).replace(microsecond=0)
        headers["ETag"] = page.etag
        headers["Last-Modified"] = format_datetime(made, usegmt=True)
        headers["Cache-Control"] = f"public, max-age={int(self.settings.cache_for.total_seconds())}"
        if _not_modified(request, page.etag, made):
            return web.Response(status=304, headers=headers)
        return web.Response(body=page.body, headers=headers)

    # --- routes -----------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, await self.site.index(self._locale(request)))

    async def _report(self, request: web.Request) -> web.StreamResponse:
        name, loc = request.match_info["name"], self._locale(request)
        if name.endswith(".atom"):
            return self._page(request, await self.site.feed(loc, watchlist=name[:-5]))
        period, platform = self.site.choose(
            request.query.get("period"), request.query.get("platform")
        )
        return self._page(request, await self.site.report(name, loc, period, platform))

    async def _embed(self, request: web.Request) -> web.StreamResponse:
        name, loc = request.match_info["name"], self._locale(request)
        period, platform = self.site.choose(
            request.query.get("period"), request.query.get("platform")
        )
        return self._page(request, await self.site.report(name, loc, period, platform, embed=True))

    async def _official(self, request: web.Request) -> web.StreamResponse:
        slug, loc = request.match_info["slug"], self._locale(request)
        if slug.endswith(".atom"):
            return self._page(request, await self.site.feed(loc, slug=slug[:-5]))
        return self._page(request, await self.site.official(slug, loc))

    async def _events(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, await self.site.events(self._locale(request)))

    async def _events_feed(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, await self.site.feed(self._locale(request)))

    async def _data(self, request: web.Request) -> web.StreamResponse:
        name, _, fmt = request.match_info["file"].rpartition(".")
        if fmt not in ("csv", "json") or not name:
            raise web.HTTPNotFound()
        period, platform = self.site.choose(
            request.query.get("period"), request.query.get("platform")
        )
        page = await self.site.data(name, fmt, self._locale(request), period, platform)
        return self._page(request, page)

    async def _evidence(self, request: web.Request) -> web.StreamResponse:
        ref, loc = request.match_info["ref"], self._locale(request)
        return self._page(request, await self.site.evidence(ref, loc))

    async def _css(self, request: web.Request) -> web.StreamResponse:
        page = Page(_CSS, "text/css; charset=utf-8", _STARTED)
        return self._page(request, page)


_STARTED = datetime.now(UTC)


def _not_modified(request: web.Request, etag: str, made: datetime) -> bool:
    match = request.headers.get("If-None-Match")
    if match is not None:
        return etag in {m.strip() for m in match.split(",")} or match.strip() == "*"
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return parsedate_to_datetime(since) >= made
        except (TypeError, ValueError):
            return False
    return False
