"""A loopback world whose sources fail at random (seeded): 429, 500, timeouts, garbage...

``FaultyWorld`` serves RSS feeds at ``/feed/<name>.rss`` on 127.0.0.1 and, with
probability ``fault_rate`` per request, answers with one of the faults below instead of
the real feed. ``fault_middleware`` does the same in front of any aiohttp app (e.g. the
regular fake world), so every platform's fake can be made hostile.

Faults: ``429`` (with Retry-After), ``500``, ``503``, ``timeout`` (the answer hangs past the
client's deadline), ``garbage`` (random bytes, 200), ``truncated`` (the real body cut in
the middle, 200, honest Content-Length), ``cut`` (Content-Length promises the whole body but
the connection drops half-way), ``login_wall`` (200 with a sign-in page) and
``login_redirect`` (302 to a sign-in page). Every injected fault is counted in ``faults``.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

ALL_FAULTS = (
    "429",
    "500",
    "503",
    "timeout",
    "garbage",
    "truncated",
    "cut",
    "login_wall",
    "login_redirect",
)

LOGIN_PAGE = (
    b"<!doctype html><html><head><title>Sign in</title></head><body>"
    b'<form action="/login" method="post"><input name="username"><input type="password" '
    b'name="password"><button>Log in to continue</button></form></body></html>'
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FeedItem:
    """One post of a feed."""

    guid: str
    title: str
    published_at: datetime
    link: str


@dataclass
class FaultPlan:
    """Which faults to inject, how often, from which seed."""

    seed: int = 0
    fault_rate: float = 0.3
    faults: tuple[str, ...] = ALL_FAULTS
    hang_seconds: float = 30.0
    #: Paths that are never faulted (e.g. health checks of the world itself).
    spare: tuple[str, ...] = ()
    rng: random.Random = field(init=False)
    injected: Counter[str] = field(default_factory=Counter)
    served: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(ALL_FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self.rng = random.Random(self.seed)

    def pick(self, path: str) -> str | None:
        """The fault to inject for this request, or None to answer normally."""
        self.served += 1
        if self.spare and path.startswith(self.spare):
            return None
        if not self.faults or self.rng.random() >= self.fault_rate:
            return None
        fault = self.rng.choice(self.faults)
        self.injected[fault] += 1
        return fault


async def _inject(
    fault: str, request: web.Request, handler: Handler, plan: FaultPlan
) -> web.StreamResponse:
    if fault in ("429", "500", "503"):
        headers = {"Retry-After": "1"} if fault != "500" else {}
        return web.Response(status=int(fault), text=f"error {fault}", headers=headers)
    if fault == "timeout":
        await asyncio.sleep(plan.hang_seconds)
        return web.Response(status=504, text="too late")
    if fault == "garbage":
        body = plan.rng.randbytes(plan.rng.randint(1, 4096))
        return web.Response(body=body, content_type="application/rss+xml")
    if fault == "login_wall":
        return web.Response(body=LOGIN_PAGE, content_type="text/html")
    if fault == "login_redirect":
        raise web.HTTPFound(location="/login?next=" + request.path)
    real = await handler(request)
    body = real.body if isinstance(real, web.Response) and isinstance(real.body, bytes) else b""
    half = body[: max(1, len(body) // 2)]
    if fault == "truncated":
        return web.Response(body=half, status=real.status, content_type=real.content_type)
    # "cut": promise the whole body, send half, then drop the connection.
    response = web.StreamResponse(status=real.status, headers={"Content-Length": str(len(body))})
    response.content_type = real.content_type
    await response.prepare(request)
    await response.write(half)
    if request.transport is not None:
        request.transport.close()
    return response


def fault_middleware(
    plan: FaultPlan,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware that answers with ``plan``'s faults instead of the handler."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/login":
            return web.Response(body=LOGIN_PAGE, content_type="text/html")
        fault = plan.pick(request.path)
        if fault is None:
            return await handler(request)
        return await _inject(fault, request, handler, plan)

    return middleware


def render_rss(name: str, items: Iterable[FeedItem]) -> bytes:
    """An RSS 2.0 document with the newest item first."""
    entries = []
    for item in sorted(items, key=lambda i: i.published_at, reverse=True):
        entries.append(
            "<item>"
            f"<title>{escape(item.title)}</title>"
            f"<link>{escape(item.link)}</link>"
            f'<guid isPermaLink="false">{escape(item.guid)}</guid>'
            f"<pubDate>{format_datetime(item.published_at)}</pubDate>"
            f"<description>{escape(item.title)}</description>"
            "</item>"
        )
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Press office {escape(name)}</title>"
        f"<link>https://gov.example/{escape(name)}</link>"
        f"<description>Press releases of {escape(name)}</description>"
        f"{''.join(entries)}</channel></rss>"
    )
    return doc.encode()


class FaultyWorld:
    """RSS feeds on 127.0.0.1 that fail at random according to a seeded ``FaultPlan``."""

    def __init__(self, plan: FaultPlan | None = None, *, hosts: int = 1) -> None:
        self.plan = plan or FaultPlan(fault_rate=0.0)
        self.feeds: dict[str, list[FeedItem]] = {}
        self.requests: Counter[str] = Counter()
        self._clock = datetime.now(UTC).replace(microsecond=0)
        self._runner: web.AppRunner | None = None
        # Several loopback addresses (127.0.0.1, .2, ...): HTTP clients keep per-host
        # state (rate limits, Retry-After cooldowns), so one host would couple all feeds.
        self.hosts = [f"127.0.0.{n}" for n in range(1, hosts + 1)]
        self.ports: dict[str, int] = {}
        self.feed_hosts: dict[str, str] = {}

    # --- content -------------------------------------------------------------------
    def add_feed(self, name: str, posts: int = 3) -> str:
        """Create a feed with ``posts`` initial items; return its URL."""
        self.feeds[name] = []
        self.feed_hosts[name] = self.hosts[(len(self.feeds) - 1) % len(self.hosts)]
        now = datetime.now(UTC).replace(microsecond=0)
        for n in range(posts, 0, -1):  # the initial posts are some minutes old
            self.add_post(name, at=now - timedelta(minutes=10 * n))
        return self.url(name)

    def add_post(
        self, name: str, title: str | None = None, *, at: datetime | None = None
    ) -> FeedItem:
        """Publish one new item in a feed (dated ``at``, default now) and return it."""
        # Dated "now": a future date would be clamped by the detector, an old one is silence.
        self._clock = at or datetime.now(UTC).replace(microsecond=0)
        number = len(self.feeds[name]) + 1
        item = FeedItem(
            guid=f"{name}-{number}",
            title=title or f"Statement {name}-{number} of {name}",
            published_at=self._clock,
            link=f"https://gov.example/{name}/{number}",
        )
        self.feeds[name].append(item)
        return item

    @property
    def port(self) -> int:
        """The port of the first host."""
        return self.ports[self.hosts[0]]

    def url(self, name: str) -> str:
        """The feed's address on the loopback world (feeds are spread over the hosts)."""
        host = self.feed_hosts[name]
        return f"http://{host}:{self.ports[host]}/feed/{name}.rss"

    # --- server --------------------------------------------------------------------
    def app(self) -> web.Application:
        """The aiohttp application (fault middleware in front of the feeds)."""
        app = web.Application(middlewares=[fault_middleware(self.plan)])
        app.router.add_get("/feed/{name}.rss", self._feed)
        return app

    async def _feed(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests[name] += 1
        if name not in self.feeds:
            raise web.HTTPNotFound()
        body = render_rss(name, self.feeds[name])
        return web.Response(body=body, content_type="application/rss+xml")

    async def start(self) -> FaultyWorld:
        """Listen on each loopback host (a free port each)."""
        self._runner = web.AppRunner(self.app(), shutdown_timeout=0.5)
        await self._runner.setup()
        for host in self.hosts:
            site = web.TCPSite(self._runner, host, self.ports.get(host, 0))
            await site.start()
            server = site._server
            assert server is not None
            sockets = getattr(server, "sockets", None) or []
            self.ports[host] = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FaultyWorld:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
