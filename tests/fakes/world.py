"""A scriptable loopback "world" for polling tests: Bluesky's API and Telegram's t.me/s pages.

Tests change the world between polls (followers jump, posts appear, get edited or
deleted, an account vanishes or its source starts failing) and then check what the bot
stored. The server also counts requests and the largest number of concurrent requests
per account, which proves that two workers never poll one account at once.
"""

from __future__ import annotations

import asyncio
import html
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.demo.tme import TmeChannel, TmePost, channel_page, plain_page

#: What an account answers: its data, proof of absence, or one of the failures.
MODES = ("ok", "absent", "rate_limited", "login_wall", "server_error")


@dataclass
class FakePost:
    id: str
    created_at: datetime
    text: str
    #: A repost of another account's post (its handle); ``created_at`` is then when it
    #: was reposted and ``original_at`` when the original was written.
    repost_of: str | None = None
    original_at: datetime | None = None


@dataclass
class FakeAccount:
    handle: str
    name: str
    followers: int
    description: str = ""
    avatar: str | None = None
    posts: list[FakePost] = field(default_factory=list)
    mode: str = "ok"
    #: Telegram shows rounded counts; None shows ``followers`` as is.
    followers_text: str | None = None
    #: The Retry-After of a ``rate_limited`` answer, in seconds.
    retry_after: str = "1"
    #: Telegram: the channel's web preview is on. When off, ``/s/<name>`` redirects to the
    #: plain ``/<name>`` page, which then has no "Preview channel" link (as t.me does).
    preview: bool = True
    #: Bluesky: the profile's self-labels (``"!no-unauthenticated"`` hides it from logged-out
    #: readers).
    labels: list[str] = field(default_factory=list)

    @property
    def did(self) -> str:
        return f"did:plc:{self.handle.replace('.', '')}"

    def post(
        self, text: str, *, at: datetime | None = None, post_id: str | None = None
    ) -> FakePost:
        """Publish a post (newest first in every answer)."""
        new_id = post_id or str(max((int(p.id) for p in self.posts), default=100) + 1)
        item = FakePost(new_id, at or datetime.now(UTC), text)
        self.posts.append(item)
        return item

    def repost(self, author: str, text: str, *, written: datetime) -> FakePost:
        """Repost another account's post (shown newest first, as Bluesky does)."""
        item = self.post(text)
        item.repost_of, item.original_at = author, written
        return item

    def newest(self, limit: int) -> list[FakePost]:
        return sorted(self.posts, key=lambda p: int(p.id), reverse=True)[:limit]


class World:
    """The loopback server; ``bluesky`` and ``telegram`` hold the scripted accounts."""

    def __init__(self, *, page_size: int = 10) -> None:
        self.bluesky: dict[str, FakeAccount] = {}
        self._dids: dict[str, FakeAccount] = {}
        self.telegram: dict[str, FakeAccount] = {}
        self.page_size = page_size
        self.delay = 0.0
        self.requests: Counter[str] = Counter()
        self.inflight: Counter[str] = Counter()
        self.max_inflight: Counter[str] = Counter()
        self.on_request: Callable[[str], None] | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.scheme = "http"

    # -- scripting -------------------------------------------------------------------
    def add_bluesky(self, handle: str, **kw: Any) -> FakeAccount:
        account = self.bluesky[handle] = FakeAccount(handle=handle, **kw)
        self._dids[account.did] = account
        return account

    def add_telegram(self, handle: str, **kw: Any) -> FakeAccount:
        account = self.telegram[handle] = FakeAccount(handle=handle, **kw)
        return account

    # -- server ------------------------------------------------------------------------
    async def start(
        self, hosts: tuple[str, ...] = ("127.0.0.1",), *, tls: ssl.SSLContext | None = None
    ) -> None:
        app = web.Application()
        app.router.add_get("/xrpc/app.bsky.actor.getProfile", self._profile)
        app.router.add_get("/xrpc/app.bsky.feed.getAuthorFeed", self._feed)
        app.router.add_get("/s/{channel}", self._channel)
        app.router.add_get("/{channel}", self._plain)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for host in hosts:
            site = web.TCPSite(self._runner, host, self.port, ssl_context=tls)
            await site.start()
            if not self.port:
                self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.scheme = "https" if tls is not None else "http"

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _enter(self, key: str) -> None:
        self.requests[key] += 1
        self.inflight[key] += 1
        self.max_inflight[key] = max(self.max_inflight[key], self.inflight[key])
        if self.on_request is not None:
            self.on_request(key)
        if self.delay:
            await asyncio.sleep(self.delay)

    def _bsky(self, actor: str) -> FakeAccount | None:
        account = self.bluesky.get(actor) or self._dids.get(actor)
        return (
            account if account is not None and self.bluesky.get(account.handle) is account else None
        )

    async def _guarded(self, key: str, answer: Callable[[], web.Response]) -> web.Response:
        await self._enter(key)
        try:
            return answer()
        finally:
            self.inflight[key] -= 1

    async def _profile(self, request: web.Request) -> web.Response:
        account = self._bsky(request.query.get("actor", ""))
        key = f"bluesky:{account.handle if account else '?'}"
        return await self._guarded(key, lambda: _bsky_profile(account))

    async def _feed(self, request: web.Request) -> web.Response:
        account = self._bsky(request.query.get("actor", ""))
        key = f"bluesky:{account.handle if account else '?'}"
        return await self._guarded(key, lambda: _bsky_feed(account, self.page_size))

    async def _channel(self, request: web.Request) -> web.Response:
        account = self.telegram.get(request.match_info["channel"])
        key = f"telegram:{request.match_info['channel']}"
        if account is not None and account.mode == "ok" and not account.preview:
            raise web.HTTPFound(location=f"/{account.handle}")
        return await self._guarded(key, lambda: _tg_page(account, self.page_size))

    async def _plain(self, request: web.Request) -> web.Response:
        # Only a channel whose preview is off has a plain page here: the others keep the
        # rounded /s/ count their tests expect.
        account = self.telegram.get(request.match_info["channel"])
        if account is None or account.preview:
            return web.Response(status=404)
        key = f"telegram:{account.handle}"
        return await self._guarded(key, lambda: _tg_plain(account))


