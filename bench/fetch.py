"""CPU per fetch on the direct path: ``HttpClient.get`` against bare aiohttp, same pages.

N channel pages (20-44 KB of real t.me markup) are served by one world process; this
process fetches each of them ``--rounds`` times with 64 requests in flight, through
``HttpClient.get`` (URL guard, per-host gate, deadline, redirect loop, capped reading)
and with a bare ``aiohttp.ClientSession`` reading the whole body, and reports CPU
microseconds of this process per fetch (``time.process_time``: a figure that holds on a
busy machine) and fetches per second. The difference is what the guards and limits cost
per request (``guards_us_per_fetch``); the two take turns round by round, so both see
the same machine. The world's own CPU is not counted.

``python -m bench.fetch --n 1000`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bench.common import bench_settings, rnd
from bench.world import WorldProcess, handle_of
from bot.net.client import HttpClient

IN_FLIGHT = 64
_HEADERS = {"Accept": "text/html"}

Fetch = Callable[[str], Awaitable[int]]


class _Tally:
    """CPU and wall seconds and fetches of one client over its rounds."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0
        self.fetches = 0

    def figures(self) -> dict[str, Any]:
        return {
            "fetches": self.fetches,
            "cpu_us_per_fetch": rnd(1e6 * self.cpu / self.fetches) if self.fetches else None,
            "fetches_per_s": rnd(self.fetches / self.wall) if self.wall > 0 else None,
        }


async def _round(fetch: Fetch, urls: list[str], tally: _Tally | None) -> None:
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one(url: str) -> int:
        async with slots:
            return await fetch(url)

    c0, t0 = time.process_time(), time.perf_counter()
    sizes = await asyncio.gather(*(one(u) for u in urls))
    if tally is not None:
        tally.cpu += time.process_time() - c0
        tally.wall += time.perf_counter() - t0
        tally.fetches += sum(1 for s in sizes if s > 0)


async def measure(n: int, rounds: int) -> dict[str, Any]:
    """Both clients over the same pages, their rounds taking turns; one dict of figures."""
    world = WorldProcess(n).start()
    urls = [f"{world.base_url}/s/{handle_of(i)}" for i in range(n)]
    settings = bench_settings("sqlite+aiosqlite://", world.base_url)
    out: dict[str, Any] = {"n": n, "rounds": rounds, "load_avg_before": os.getloadavg()[0]}
    connector = aiohttp.TCPConnector(limit=settings.http.max_connections)
    try:
        async with (
            HttpClient(settings.http) as http,
            aiohttp.ClientSession(connector=connector, auto_decompress=False) as bare,
        ):

            async def guarded(url: str) -> int:
                response = await http.get(url, headers=_HEADERS)
                return len(response.body) if response.status == 200 else 0

            async def plain(url: str) -> int:
                sent = {**_HEADERS, "Accept-Encoding": "gzip, deflate"}
                async with bare.get(url, headers=sent) as response:
                    body = await response.read()
                return len(body) if response.status == 200 else 0

            tallies = {"http_client": _Tally(), "bare_aiohttp": _Tally()}
            clients = {"http_client": guarded, "bare_aiohttp": plain}
            for fetch in clients.values():
                await _round(fetch, urls[: max(1, n // 5)], None)  # warm both pools
            # Taking turns round by round, both see the same machine (it may be shared).
            for _ in range(rounds):
                for name, fetch in clients.items():
                    await _round(fetch, urls, tallies[name])
            out |= {name: tally.figures() for name, tally in tallies.items()}
    finally:
        world.stop()
    out["load_avg_after"] = os.getloadavg()[0]
    c, b = out["http_client"]["cpu_us_per_fetch"], out["bare_aiohttp"]["cpu_us_per_fetch"]
    out["guards_us_per_fetch"] = rnd(c - b) if c and b else None
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.fetch", description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="channel pages")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the pages")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.n, args.rounds))), flush=True)


if __name__ == "__main__":
    main()
