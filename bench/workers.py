"""Several ``govwatch run`` processes on one database: throughput and double polls.

N accounts are seeded in a fresh database (PostgreSQL, or SQLite with ``--db sqlite``)
and served by a world process; K ``python -m bot run --workers W`` processes start
together (K x W polling processes: ``--workers`` is each one's worker count, as on
several machines sharing one PostgreSQL) with a poll interval far longer than the run,
so every account must be fetched exactly once. The world counts fetches per account:
an account fetched twice is a double poll, and two fetches of one account at the same
moment are an overlap. Throughput is accounts fetched per second from the first fetch
until all N were fetched (the last ones also stored: the run waits for the database).

``python -m bench.workers --processes 1 --workers 2 --n 2000`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    ROOT,
    RssSampler,
    bench_settings,
    drop_database,
    fresh_database,
    rnd,
    seed_accounts,
    settings_env,
)
from bench.world import WorldProcess
from bot.store.engine import Database
from bot.store.models import Account


async def _polled(db: Database) -> int:
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            select(func.count()).select_from(Account).where(Account.last_polled_at.is_not(None))
        )
    return int(value or 0)


def _start_workers(
    count: int, workers: int, env: dict[str, str], log_dir: str
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(count):
        log = open(os.path.join(log_dir, f"run{i}.log"), "wb")  # noqa: SIM115 - lives with proc
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--workers", str(workers)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> list[int | None]:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=20))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes


async def measure(
    processes: int,
    n: int,
    *,
    timeout: float,
    concurrency: int,
    workers: int = 1,
    kind: str = "postgres",
) -> dict[str, Any]:
    """Run ``processes`` x ``workers`` pollers over N accounts until each was polled."""
    import tempfile

    world = WorldProcess(n).start()
    url = await fresh_database(kind, label=f"workers{processes}x{workers}")
    db = Database(url)
    log_dir = tempfile.mkdtemp(prefix="govwatch-bench-workers-")
    result: dict[str, Any] = {
        "processes": processes,
        "workers": workers,
        "db": kind,
        "n": n,
        "logs": log_dir,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await seed_accounts(db, n)
        settings = bench_settings(
            url,
            world.base_url,
            scheduler={
                "max_concurrency": concurrency,
                "poll_interval": "6h",
                "jitter": "0s",
                "tick": "1s",
            },
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
        env.update(settings_env(settings))
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
        world.reset()
        start = time.perf_counter()
        procs = _start_workers(processes, workers, env, log_dir)
        first = done = None
        polled = 0
        with RssSampler([p.pid for p in procs]) as rss:  # the supervisors (children: see logs)
            while time.perf_counter() - start < timeout:
                await asyncio.sleep(0.25)
                if any(p.poll() is not None for p in procs):
                    result["error"] = "a worker exited early; see " + log_dir
                    break
                stats = world.stats()
                if first is None and stats["requests"]:
                    first = time.perf_counter()
                polled = await _polled(db)
                if polled >= n:
                    done = time.perf_counter()
                    break
            await asyncio.sleep(1.0)  # let a double poll, if any, show up
        stats = world.stats()
        result["exit_codes"] = _stop(procs)
        procs = []
        result.update(
            {
                "polled": polled,
                "startup_s": rnd((first or start) - start, 1),
                "seconds": rnd((done - first) if done and first else None, 1),
                "polls_per_s": rnd(n / (done - first)) if done and first else None,
                "double_polls": stats["accounts_fetched_twice"],
                "overlaps": stats["overlaps"],
                "accounts_fetched": stats["accounts_fetched"],
                "requests": stats["requests"],
                "peak_rss_mb_all_workers": rnd(rss.peak_mb),
            }
        )
        if done is None and "error" not in result:
            result["error"] = f"only {polled} of {n} polled in {timeout:.0f} s"
    finally:
        if procs:
            _stop(procs)
        world.stop()
        await db.close()
        await drop_database(url)
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    parser.add_argument("--processes", type=int, default=1, help="`run` processes")
    parser.add_argument("--workers", type=int, default=2, help="--workers of each")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure(
            args.processes,
            args.n,
            timeout=args.timeout,
            concurrency=args.concurrency,
            workers=args.workers,
            kind=args.db,
        )
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
