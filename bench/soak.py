"""The long soak of the crash-safety suite: the CI scenarios, many more iterations and seeds.

    python -m bench.soak [--iterations 40] [--seeds 1,2,3] [--feeds 6]
                         [--database-url postgresql+asyncpg://postgres@127.0.0.1/gw_soak]
                         [--restart-postgres "systemctl restart postgresql"]

Scenarios per seed: SIGKILL of the real ``govwatch run`` at random points and at every
failpoint (tests/test_crash_run.py), random source faults (tests/test_faults_sources.py),
random Bot API and Slack API faults (tests/test_faults_delivery.py) and, on PostgreSQL,
dropped connections under a running worker (tests/test_faults_postgres.py).

``--restart-postgres CMD`` additionally restarts the PostgreSQL SERVER once in the middle
of each connection storm by running CMD. It is off by default and must never be used on
a server other people use: it drops every database's connections, not just ours.

Prints the same summary as the test suite and exits 1 when anything was lost, doubled
without an unknowable outcome, or announced falsely. Only loopback is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.store.engine import Database
from bot.store.migrate import upgrade_database

# The test package installs the same loopback-only network guard as the suite.
from tests.conftest import _ensure_pg_database, _truncate_all
from tests.crash_summary import Tally
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_crash_run import run_crash_scenario
from tests.test_faults_delivery import SLACK_CHANNEL, run_delivery_faults
from tests.test_faults_postgres import run_pg_storm
from tests.test_faults_sources import run_source_faults


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The soak's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--iterations", type=int, default=40, help="kills per crash scenario")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--feeds", type=int, default=6, help="feeds in the crash world")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite files)")
    parser.add_argument(
        "--restart-postgres",
        metavar="CMD",
        help="DANGEROUS: command that restarts the PostgreSQL server, run once per storm",
    )
    parser.add_argument("--storm-seconds", type=float, default=30.0)
    return parser.parse_args(argv)


class Databases:
    """A fresh, migrated, empty database per scenario (SQLite file, or the PostgreSQL URL)."""

    def __init__(self, root: Path, pg_url: str | None) -> None:
        self.root = root
        self.pg_url = pg_url
        self.count = 0

    async def fresh(self) -> tuple[Database, str]:
        self.count += 1
        url = self.pg_url or f"sqlite+aiosqlite:///{self.root / f'soak{self.count}.db'}"
        if self.pg_url:
            await _ensure_pg_database(self.pg_url)
        db = Database(url)
        await upgrade_database(db.engine)
        if self.pg_url:
            await _truncate_all(db)
        return db, url


def _restarter(cmd: str | None) -> Callable[[], Awaitable[None]] | None:
    if not cmd:
        return None

    async def restart() -> None:
        proc = await asyncio.create_subprocess_exec(*shlex.split(cmd))
        await proc.wait()
        await asyncio.sleep(2.0)  # let the server accept connections again

    return restart


async def soak(args: argparse.Namespace) -> tuple[Tally, list[str]]:
    """Run every scenario for every seed; return the tally and the broken promises."""
    tally = Tally()
    failures: list[str] = []
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="govwatch-soak-") as tmp:
        root = Path(tmp)
        dbs = Databases(root, args.database_url)
        for seed in seeds:
            failures += await _crash(dbs, root, seed, args, tally)
            failures += await _sources(dbs, seed, args, tally)
            failures += await _delivery(dbs, seed, tally)
            if args.database_url:
                failures += await _storm(dbs, root, seed, args, tally)
    return tally, failures


async def _crash(
    dbs: Databases, root: Path, seed: int, args: argparse.Namespace, tally: Tally
) -> list[str]:
    db, url = await dbs.fresh()
    work = root / f"crash{seed}"
    work.mkdir()
    try:
        report = await run_crash_scenario(
            db=db,
            db_url=url,
            tmp_path=work,
            seed_value=seed,
            iterations=args.iterations,
            feeds=args.feeds,
        )
    finally:
        await db.close()
    report.record(tally, "crash.govwatch_run")
    print(f"seed {seed}: crash kills {dict(report.kills)}", flush=True)
    return [f"crash seed {seed}: {f}" for f in report.failures()]


async def _sources(dbs: Databases, seed: int, args: argparse.Namespace, tally: Tally) -> list[str]:
    db, _ = await dbs.fresh()
    try:
        result = await run_source_faults(db, seed=seed, passes=args.iterations)
    finally:
        await db.close()
    result.record(tally)
    out = [f"lost {sorted(result.lost)}"] if result.lost else []
    out += [f"false alert {kind} {payload}" for kind, payload in result.false_alerts]
    out += [f"{p} announced {n} times" for p, n in result.announced.items() if n > 1]
    return [f"sources seed {seed}: {f}" for f in out]


async def _delivery(dbs: Databases, seed: int, tally: Tally) -> list[str]:
    db, _ = await dbs.fresh()
    telegram = FakeTelegramAPI()
    await telegram.start()
    slack = await FakeSlack().start()
    slack.add_channel(SLACK_CHANNEL)
    try:
        result = await run_delivery_faults(db, telegram, slack, seed=seed, tally=tally)
    finally:
        await slack.close()
        await telegram.close()
        await db.close()
    result.record(tally)
    out = [f"lost {sorted(result.lost)}"] if result.lost else []
    out += [f"duplicated without an unknowable outcome: {result.unexplained}"] * bool(
        result.unexplained
    )
    return [f"delivery seed {seed}: {f}" for f in out]


async def _storm(
    dbs: Databases, root: Path, seed: int, args: argparse.Namespace, tally: Tally
) -> list[str]:
    db, url = await dbs.fresh()
    work = root / f"storm{seed}"
    work.mkdir()
    try:
        report = await run_pg_storm(
            db,
            url,
            work,
            seed_value=seed,
            seconds=args.storm_seconds,
            restart=_restarter(args.restart_postgres),
        )
    finally:
        await db.close()
    report.record(tally, "faults.postgres")
    return [f"postgres seed {seed}: {f}" for f in report.failures()]


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print the summary; 1 when a promise was broken."""
    args = parse_args(argv)
    if args.restart_postgres:
        print("WARNING: the PostgreSQL server will be restarted during the soak", flush=True)
    started = time.perf_counter()
    tally, failures = asyncio.run(soak(args))
    print(f"===== govwatch soak summary ({time.perf_counter() - started:.0f} s) =====")
    for line in tally.lines():
        print(line)
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
