"""A simulated world of N Telegram channels, served on loopback by a separate process.

Run it as ``python -m bench.world --n 1000 --rate 5`` (it prints one JSON line with its
port once it listens), or use :class:`WorldProcess` from a benchmark. Every channel
``bw000000``..``bwNNNNNN`` has a ``/s/<handle>`` page (20-46 KB, built from a template
of the real t.me markup) and a plain ``/<handle>`` page with the exact subscriber count.
``--rate`` new posts per second land on random channels; each change is logged with the
time it appeared so freshness can be measured. The server counts requests per channel and
overlapping requests for the same channel (two workers polling one account at once).

Control endpoints (JSON): ``GET /_bench/stats``, ``GET /_bench/changes``,
``POST /_bench/reset`` (zero the counters and the change log), ``POST /_bench/rate?value=R``,
``POST /_bench/change?count=K`` (K new posts at once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

HANDLE_PREFIX = "bw"
PAGE_CACHE = 5000  # rendered pages kept (~160 MB); a larger world renders on demand


def handle_of(index: int) -> str:
    """The channel handle for account number ``index``."""
    return f"{HANDLE_PREFIX}{index:06d}"


def index_of(handle: str) -> int | None:
    """The account number of ``handle``, or None when it is not one of ours."""
    if not handle.startswith(HANDLE_PREFIX) or not handle[2:].isdigit():
        return None
    return int(handle[2:])


_AVATAR = (
    "https://cdn4.telesco.pe/file/WXEtizwpuPcl6rIhGH0dSjgZe_MVqb4R23kNCTQJOv8FaLoBmnU9yDA5-"
    "fs1K7YxWXEtizwpuPcl6rIhGH0dSjgZe_MVqb4R23kNCTQJOv8FaLoBmnU9yDA5-fs1K7YxWXEtizwpuPcl6r"
    "IhGH0dSjgZe_MVqb4R23kNCTQJOv8F.jpg"
)

_TEXTS = (
    "<b>Ремонт моста через Лесную: график работ</b><br/><br/>С&nbsp;11&nbsp;мая движение "
    'по&nbsp;мосту будет реверсивным. Подробная схема объезда&nbsp;— <a href="https://gov'
    '.example/news/most?utm_source=tg&amp;amp;utm_medium=post" target="_blank" rel="'
    'noopener" onclick="return confirm(\'Open this link?\\n\\n\'+this.href);">на сайте</a>.',
    "Открыли новую поликлинику в посёлке Светлый: 14 кабинетов, цифровой рентген и своя "
    "лаборатория. Приём начнётся с понедельника.",
    "<b>Депутаты приняли в&nbsp;первом чтении поправки в&nbsp;бюджет</b><br/><br/>"
    "Дополнительно 412&nbsp;млн направят на&nbsp;ремонт школ. Второе чтение&nbsp;— 21&nbsp;мая.",
    "Провёл выездной приём граждан в районном центре. Поступило 37 обращений: дороги, "
    "газификация, детские сады. По каждому назначены ответственные и сроки.",
    "Parliament passed the second reading of the water bill today. Full text and the vote "
    "record are on the committee page; the third reading is scheduled for next week.",
)

_HEAD = """<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{title} – Telegram</title>
    <meta name="viewport" content="width=device-width, initial-scale=1.0, minimum-scale=1.0, \
maximum-scale=1.0, user-scalable=no" />
    <meta name="format-detection" content="telephone=no" />
    <meta name="MobileOptimized" content="176" />
    <meta name="HandheldFriendly" content="True" />
<meta property="og:title" content="{title}">
<meta property="og:image" content="{avatar}">
<meta property="og:site_name" content="Telegram">
<meta property="og:description" content="{description}">
<meta property="twitter:title" content="{title}">
<meta property="twitter:image" content="{avatar}">
<meta property="twitter:site" content="@Telegram">
<meta property="al:ios:app_store_id" content="686449807">
<meta property="al:ios:app_name" content="Telegram Messenger">
<meta property="al:ios:url" content="tg:resolve?domain={handle}">
<meta property="al:android:url" content="tg:resolve?domain={handle}">
<meta property="al:android:app_name" content="Telegram">
<meta property="al:android:package" content="org.telegram.messenger">
<meta name="twitter:card" content="summary">
<meta name="twitter:site" content="@Telegram">
<meta name="twitter:description" content="{description}
">
    <link rel="prev" href="/s/{handle}?before={first}">
<link rel="canonical" href="/s/{handle}?before={next}">
    <link rel="icon" type="image/svg+xml" href="//telegram.org/img/website_icon.svg?4">
