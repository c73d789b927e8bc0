"""How fast /top answers on a long history written inside the database.

``python -m bench.top_history --db sqlite --accounts 5000 --days 365`` generates the
history with the in-database generator of tests/test_reports_bench.py (generate_series on
PostgreSQL, a recursive CTE on SQLite), checks the leaderboard against the generator's
numbers, then prints one JSON line: p50/p95 wall time and p50 CPU time (ms) of each
/top case. On a shared machine wall time includes waiting for a CPU; the CPU time of this
process (which, on SQLite, includes the database work) shows the cost itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from bench.common import drop_database, fresh_database, rnd
from bot.reports.leaderboard import top
from bot.store.engine import Database
from tests.test_reports_bench import CASES, END, Size, _check_numbers, generate


async def measure(db: Database, runs: int, **kwargs: object) -> tuple[float, float, float]:
    """p50 and p95 wall time and p50 CPU time of this process, in ms, of ``top(**kwargs)``.

    On a shared machine wall time includes waiting for a CPU; the CPU time of this
    process (which, on SQLite, includes the database work) shows the cost itself.
    """
    timings, cpu = [], []
    for _ in range(runs):
        async with db.sessions() as session:
            began, began_cpu = time.perf_counter(), time.process_time()
            await top(session, now=END, **kwargs)  # type: ignore[arg-type]
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return statistics.median(timings), p95, statistics.median(cpu)


async def run(kind: str, size: Size, *, runs: int) -> dict[str, Any]:
    """Generate ``size`` on a fresh (migrated) ``kind`` database and time every /top case."""
    url = await fresh_database(kind, label="top")
    db = Database(url)
    try:
        began = time.perf_counter()
        await generate(db, size)
        result: dict[str, Any] = {"db": kind, "accounts": size.accounts, "days": size.days}
        result["generate_s"] = rnd(time.perf_counter() - began)
        await _check_numbers(db, size)
        for case in CASES:
            p50, p95, cpu = await measure(db, runs, **case)
            label = " ".join(f"{k}={v}" for k, v in case.items())
            result[label] = {"p50_ms": rnd(p50), "p95_ms": rnd(p95), "cpu_p50_ms": rnd(cpu)}
        return result
    finally:
        await db.close()
        await drop_database(url)


def main(argv: list[str] | None = None) -> None:
    """Print the /top timings as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.top_history")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    size = Size(accounts=args.accounts, days=args.days)
    print(json.dumps(asyncio.run(run(args.db, size, runs=args.runs)), default=str))


if __name__ == "__main__":
    main()
