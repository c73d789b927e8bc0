"""Start-up of ``govwatch poll-once`` with nothing due, against the libraries it needs.

On a fresh SQLite database of N Telegram accounts, none due (their next poll is a day
away), it runs, interleaved, R times each:

- ``python -m bot poll-once`` of this checkout (and of ``--before DIR``, another checkout,
  when given: the figure to compare, measured in the same run);
- the floor: ``python -c "import ..."`` of the libraries the polling path cannot do
  without (``FLOOR``, the issue's list), and
  that plus the ones it imports today that are not start-up code's to drop
  (``FLOOR_TODAY``: numpy for the same-text sketches, httpx, asyncpg, prometheus_client,
  PyStemmer, SQLAlchemy's PostgreSQL dialect);
- ``python -c pass``: the interpreter itself.

For each: the median wall seconds and the median CPU seconds (user+system of the child,
``RUSAGE_CHILDREN``). Then one ``python -X importtime`` run of this checkout, its
import self-times summed by top-level package. Bytecode is written and reused (as an
installed wheel has it), whatever ``PYTHONDONTWRITEBYTECODE`` says. Prints one JSON
document with the load average before and after: on a shared machine compare the
ratios of one run, and CPU more than wall.

``python -m bench.startup --runs 10 --before /tmp/govwatch-main``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bench.common import ROOT, drop_database, fresh_database, now_utc, rnd, seed_accounts
from bot.store.engine import Database
from bot.store.models import Account

#: The issue's floor: what polling cannot do without.
FLOOR = (
    "sqlalchemy.ext.asyncio, sqlalchemy.orm, aiosqlite, aiohttp, pydantic_settings, "
    "selectolax.lexbor"
)
#: The floor plus what the path imports today that is not start-up code's to drop.
FLOOR_TODAY = (
    FLOOR + ", numpy, Stemmer, prometheus_client, httpx, asyncpg, sqlalchemy.dialects.postgresql"
)
_IMPORT = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)\s*$", re.M)


async def _database(n: int) -> str:
    url = await fresh_database("sqlite", label="startup")
    db = Database(url)  # fresh_database has migrated it
    try:
        await seed_accounts(db, n)
        async with db.engine.begin() as conn:
            await conn.execute(update(Account).values(next_poll_at=now_utc() + timedelta(days=1)))
    finally:
        await db.close()
    return url


def _env(url: str, checkout: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env |= {"GOVWATCH_DATABASE__URL": url, "PYTHONPATH": str(checkout)}
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def _load() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def import_breakdown(env: dict[str, str], top: int = 15) -> dict[str, float]:
    """Milliseconds of import self-time of one poll-once, by top-level package."""
    cmd = [sys.executable, "-X", "importtime", "-m", "bot", "poll-once"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    spent: Counter[str] = Counter()
    for micros, name in _IMPORT.findall(done.stderr):
        spent[name if name.startswith("bot.") else name.split(".")[0]] += int(micros)
    total = sum(spent.values())
    figures = {name: rnd(us / 1000, 1) or 0.0 for name, us in spent.most_common(top)}
    return {"total_ms": rnd(total / 1000, 1) or 0.0, **figures}


def measure(n: int, runs: int, before: Path | None) -> dict[str, Any]:
    """The figures of one run, as a dict."""
    url = asyncio.run(_database(n))
    try:
        return _measure(url, n, runs, before)
    finally:
        asyncio.run(drop_database(url))


def _measure(url: str, n: int, runs: int, before: Path | None) -> dict[str, Any]:
    here = _env(url, ROOT)
    poll = [sys.executable, "-m", "bot", "poll-once"]
    commands: dict[str, tuple[list[str], dict[str, str]]] = {"after": (poll, here)}
    if before is not None:
        commands["before"] = (poll, _env(url, before))
    commands |= {
        "floor": ([sys.executable, "-c", f"import {FLOOR}"], here),
        "floor_today": ([sys.executable, "-c", f"import {FLOOR_TODAY}"], here),
        "python": ([sys.executable, "-c", "pass"], here),
    }
    for cmd, env in commands.values():
        _timed(cmd, env)  # writes the bytecode; not counted
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    load_before = _load()
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            times[name].append(_timed(cmd, env))
    result: dict[str, Any] = {"accounts": n, "runs": runs, "load_before": load_before}
    for name, pairs in times.items():
        result[name] = {
            "wall_s": rnd(statistics.median(w for w, _ in pairs), 3),
            "cpu_s": rnd(statistics.median(c for _, c in pairs), 3),
        }
    result["load_after"] = _load()
    result["imports_ms"] = import_breakdown(here)
    return result


def main() -> None:
    """Command line: ``--accounts N --runs R [--before DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--before", type=Path, default=None, help="another checkout to time")
    args = parser.parse_args()
    print(json.dumps(measure(args.accounts, args.runs, args.before), ensure_ascii=False))


if __name__ == "__main__":
    main()