<link rel="apple-touch-icon" sizes="180x180" href="//telegram.org/img/apple-touch-icon.png">
<link rel="icon" type="image/png" sizes="32x32" href="//telegram.org/img/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="//telegram.org/img/favicon-16x16.png">
<link rel="alternate icon" href="//telegram.org/img/favicon.ico" type="image/x-icon" />
    <link href="//telegram.org/css/font-roboto.css?1" rel="stylesheet" type="text/css">
    <link href="//telegram.org/css/widget-frame.css?73" rel="stylesheet" media="screen">
    <link href="//telegram.org/css/telegram-web.css?39" rel="stylesheet" media="screen">
    <script>TBaseUrl='/';</script>
  </head>
  <body class="widget_frame_base tgme_webpreview mobile emoji_image thin_box_shadow tme_mode \
no_transitions">
    <div class="tgme_background_wrap">
      <canvas id="tgme_background" class="tgme_background" width="50" height="50" \
data-colors="dbddbb,6ba587,d5d88d,88b884"></canvas>
      <div class="tgme_background_pattern"></div>
    </div>
    <header class="tgme_header search_collapsed">
  <div class="tgme_container">
    <div class="tgme_header_search">
      <form class="tgme_header_search_form" action="/s/{handle}">
        <input class="tgme_header_search_form_input js-header_search" placeholder="Search" \
name="q" autocomplete="off" value="" />
        <a href="/s/{handle}" class="tgme_header_search_form_clear"></a>
      </form>
    </div>
    <div class="tgme_header_right_column">
      <section class="tgme_right_column">
        <div class="tgme_channel_info">
          <div class="tgme_channel_info_header">
            <i class="tgme_page_photo_image bgcolor3" data-content="BW"><img src="{avatar}"></i>
            <div class="tgme_channel_info_header_title_wrap">
              <div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>
              <div class="tgme_channel_info_header_labels"><i class="verified-icon"> ✔</i></div>
            </div>
            <div class="tgme_channel_info_header_username"><a href="https://t.me/{handle}">\
@{handle}</a></div>
          </div>
          <div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter">\
<span class="counter_value">{followers_short}</span> <span class="counter_type">subscribers</span>\
</div><div class="tgme_channel_info_counter"><span class="counter_value">1.12K</span> \
<span class="counter_type">photos</span></div><div class="tgme_channel_info_counter">\
<span class="counter_value">214</span> <span class="counter_type">videos</span></div>\
<div class="tgme_channel_info_counter"><span class="counter_value">2.05K</span> \
<span class="counter_type">links</span></div></div>
          <div class="tgme_channel_info_description">{description}</div>
          <div class="tgme_footer">
            <div class="tgme_footer_column"><h5><a href="//telegram.org/faq">About</a></h5></div>
            <div class="tgme_footer_column"><h5><a href="//telegram.org/blog">Blog</a></h5></div>
            <div class="tgme_footer_column"><h5><a href="//telegram.org/apps">Apps</a></h5></div>
          </div>
        </div>
      </section>
    </div>
    <div class="tgme_header_info">
      <a class="tgme_header_link" href="https://t.me/{handle}">
        <div class="tgme_header_title_wrap">
          <div class="tgme_header_title"><span dir="auto">{title}</span></div>
        </div>
        <div class="tgme_header_counter">{followers_short} subscribers</div>
      </a>
    </div>
  </div>
</header>
<main class="tgme_main" data-url="/{handle}">
  <div class="tgme_container">
    <section class="tgme_channel_history js-message_history">
      <div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{handle}\
?before={first}" class="tme_messages_more js-messages_more" data-before="{first}"></a></div>"""

