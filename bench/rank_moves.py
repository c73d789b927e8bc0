"""What rank movement costs /top: the board alone against the board plus its moves.

``python -m bench.rank_moves --db sqlite --accounts 2000 --days 60`` generates the
history with tests/test_reports_bench.py's in-database generator, then for each /top
case times ``top()`` and ``top()`` + ``rank_moves()`` in the same run (peers: the ratio
is what counts) and prints one JSON line with p50 wall and CPU times (ms), the ratio and
the load average next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from typing import Any

from bench.common import drop_database, fresh_database, rnd
from bot.reports.leaderboard import top
from bot.reports.movement import rank_moves
from bot.store.engine import Database
from tests.test_reports_bench import CASES, END, Size, generate


async def measure(db: Database, runs: int, *, moves: bool, **kwargs: Any) -> tuple[float, float]:
    """p50 wall and CPU time (ms) of /top's queries, with or without the moves."""
    wall, cpu = [], []
    for _ in range(runs):
        async with db.sessions() as session:
            began, began_cpu = time.perf_counter(), time.process_time()
            board = await top(session, now=END, **kwargs)
            if moves:
                await rank_moves(session, board)
            wall.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


async def run(kind: str, size: Size, *, runs: int) -> dict[str, Any]:
    """Generate ``size`` on a fresh ``kind`` database and time every case both ways."""
    url = await fresh_database(kind, label="moves")
    db = Database(url)
    try:
        await generate(db, size)
        result: dict[str, Any] = {"db": kind, "accounts": size.accounts, "days": size.days}
        for case in CASES:
            plain, plain_cpu = await measure(db, runs, moves=False, **case)
            both, both_cpu = await measure(db, runs, moves=True, **case)
            label = " ".join(f"{k}={v}" for k, v in case.items())
            result[label] = {
                "top_p50_ms": rnd(plain),
                "top_and_moves_p50_ms": rnd(both),
                "ratio": rnd(both / plain, 2) if plain else None,
                "top_cpu_ms": rnd(plain_cpu),
                "top_and_moves_cpu_ms": rnd(both_cpu),
            }
        result["loadavg"] = [round(v, 2) for v in os.getloadavg()]
        return result
    finally:
        await db.close()
        await drop_database(url)


def main(argv: list[str] | None = None) -> None:
    """Print the timings as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.rank_moves")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    size = Size(accounts=args.accounts, days=args.days)
    print(json.dumps(asyncio.run(run(args.db, size, runs=args.runs)), default=str))


if __name__ == "__main__":
    main()
