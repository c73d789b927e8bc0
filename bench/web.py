"""The public report page over HTTP: p50/p95 of ``GET /w/<watchlist>`` at scale.

History comes from ``bench.queries.generate`` (``--accounts`` officials with one account
each, ``--days`` of readings and posts, all in one watchlist ``bench``). A real
``WebServer`` serves it on loopback and an aiohttp client asks for the report page:

- ``cold``: every request renders (the page cache off): what one rendering costs, in
  wall time and in this process's CPU time (server and client share the process);
- ``warm``: the same link asked again and again (the shared-link case);
- ``churn``: as warm, while a writer adds a snapshot and a post every 0.5 s, so the data
  version changes all the time (a live poller) and pages are re-rendered in the
  background; ``renders`` and ``served_age_max_s`` (the oldest page a reader got, by its
  Last-Modified) say how current the pages stayed;
- ``304``: revalidation with the page's ETag.

A generated database is vacuumed before timing (``VACUUM (ANALYZE)`` on PostgreSQL): a
bulk load leaves the visibility map and the BRIN summaries unset, which autovacuum sets
on a live database; without it one rendering reads the whole snapshots table.

``python -m bench.web --db postgres --accounts 5000 --days 365 --keep`` prints one JSON
line (``--reuse URL`` times a kept database again without generating; the churn's rows
stay in it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from sqlalchemy import insert

from bench.common import drop_database, fresh_database, percentile, rnd
from bench.queries import generate
from bot.config import Settings
from bot.store.engine import Database
from bot.store.models import Post, Snapshot
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
    oldest = 0.0
    until = time.perf_counter() + seconds
    cpu = time.process_time()
    async with aiohttp.ClientSession() as http:
        while len(samples) < count or time.perf_counter() < until:
            start = time.perf_counter()
            async with http.get(base + PAGE, headers=headers or {}) as response:
                await response.read()
                statuses.add(response.status)
                made = response.headers.get("Last-Modified")
            samples.append((time.perf_counter() - start) * 1000)
            if made:
                age = (datetime.now(UTC) - parsedate_to_datetime(made)).total_seconds()
                oldest = max(oldest, age)
    return {
        "p50_ms": rnd(percentile(samples, 50)),
        "p95_ms": rnd(percentile(samples, 95)),
        "max_ms": rnd(max(samples)),
        "cpu_ms_per_request": rnd((time.process_time() - cpu) * 1000 / len(samples)),
        "n": len(samples),
        "status": sorted(statuses),
        "served_age_max_s": rnd(oldest, 1),
    }


async def _churn(db: Database, stop: asyncio.Event) -> int:
    # A live poller: a new snapshot and a new post every half second change the version.
    written = 0
    while not stop.is_set():
        now = datetime.now(UTC)
        account = 1 + written % 100
        async with db.engine.begin() as conn:
            await conn.execute(
                insert(Snapshot),
                [{"account_id": account, "observed_at": now, "followers": 1000 + written}],
            )
            await conn.execute(
                insert(Post),
                [{"account_id": account, "platform_post_id": f"churn-{now.timestamp()}",
                  "published_at": now, "text": "churn", "first_seen_at": now,
                  "last_seen_at": now}],
            )  # fmt: skip
        written += 1
        await asyncio.sleep(0.5)
    return written


async def _vacuum(url: str) -> None:
    # What autovacuum does on a live database: the visibility map and BRIN summaries.
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            vacuum = "VACUUM (ANALYZE)" if db.dialect == "postgresql" else "ANALYZE"
            await conn.exec_driver_sql(vacuum)
    finally:
        await db.close()


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
        renders_before = server.site.cache.renders
        writer = asyncio.create_task(_churn(server.site.db, stop))
        out["churn"] = await _times(base, 0, seconds=churn)
        stop.set()
        out["churn"]["rows_written"] = await writer
        await server.site.cache.wait_refreshed()
        out["churn"]["renders"] = server.site.cache.renders - renders_before
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
        if not args.reuse or args.vacuum:
            await _vacuum(url)
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
        "loadavg": [rnd(x, 2) for x in os.getloadavg()],
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
    parser.add_argument("--vacuum", action="store_true", help="vacuum a --reuse database first")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