_MESSAGE = """<div class="tgme_widget_message_wrap js-widget_message_wrap"><div \
class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{handle}/{post}" \
data-view="eyJjIjotMTk4NzY1NDMyMSwicCI6MTQ3MywidCI6MTc3ODE1MDQxMywiaCI6IjRjMWU5YTc3ZDIwYjNmNmU1MSJ9">
  <div class="tgme_widget_message_user"><a href="https://t.me/{handle}"><i \
class="tgme_widget_message_user_photo bgcolor3" data-content="B"><img src="{avatar}"></i></a></div>
  <div class="tgme_widget_message_bubble">
        <i class="tgme_widget_message_bubble_tail">
      <svg class="bubble_icon" width="9px" height="20px" viewBox="0 0 9 20">
        <g fill="none">
          <path class="background" fill="#ffffff" d="M8,1 L9,1 L9,20 L8,20 L8,18 C7.8,15.2 7.1,\
12.2 5.9,9.2 C5,6.9 3.5,4.7 1.3,2.7 C0.9,2.4 0.9,1.7 1.3,1.3 C1.5,1.1 1.7,1 2,1 L8,1 Z"></path>
          <path class="border_1x" fill="#d7e3ec" d="M9,1 L2,1 C1.7,1 1.5,1.1 1.3,1.3 C0.9,1.7 \
0.9,2.4 1.3,2.7 C3.5,4.7 5,6.9 5.9,9.2 C7.1,12.2 7.8,15.2 8,18 L8,20 L9,20 L9,1 Z"></path>
          <path class="border_2x" d="M9,1 L2,1 C1.7,1 1.5,1.1 1.3,1.3 C0.9,1.7 0.9,2.4 1.3,2.7 \
C3.5,4.7 5,6.9 5.9,9.2 C7.1,12.2 7.8,15.2 8,18 L8,20 L9,20 L9,1 Z"></path>
          <path class="border_3x" d="M9,1 L2,1 C1.7,1 1.5,1.1 1.3,1.3 C0.9,1.7 0.9,2.4 1.3,2.7 \
C3.5,4.7 5,6.9 5.9,9.2 C7.1,12.2 7.8,15.2 8,18 L8,20 L9,20 L9,1 Z"></path>
        </g>
      </svg>
    </i>
    <div class="tgme_widget_message_author accent_color"><a \
class="tgme_widget_message_owner_name" href="https://t.me/{handle}"><span dir="auto">{title}\
</span></a></div>
<a class="tgme_widget_message_photo_wrap 6190457702214538871 1298031165_457243118" \
href="https://t.me/{handle}/{post}" style="width:800px;background-image:url('{avatar}')">
  <div class="tgme_widget_message_photo" style="padding-top:66.625%"></div>
</a><div class="tgme_widget_message_text js-message_text" dir="auto">{text} \
<a href="?q=%23news{post}">#news</a></div>
<div class="tgme_widget_message_reactions js-message_reactions"><span class="tgme_reaction">\
<i class="emoji" style="background-image:url('//telegram.org/img/emoji/40/F09F918D.png')">\
<b>👍</b></i>1.2K</span><span class="tgme_reaction"><i class="emoji" style="background-image:\
url('//telegram.org/img/emoji/40/E29DA4.png')"><b>❤</b></i>318</span></div>
<div class="tgme_widget_message_footer compact js-message_footer">
  <div class="tgme_widget_message_info short js-message_info">
    <span class="tgme_widget_message_views">{views}</span><span class="copyonly"> views</span>\
<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" \
href="https://t.me/{handle}/{post}"><time datetime="{published}" class="time">{hhmm}</time></a>\
</span>
  </div>
</div>
  </div>
</div></div>"""

_TAIL = """
    </section>
  </div>
</main>
    <script src="//telegram.org/js/jquery.min.js?1"></script>
    <script src="//telegram.org/js/widget-frame.js?65"></script>
    <script src="//telegram.org/js/telegram-web.js?14"></script>
    <script>TWeb.init();</script>
  </body>
</html>
"""

_PLAIN = """<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>Telegram: View @{handle}</title>
    <meta property="og:title" content="{title}">
    <meta property="og:image" content="{avatar}">
    <meta property="og:site_name" content="Telegram">
    <meta property="og:description" content="{description}">
  </head>
  <body class="no_transition">
    <div class="tgme_page_wrap">
      <div class="tgme_body_wrap">
        <div class="tgme_page">
          <div class="tgme_page_photo"><a href="tg://resolve?domain={handle}"><img \
class="tgme_page_photo_image" src="{avatar}"></a></div>
<div class="tgme_page_title" dir="auto">
  <span dir="auto">{title}</span><i class="verified-icon"></i>
</div>
<div class="tgme_page_extra">{followers_exact} subscribers</div>
<div class="tgme_page_description" dir="auto">{description}</div>
<div class="tgme_page_context_link_wrap"><a class="tgme_page_context_link" href="/s/{handle}">\
Preview channel</a></div>
        </div>
      </div>
    </div>
  </body>
</html>
"""


def short_count(value: int) -> str:
    """Telegram's abbreviated count with three significant digits (``48.2K``, ``1.23M``)."""
    if value < 1000:
        return str(value)
    for size, suffix in ((1_000_000, "M"), (1_000, "K")):
        if value >= size:
            scaled = value / size
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            text = f"{scaled:.{digits}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return str(value)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))


