"""The demo world's answers: pure functions of an account's state, one set per platform.

Every response copies the structure of the real platform (see tests/data), so govwatch's
real sources read them unchanged; the t.me pages come from :mod:`bot.demo.tme`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Any

from aiohttp import web

from bot.demo.state import PREFIX, WorldAccount, WorldPost
from bot.demo.tme import TmeChannel, TmePost, abbreviate
from bot.domain import Platform


def unavailable() -> web.Response:
    """A 503 from the platform (a failing account)."""
    # No Retry-After: the client would then pause the whole host, i.e. every platform.
    return web.Response(status=503, text="Service Unavailable")


def graph_error(
    message: str, code: int, status: int, *, kind: str = "OAuthException"
) -> web.Response:
    """A Graph API error body with its HTTP status."""
    body = {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AdemoTrace"}}
    return web.json_response(body, status=status)


def int_param(raw: str | None, default: int, low: int, high: int) -> int:
    """A query parameter as an int clamped to ``low``..``high`` (``default`` if unreadable)."""
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


def tme_channel(acc: WorldAccount) -> TmeChannel:
    """What the t.me pages of ``acc`` show: the newest 20 visible posts and the counters."""
    visible = acc.visible
    posts = tuple(
        TmePost(
            id=post.id,
            html=escape(post.text),
            published_at=post.published_at,
            views=post.views,
            edited=post.edited,
            data_view=_data_view(acc, post),
        )
        for post in visible[-20:]
    )
    photos = 40 + len(acc.posts) * 2
    return TmeChannel(
        handle=acc.handle,
        title=acc.plan.title,
        followers=int(acc.followers),
        description=f"{acc.plan.title}: официальный канал (демо)",
        posts=posts,
        has_older=len(visible) > 20,
        counters=((abbreviate(photos), "photos"), (str(len(acc.posts) // 4), "links")),
    )


# --- Bluesky ---------------------------------------------------------------------------


def did_of(acc: WorldAccount) -> str:
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
        "did": did_of(acc),
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
    did = did_of(acc)
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
