"""The public report page over HTTP: p50/p95 of ``GET /w/<watchlist>`` at scale.

History comes from ``bench.queries.generate`` (``--accounts`` officials with one account
each, ``--days`` of readings and posts, all in one watchlist ``bench``). A real
``WebServer`` serves it on loopback and an aiohttp client asks for the report page:

- ``cold``: every request renders (the page cache off): what one rendering costs;
- ``warm``: the same link asked again and again (the shared-link case);
- ``churn``: as warm, while a writer adds a snapshot every 0.5 s, so the data version
  changes all the time (a live poller) and pages are re-rendered in the background;
- ``304``: revalidation with the page's ETag.

``python -m bench.web --db postgres --accounts 5000 --days 365 --keep`` prints one JSON
line (``--reuse URL`` times a kept database again without generating).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlalchemy import insert

from bench.common import drop_database, fresh_database, percentile, rnd
from bench.queries import generate
from bot.config import Settings
from bot.store.engine import Database
from bot.store.models import Snapshot
from bot.web.cache import PageCache
from bot.web.limits import RateLimiter
from bot.web.server import WebServer

PAGE = "/w/bench?lang=en"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _times(
    base: str, count: int, headers: dict[str, str] | None = None, *, seconds: float = 0.0
) -> dict[str, Any]:
    # ``count`` requests, or as many as fit in ``seconds`` when that is given.
    samples: list[float] = []
    statuses: set[int] = set()
    until = time.perf_counter() + seconds
    async with aiohttp.ClientSession() as http:
        while len(samples) < count or time.perf_counter() < until:
            start = time.perf_counter()
            async with http.get(base + PAGE, headers=headers or {}) as response:
                await response.read()
                statuses.add(response.status)
            samples.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": rnd(percentile(samples, 50)),
        "p95_ms": rnd(percentile(samples, 95)),
        "n": len(samples),
        "status": sorted(statuses),
    }


async def _churn(db: Database, stop: asyncio.Event) -> int:
    # A live poller: a new snapshot every half second changes the data version.
    written = 0
    while not stop.is_set():
        async with db.engine.begin() as conn:
            await conn.execute(
                insert(Snapshot),
                [{"account_id": 1 + written % 100, "observed_at": datetime.now(UTC),
                  "followers": 1000 + written}],
            )  # fmt: skip
        written += 1
        await asyncio.sleep(0.5)
    return written


async def _serve(url: str, *, cache: PageCache | None) -> tuple[WebServer, str]:
    settings = Settings.model_validate(
        {"database": {"url": url}, "web": {"port": _port(), "cache_for": "60s"}}
    )
    server = WebServer(settings, db=Database(url), limiter=RateLimiter(100_000))
    if cache is not None:
        server.site.cache = cache
    await server.start()
    return server, f"http://127.0.0.1:{settings.web.port}"


async def measure(url: str, *, requests: int, cold: int, churn: float) -> dict[str, Any]:
    """Time the report page cold, warm, under churn and revalidated."""
    out: dict[str, Any] = {}
    server, base = await _serve(url, cache=PageCache(max_age=0))
    try:
        out["cold"] = await _times(base, cold)
    finally:
        await server.stop()
        await server.site.db.close()
    server, base = await _serve(url, cache=None)
    try:
        await _times(base, 1)  # the first rendering
        out["warm"] = await _times(base, requests)
        async with aiohttp.ClientSession() as http, http.get(base + PAGE) as response:
            etag = response.headers["ETag"]
        out["304"] = await _times(base, requests, {"If-None-Match": etag})
        stop = asyncio.Event()
        writer = asyncio.create_task(_churn(server.site.db, stop))
        out["churn"] = await _times(base, 0, seconds=churn)
        stop.set()
        out["churn"]["snapshots_written"] = await writer
        out["cache"] = {
            "renders": server.site.cache.renders,
            "stale_served": server.site.cache.stale,
            "version_reads": server.site.versions.reads,
        }
    finally:
        await server.stop()
        await server.site.db.close()
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate (or reuse) the history and measure."""
    url = args.reuse or await fresh_database(args.db, label="web")
    made: dict[str, Any] = {}
    try:
        if not args.reuse:
            db = Database(url)
            try:
                made = await generate(db, args.accounts, args.days, mode="change")
            finally:
                await db.close()
        timings = await measure(url, requests=args.requests, cold=args.cold, churn=args.churn)
    finally:
        if not args.keep and not args.reuse:
            await drop_database(url)
    return {
        "db": args.db,
        "url": url if args.keep or args.reuse else None,
        "accounts": None if args.reuse else args.accounts,
        "days": None if args.reuse else args.days,
        **made,
        **timings,
        "loadavg_1m": rnd(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.web")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cold", type=int, default=5, help="requests with the cache off")
    parser.add_argument("--churn", type=float, default=20.0, help="seconds of requests under churn")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--reuse", metavar="URL", help="time a database kept by --keep")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