class World:
    """The state of every channel, the change log and the request counters."""

    def __init__(self, n: int, *, seed: int = 1, rate: float = 0.0) -> None:
        rng = random.Random(seed)
        self.n = n
        self.rate = rate
        self.rng = random.Random(seed + 1)
        self.last_post = array("I", (100 + rng.randrange(2000) for _ in range(n)))
        self.followers = array(
            "I", (rng.choice((800, 4000, 30_000, 200_000)) + rng.randrange(999) for _ in range(n))
        )
        # 4-11 messages: pages of about 20-46 KB, the size range of real /s/ pages.
        self.page_len = array("B", (4 + rng.randrange(8) for _ in range(n)))
        self.cache: dict[int, tuple[tuple[int, int], bytes]] = {}
        self.post_times: dict[tuple[int, int], float] = {}
        self.changes: list[tuple[int, int, float]] = []
        self.fetches = array("I", bytes(4 * n))
        self.inflight = array("I", bytes(4 * n))
        self.overlaps = 0
        self.requests = 0
        self.plain_requests = 0
        self.bytes_sent = 0
        self.started = time.time()
        # The newest post of every channel is an hour old: nobody is silent at the start.
        self.base_time = int(self.started) - 3600

    def reset(self) -> None:
        """Zero the counters and forget the change log (the pages stay as they are)."""
        self.fetches = array("I", bytes(4 * self.n))
        self.overlaps = 0
        self.requests = 0
        self.plain_requests = 0
        self.bytes_sent = 0
        self.changes = []
        self.started = time.time()

    def change(self, now: float, *, upto: int | None = None) -> None:
        """Publish one new post on a random channel (below ``upto``), logging when."""
        index = self.rng.randrange(min(upto or self.n, self.n))
        post = self.last_post[index] + 1
        self.last_post[index] = post
        self.post_times[(index, post)] = now
        self.changes.append((index, post, now))
        if self.rng.random() < 0.3:
            self.followers[index] += self.rng.randrange(1, 40)

    def _common(self, index: int) -> dict[str, Any]:
        handle = handle_of(index)
        return {
            "handle": handle,
            "title": f"Deputy {index} | Parliament",
            "description": f"Official channel of member {index} (simulated for benchmarks).",
            "avatar": _AVATAR,
        }

    def page(self, index: int) -> bytes:
        """The ``/s/`` page of channel ``index`` as it is now (cached until it changes)."""
        key = (self.last_post[index], self.followers[index])
        hit = self.cache.get(index)
        if hit is not None and hit[0] == key:
            return hit[1]
        body = self._render(index)
        if len(self.cache) >= PAGE_CACHE:
            self.cache.pop(next(iter(self.cache)))
        self.cache[index] = (key, body)
        return body

    def _render(self, index: int) -> bytes:
        fields = self._common(index)
        last = self.last_post[index]
        first = last - self.page_len[index] + 1
        parts = [
            _HEAD.format(
                **fields,
                first=first,
                next=last + 1,
                followers_short=short_count(self.followers[index]),
            )
        ]
        for post in range(first, last + 1):
            ts = self.post_times.get(
                (index, post), self.base_time - (last - post) * 3600 * (1 + index % 5)
            )
            parts.append(
                _MESSAGE.format(
                    **fields,
                    post=post,
                    text=_TEXTS[(index + post) % len(_TEXTS)],
                    views=short_count(900 + (post * 37 + index) % 20_000),
                    published=_iso(ts),
                    hhmm=time.strftime("%H:%M", time.gmtime(ts)),
                )
            )
        parts.append(_TAIL)
        return "".join(parts).encode()

    def plain(self, index: int) -> bytes:
        """The plain ``/<handle>`` page with the exact subscriber count."""
        exact = f"{self.followers[index]:,}".replace(",", " ")
        return _PLAIN.format(**self._common(index), followers_exact=exact).encode()

    def stats(self) -> dict[str, Any]:
        """Request counters, double-poll evidence and the change count."""
        fetched = sum(1 for c in self.fetches if c)
        multi = sum(1 for c in self.fetches if c > 1)
        return {
            "n": self.n,
            "requests": self.requests,
            "plain_requests": self.plain_requests,
            "bytes_sent": self.bytes_sent,
            "accounts_fetched": fetched,
            "accounts_fetched_twice": multi,
            "max_fetches": max(self.fetches, default=0),
            "overlaps": self.overlaps,
            "changes": len(self.changes),
            "since_s": time.time() - self.started,
            "rate": self.rate,
        }