def _failure(mode: str, retry_after: str = "1") -> web.Response | None:
    if mode == "rate_limited":
        body = '{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}'
        return web.Response(status=429, text=body, headers={"Retry-After": retry_after})
    if mode == "login_wall":
        page = "<html><body><h1>Please log in to see this page</h1></body></html>"
        return web.Response(text=page, content_type="text/html")
    if mode == "server_error":
        return web.Response(status=503, text="busy")
    return None


def _bsky_profile(account: FakeAccount | None) -> web.Response:
    if account is None or account.mode == "absent":
        return web.json_response(
            {"error": "InvalidRequest", "message": "Profile not found"}, status=400
        )
    failed = _failure(account.mode, account.retry_after)
    if failed is not None:
        return failed
    data = {
        "did": account.did,
        "handle": account.handle,
        "displayName": account.name,
        "description": account.description,
        "followersCount": account.followers,
        "followsCount": 10,
        "postsCount": len(account.posts),
    }
    if account.avatar:
        data["avatar"] = account.avatar
    if account.labels:
        data["labels"] = [
            {"src": account.did, "uri": f"at://{account.did}/app.bsky.actor.profile/self",
             "val": value, "cts": "2026-01-01T00:00:00.000Z"}
            for value in account.labels
        ]  # fmt: skip
    return web.json_response(data)


def _bsky_feed(account: FakeAccount | None, limit: int) -> web.Response:
    if account is None or account.mode == "absent":
        return web.json_response(
            {"error": "InvalidRequest", "message": "Profile not found"}, status=400
        )
    failed = _failure(account.mode, account.retry_after)
    if failed is not None:
        return failed
    return web.json_response({"feed": [_bsky_item(account, p) for p in account.newest(limit)]})


def _bsky_item(account: FakeAccount, p: FakePost) -> dict[str, Any]:
    if p.repost_of is None:
        return {
            "post": {
                "uri": f"at://{account.did}/app.bsky.feed.post/{p.id}",
                "author": {"did": account.did, "handle": account.handle},
                "record": {"text": p.text, "createdAt": p.created_at.isoformat()},
                "indexedAt": p.created_at.isoformat(),
            }
        }
    # A repost as getAuthorFeed shows it: the other author's post, with a reasonRepost.
    other = f"did:plc:{p.repost_of.replace('.', '')}"
    written = (p.original_at or p.created_at).isoformat()
    return {
        "post": {
            "uri": f"at://{other}/app.bsky.feed.post/orig{p.id}",
            "author": {"did": other, "handle": p.repost_of},
            "record": {"text": p.text, "createdAt": written},
            "indexedAt": written,
        },
        "reason": {
            "$type": "app.bsky.feed.defs#reasonRepost",
            "by": {"did": account.did, "handle": account.handle},
            "uri": f"at://{account.did}/app.bsky.feed.repost/{p.id}",
            "indexedAt": p.created_at.isoformat(),
        },
    }


def _tg_page(account: FakeAccount | None, limit: int) -> web.Response:
    if account is None:
        return web.Response(status=404)
    failed = _failure(account.mode, account.retry_after)
    if failed is not None:
        return failed
    return web.Response(body=channel_page(_tme(account, limit)), content_type="text/html")


def _tme(account: FakeAccount, limit: int) -> TmeChannel:
    posts = tuple(
        TmePost(id=int(p.id), html=html.escape(p.text), published_at=p.created_at)
        for p in reversed(account.newest(limit))
    )
    return TmeChannel(
        handle=account.handle,
        title=account.name,
        followers=account.followers,
        description=account.description,
        avatar=account.avatar,
        posts=posts,
        followers_text=account.followers_text or str(account.followers),
        preview=account.preview,
    )


def _tg_plain(account: FakeAccount) -> web.Response:
    return web.Response(body=plain_page(_tme(account, 0)), content_type="text/html")


def hours_ago(hours: float, *, now: datetime | None = None) -> datetime:
    """A time ``hours`` before ``now`` (default: the current time)."""
    return (now or datetime.now(UTC)) - timedelta(hours=hours)


async def seed(
    db: Any, accounts: list[tuple[str, str]], *, chats: int = 1, kinds: list[str] | None = None
) -> dict[str, int]:
    """Officials with one account each (platform, handle), plus chats subscribed to all."""
    from bot.store.models import Account, Chat, Official, Subscription

    ids: dict[str, int] = {}
    async with db.sessions() as session, session.begin():
        for n, (platform, handle) in enumerate(accounts):
            official = Official(slug=f"o{n}-{handle}", name=f"Official {handle}")
            account = Account(official=official, platform=platform, handle=handle)
            session.add(account)
            await session.flush()
            ids[handle] = account.id
        for c in range(chats):
            chat = Chat(backend="telegram", external_id=str(1000 + c))
            session.add(chat)
            await session.flush()
            session.add(
                Subscription(
                    chat_id=chat.id, target_type="all", target_id=0, event_kinds=kinds or []
                )
            )
    return ids
