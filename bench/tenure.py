"""What tenure costs ``/top`` and ``/report`` for a watchlist: the same history timed
before and after every member gets positions (a tenth of them left office a year ago,
a twentieth hold two), as peers in one run.

``python -m bench.tenure --db sqlite --accounts 2000 --days 14`` prints one JSON line
with the load average next to the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert

from bench.common import drop_database, fresh_database, now_utc, rnd
from bench.queries import _time, generate
from bot.reports.cabinet import cabinet_report
from bot.reports.leaderboard import top
from bot.store.engine import Database
from bot.store.models import Position

MONTH = timedelta(days=30)
QUERIES = {
    "top_watchlist": lambda s: top(s, watchlist="bench"),
    "top_growth_watchlist": lambda s: top(s, watchlist="bench", metric="growth"),
    "report_watchlist_30d": lambda s: cabinet_report(s, watchlist="bench", period=MONTH),
}


async def _add_positions(db: Database, officials: int) -> int:
    today = now_utc().date()
    rows: list[dict[str, Any]] = []
    for i in range(1, officials + 1):
        ended = today - timedelta(days=365) if i % 10 == 0 else None
        rows.append({"official_id": i, "title": f"Member {i}", "start": date(2020, 1, 1),
                     "end": ended})  # fmt: skip
        if i % 20 == 0:
            rows.append({"official_id": i, "title": f"Deputy {i}", "start": date(2018, 1, 1),
                         "end": date(2019, 12, 31)})  # fmt: skip
    async with db.engine.begin() as conn:
        for lo in range(0, len(rows), 1000):
            await conn.execute(insert(Position), rows[lo : lo + 1000])
        await conn.exec_driver_sql("ANALYZE")
    return len(rows)


async def measure(kind: str, *, accounts: int, days: int, repeat: int) -> dict[str, Any]:
    """Time the watchlist queries without positions, then with them."""
    url = await fresh_database(kind, label="tenure")
    db = Database(url)
    try:
        await generate(db, accounts, days, mode="change")
        before = {n: await _time(db, q, repeat) for n, q in QUERIES.items()}
        positions = await _add_positions(db, accounts)
        after = {n: await _time(db, q, repeat) for n, q in QUERIES.items()}
    finally:
        await db.close()
        await drop_database(url)
    ratios = {n: rnd((after[n]["p50_ms"] or 0) / (before[n]["p50_ms"] or 1), 2) for n in QUERIES}
    return {
        "db": kind,
        "accounts": accounts,
        "days": days,
        "positions": positions,
        "without_positions": before,
        "with_positions": after,
        "p50_ratio": ratios,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.tenure")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure(args.db, accounts=args.accounts, days=args.days, repeat=args.repeat)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