def _json(data: Any) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), content_type="application/json")


def make_handler(world: World, *, delay: float = 0.0) -> Any:
    """The low-level aiohttp request handler serving ``world``."""

    async def control(request: web.BaseRequest) -> web.Response:
        path = request.path
        if path == "/_bench/stats":
            return _json(world.stats())
        if path == "/_bench/changes":
            return _json([[handle_of(i), p, t] for i, p, t in world.changes])
        if path == "/_bench/reset":
            world.reset()
            return _json({"ok": True})
        if path == "/_bench/change":
            now = time.time()
            upto = int(request.query.get("upto", "0")) or None
            for _ in range(int(request.query.get("count", "1"))):
                world.change(now, upto=upto)
            return _json({"changes": len(world.changes)})
        if path == "/_bench/rate":
            world.rate = float(request.query.get("value", "0"))
            return _json({"rate": world.rate})
        return web.Response(status=404)

    async def handler(request: web.BaseRequest) -> web.Response:
        path = request.path
        if path.startswith("/_bench/"):
            return await control(request)
        plain = not path.startswith("/s/")
        index = index_of(path.rsplit("/", 1)[-1])
        if index is None or index >= world.n:
            return web.Response(status=404, text="not found")
        world.requests += 1
        if plain:
            world.plain_requests += 1
            body = world.plain(index)
        else:
            world.fetches[index] += 1
            if world.inflight[index]:
                world.overlaps += 1
            world.inflight[index] += 1
            try:
                if delay:
                    await asyncio.sleep(delay)
                body = world.page(index)
            finally:
                world.inflight[index] -= 1
        world.bytes_sent += len(body)
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    return handler


async def _changer(world: World) -> None:
    owed = 0.0
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.02)
        now = time.monotonic()
        owed += world.rate * (now - last)
        last = now
        while owed >= 1.0:
            world.change(time.time())
            owed -= 1.0


async def serve(n: int, *, port: int, rate: float, seed: int, delay: float) -> None:
    """Serve the world until SIGTERM/SIGINT, printing ``{"port": P}`` once listening."""
    world = World(n, seed=seed, rate=rate)
    server = web.Server(make_handler(world, delay=delay), access_log=None)
    runner = web.ServerRunner(server, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    print(json.dumps({"port": bound, "pid": os.getpid()}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(_changer(world))
    await stop.wait()
    task.cancel()
    await runner.cleanup()


class WorldProcess:
    """A world server in its own process; ``base_url`` is where it listens."""

    def __init__(self, n: int, *, rate: float = 0.0, seed: int = 1, delay: float = 0.0) -> None:
        self.args = [
            sys.executable,
            "-m",
            "bench.world",
            "--n",
            str(n),
            "--rate",
            str(rate),
            "--seed",
            str(seed),
            "--delay",
            str(delay),
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> WorldProcess:
        """Start the server and wait for its port."""
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, text=True, env=env, cwd=root
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the world process exited before listening")
        self.port = int(json.loads(line)["port"])
        return self

    def stop(self) -> None:
        """Stop the server."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _call(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(self.base_url + path, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        """The server's counters."""
        return dict(self._call("/_bench/stats"))

    def changes(self) -> list[tuple[str, int, float]]:
        """Every change since the last reset: (handle, post id, unix time it appeared)."""
        return [(h, int(p), float(t)) for h, p, t in self._call("/_bench/changes")]

    def reset(self) -> None:
        """Zero the counters and the change log."""
        self._call("/_bench/reset", "POST")

    def change(self, count: int, *, upto: int = 0) -> None:
        """Publish ``count`` new posts at once on random channels (of the first ``upto``)."""
        self._call(f"/_bench/change?count={count}&upto={upto}", "POST")

    def set_rate(self, rate: float) -> None:
        """Change how many new posts per second appear."""
        self._call(f"/_bench/rate?value={rate}", "POST")


@contextmanager
def running_world(n: int, *, rate: float = 0.0, seed: int = 1) -> Iterator[WorldProcess]:
    """A started :class:`WorldProcess`, stopped on exit."""
    world = WorldProcess(n, rate=rate, seed=seed).start()
    try:
        yield world
    finally:
        world.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line: serve a world of ``--n`` channels."""
    parser = argparse.ArgumentParser(prog="python -m bench.world", description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="number of channels")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--rate", type=float, default=0.0, help="new posts per second, overall")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--delay", type=float, default=0.0, help="added latency per page, seconds")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.n, port=args.port, rate=args.rate, seed=args.seed, delay=args.delay))


if __name__ == "__main__":
    main()
