"""This machine's ceiling: raw HTTP GETs of the world's pages per second, and parse-only.

Raw GETs use a bare aiohttp session (no guards) and govwatch's HttpClient (every guard,
limits lifted), at several concurrencies; parse-only runs the Telegram /s/ parser over
pages fetched once; fetch-and-parse is the bare GET plus the parser, the figure the
end-to-end polling rate is compared with.

``python -m bench.ceiling`` needs no server: it renders the bench world's /s/ pages in
process and prints the parser's CPU milliseconds per page next to lexbor's own parse of
the same pages (the floor), the best of many rounds of process time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bench.common import rnd
from bench.world import World, handle_of
from bot.config import HttpSettings

Parser = Callable[[bytes], Any]


def find_parser() -> Parser | None:
    """The pure Telegram /s/ page parser from bot.sources.telegram, or None if absent."""
    try:
        from bot.sources.telegram import parse_channel_page
    except ImportError:
        return None
    from bench.common import now_utc

    def parse(body: bytes) -> Any:
        return parse_channel_page(body, channel="bw000000", fetched_at=now_utc())

    return parse


async def _run_workers(
    concurrency: int, seconds: float, one: Callable[[int], Awaitable[None]], n: int
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await one(rng.randrange(n))
            done += 1

    start = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    _CPU_MS[0] = (time.process_time() - cpu) * 1000 / max(done, 1)
    return done / (time.perf_counter() - start)


#: Client-side CPU milliseconds per request of the last _run_workers call.
_CPU_MS = [0.0]


async def raw_gets(
    base_url: str, n: int, *, concurrency: int, seconds: float, parser: Parser | None = None
) -> float:
    """Bare aiohttp GETs (and parses, when ``parser`` is given) of /s/ pages per second."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int) -> None:
            async with session.get(f"{base_url}/s/{handle_of(index)}") as resp:
                body = await resp.read()
            if parser is not None:
                parser(body)

        return await _run_workers(concurrency, seconds, one, n)


async def client_gets(base_url: str, n: int, *, concurrency: int, seconds: float) -> float:
    """govwatch HttpClient GETs of /s/ pages per second (guards on, limits lifted)."""
    from bot.net.client import HttpClient

    settings = HttpSettings(
        allow_private_networks=True,
        per_host_concurrency=concurrency,
        per_host_rate=1_000_000.0,
        max_connections=max(concurrency, 16),
    )
    async with HttpClient(settings) as client:

        async def one(index: int) -> None:
            await client.get(f"{base_url}/s/{handle_of(index)}")

        return await _run_workers(concurrency, seconds, one, n)


async def sample_pages(base_url: str, n: int, count: int = 100) -> list[bytes]:
    """Fetch ``count`` distinct pages once, for parse-only timing."""
    async with aiohttp.ClientSession() as session:
        pages = []
        for index in range(0, n, max(1, n // count))[:count]:
            async with session.get(f"{base_url}/s/{handle_of(index)}") as resp:
                pages.append(await resp.read())
        return pages


def parse_only(parser: Parser, pages: list[bytes], *, seconds: float) -> float:
    """Parses per CPU second of saved pages, on one core (CPU time: load does not skew it)."""
    done = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        parser(pages[done % len(pages)])
        done += 1
    return done / (time.process_time() - start)


async def measure(
    base_url: str, n: int, *, seconds: float = 2.0, concurrencies: tuple[int, ...] = (16, 64)
) -> dict[str, Any]:
    """Every ceiling figure; the best concurrency is kept for each."""
    parser = find_parser()
    raw: dict[int, float] = {}
    cpu: dict[str, float | None] = {}
    for c in concurrencies:
        raw[c] = await raw_gets(base_url, n, concurrency=c, seconds=seconds)
        cpu["raw_get"] = rnd(_CPU_MS[0], 3)
    client: dict[int, float] = {}
    try:
        for c in concurrencies:
            client[c] = await client_gets(base_url, n, concurrency=c, seconds=seconds)
            cpu["client_get"] = rnd(_CPU_MS[0], 3)
    except ImportError:
        client = {}
    result: dict[str, Any] = {
        "raw_get_per_s": {c: rnd(v) for c, v in raw.items()},
        "client_get_per_s": {c: rnd(v) for c, v in client.items()} or None,
        "parse_per_s": None,
        "fetch_parse_per_s": None,
        "parser": parser is not None,
        "client_cpu_ms_per_request": cpu,
    }
    if parser is not None:
        pages = await sample_pages(base_url, n)
        result["parse_per_s"] = rnd(parse_only(parser, pages, seconds=seconds))
        result["parse_cpu_ms"] = rnd(1000 / result["parse_per_s"], 3)
        best = max(raw, key=lambda c: raw[c])
        result["fetch_parse_per_s"] = rnd(
            await raw_gets(base_url, n, concurrency=best, seconds=seconds, parser=parser)
        )
        cpu["raw_get_parse"] = rnd(_CPU_MS[0], 3)
    return result


def parse_cost(parser: Parser, pages: list[bytes], *, rounds: int = 20) -> dict[str, float]:
    """CPU ms per page of ``parser`` and of lexbor's parse alone, each the best of ``rounds``."""
    from selectolax.lexbor import LexborHTMLParser

    best = {"parse_ms": float("inf"), "lexbor_ms": float("inf")}
    for _ in range(rounds):
        # Interleaved, so both see the same load; the best round is the least disturbed one.
        for name, run in (("parse_ms", parser), ("lexbor_ms", LexborHTMLParser)):
            start = time.process_time()
            for body in pages:
                run(body)
            best[name] = min(best[name], (time.process_time() - start) * 1000 / len(pages))
    return {**best, "ratio_to_lexbor": best["parse_ms"] / best["lexbor_ms"]}


def main(argv: list[str] | None = None) -> None:
    """Command line: the /s/ parser's CPU ms per page over the bench world's pages."""
    args = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__)
    args.add_argument("--n", type=int, default=300, help="channels in the world")
    args.add_argument("--seed", type=int, default=1)
    args.add_argument("--rounds", type=int, default=20, help="passes over the pages")
    opts = args.parse_args(argv)
    parser = find_parser()
    if parser is None:
        raise SystemExit("bot.sources.telegram.parse_channel_page is missing")
    world = World(opts.n, seed=opts.seed)
    pages = [world.page(index) for index in range(opts.n)]
    cost = parse_cost(parser, pages, rounds=opts.rounds)
    report = {k: round(v, 3) for k, v in cost.items()}
    report |= {"pages": len(pages), "mean_page_bytes": sum(map(len, pages)) // len(pages)}
    print(json.dumps(report | {"loadavg": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
