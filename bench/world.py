"""A simulated world of N Telegram channels, served on loopback by a separate process.

Run it as ``python -m bench.world --n 1000 --rate 5`` (it prints one JSON line with its
port once it listens), or use :class:`WorldProcess` from a benchmark. Every channel
``bw000000``..``bwNNNNNN`` has a ``/s/<handle>`` page (20-44 KB) and a plain ``/<handle>``
page with the exact subscriber count, both rendered by bot.demo.tme from the real markup.
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
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.demo.tme import TmeChannel, TmePost, channel_page, plain_page

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

_DATA_VIEW = (
    "eyJjIjotMTk4NzY1NDMyMSwicCI6MTQ3MywidCI6MTc3ODE1MDQxMywiaCI6IjRjMWU5YTc3ZDIwYjNmNmU1MSJ9"
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

    def _channel(self, index: int, posts: tuple[TmePost, ...] = ()) -> TmeChannel:
        return TmeChannel(
            handle=handle_of(index),
            title=f"Deputy {index} | Parliament",
            followers=self.followers[index],
            description=f"Official channel of member {index} (simulated for benchmarks).",
            avatar=_AVATAR,
            verified=True,
            posts=posts,
            has_older=True,
            counters=(("1.12K", "photos"), ("214", "videos"), ("2.05K", "links")),
        )

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
        last = self.last_post[index]
        first = last - self.page_len[index] + 1
        posts = tuple(self._post(index, post, last) for post in range(first, last + 1))
        return channel_page(self._channel(index, posts))

    def _post(self, index: int, post: int, last: int) -> TmePost:
        ts = self.post_times.get(
            (index, post), self.base_time - (last - post) * 3600 * (1 + index % 5)
        )
        text = _TEXTS[(index + post) % len(_TEXTS)]
        return TmePost(
            id=post,
            html=f'{text} <a href="?q=%23news{post}">#news</a>',
            published_at=datetime.fromtimestamp(ts, UTC),
            views=900 + (post * 37 + index) % 20_000,
            data_view=_DATA_VIEW,
            photo=_AVATAR,
            reactions=(("👍", "1.2K"), ("❤", "318")),
        )

    def plain(self, index: int) -> bytes:
        """The plain ``/<handle>`` page with the exact subscriber count."""
        return plain_page(self._channel(index))

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
