"""Query timings: ``/top``, ``/report`` and ``/silent`` over generated history.

History: ``--accounts`` officials with one account each, ``--days`` of hourly follower
readings and about 1.5 posts a day. ``--mode change`` stores a snapshot only when the
count changed (or 6 h passed), like the real pipeline; ``--mode hourly`` stores every
hourly reading, to show what storing every poll would cost. Rows go in with COPY on
PostgreSQL (asyncpg ``copy_records_to_table``) and executemany on SQLite.

``python -m bench.queries --db sqlite --accounts 500 --days 30`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bench.common import (
    Timer,
    database_bytes,
    drop_database,
    fresh_database,
    now_utc,
    percentile,
    rnd,
    seed_accounts,
)
from bot.store.engine import Database
from bot.store.models import AccountState, Post, Snapshot, Watchlist, WatchlistMember

SNAPSHOT_EVERY_H = 6
SNAP_COLS = ("account_id", "observed_at", "followers", "followers_exact", "posts_count")
POST_COLS = (
    "account_id",
    "platform_post_id",
    "url",
    "published_at",
    "text",
    "views",
    "edited",
    "deleted",
    "is_reply",
    "is_repost",
    "first_seen_at",
    "last_seen_at",
)


class _Series:
    """One account's generated history so far (the generator walks time, not accounts)."""

    __slots__ = ("followers", "last_post", "last_snap_h", "silent_from", "trend")

    def __init__(self, index: int, days: int, rng: random.Random) -> None:
        self.followers = rng.choice((900, 4_000, 30_000, 200_000)) + rng.randrange(1000)
        self.trend = rng.uniform(-0.5, 3.0)
        self.last_snap_h = -SNAPSHOT_EVERY_H
        # Every tenth account falls silent 10-40 days before the end.
        self.silent_from = days - rng.randrange(10, 40) if index % 10 == 0 else days
        self.last_post: datetime | None = None


def _hour(
    series: list[_Series], hour: int, at: datetime, mode: str, rng: random.Random
) -> list[tuple[Any, ...]]:
    snaps: list[tuple[Any, ...]] = []
    for index, s in enumerate(series):
        changed = rng.random() < 0.35
        if changed:
            s.followers = max(0, s.followers + int(rng.gauss(s.trend, 4)))
        if mode == "hourly" or changed or hour - s.last_snap_h >= SNAPSHOT_EVERY_H:
            snaps.append((index + 1, at, s.followers, True, None))
            s.last_snap_h = hour
    return snaps


def _day(
    series: list[_Series], day: int, start: datetime, rng: random.Random
) -> list[tuple[Any, ...]]:
    posts: list[tuple[Any, ...]] = []
    for index, s in enumerate(series):
        if day >= s.silent_from:
            continue
        for k in range(rng.choice((0, 1, 1, 2, 3))):
            at = start + timedelta(days=day, hours=rng.randrange(24), minutes=k)
            pid = day * 10 + k
            url = f"https://t.me/bw{index:06d}/{pid}"
            text = "Текст поста для проверки скорости запросов."
            posts.append((index + 1, str(pid), url, at, text, 1000 + pid,
                          False, False, False, False, at, at))  # fmt: skip
            s.last_post = at if s.last_post is None or at > s.last_post else s.last_post
    posts.sort(key=lambda p: p[3])
    return posts


def _state(index: int, s: _Series, start: datetime, now: datetime) -> dict[str, Any]:
    return {
        "account_id": index + 1,
        "status": "ok",
        "first_seen_at": start,
        "observed_at": now,
        "last_ok_at": now,
        "followers": s.followers,
        "followers_exact": True,
        "last_post_at": s.last_post,
        "last_snapshot_at": now,
    }


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy stores UTC datetimes on SQLite as naive text in this exact format; raw
    # rows must match it, since queries compare the text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


async def _bulk(
    db: Database, table: Any, cols: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            raw = await conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=rows, columns=list(cols)
            )
        else:
            sql = (
                f"INSERT INTO {table.name} ({', '.join(cols)}) "
                f"VALUES ({', '.join('?' for _ in cols)})"
            )
            await conn.exec_driver_sql(sql, [tuple(_sqlite_value(v) for v in r) for r in rows])


async def generate(
    db: Database, accounts: int, days: int, *, mode: str, per_hour: int = 1
) -> dict[str, Any]:
    """Fill ``db`` with ``accounts`` accounts and ``days`` of history; return row counts.

    ``per_hour`` readings an hour (4: a 15-minute poll interval); 1 is the default."""
    timer = Timer()
    await seed_accounts(db, accounts)
    now = now_utc()
    rng = random.Random(11)
    async with db.sessions() as session, session.begin():
        session.add(Watchlist(id=1, name="bench", title="Benchmark parliament"))
        await session.flush()
        await session.execute(
            insert(WatchlistMember),
            [{"watchlist_id": 1, "official_id": i + 1} for i in range(accounts)],
        )
    # Rows are written in time order, a week at a time, as the pipeline appends them:
    # the physical order of the history tables is then the real one.
    counts = {"snapshots": 0, "posts": 0}
    start = now - timedelta(days=days)
    series = [_Series(i, days, rng) for i in range(accounts)]
    for week in range(0, days, 7):
        snaps: list[tuple[Any, ...]] = []
        posts: list[tuple[Any, ...]] = []
        for day in range(week, min(week + 7, days)):
            for hour in range(day * 24, day * 24 + 24):
                for k in range(per_hour):
                    at = start + timedelta(hours=hour, minutes=60 * k // per_hour)
                    snaps += _hour(series, hour, at, mode, rng)
            posts += _day(series, day, start, rng)
        await _bulk(db, Snapshot.__table__, SNAP_COLS, snaps)
        await _bulk(db, Post.__table__, POST_COLS, posts)
        counts["snapshots"] += len(snaps)
        counts["posts"] += len(posts)
    states = [_state(i, s, start, now) for i, s in enumerate(series)]
    for lo in range(0, len(states), 1000):
        async with db.engine.begin() as conn:
            await conn.execute(insert(AccountState), states[lo : lo + 1000])
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    else:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    return {**counts, "generate_s": rnd(timer.elapsed, 1)}


async def _time(db: Database, call: Callable[[Any], Awaitable[Any]], repeat: int) -> dict[str, Any]:
    samples: list[float] = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        async with db.sessions() as session:
            await call(session)
        if i:  # the first call warms caches and is not counted
            samples.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": rnd(percentile(samples, 50)), "p95_ms": rnd(percentile(samples, 95))}


def query_set() -> dict[str, Callable[[Any], Awaitable[Any]]]:
    """The chat queries to time, by label."""
    from bot.reports.cabinet import cabinet_report
    from bot.reports.leaderboard import top
    from bot.reports.silence import silent_officials

    return {
        "top": lambda s: top(s),
        "top_growth_30d": lambda s: top(s, metric="growth", period=timedelta(days=30)),
        "top_posts_7d": lambda s: top(s, metric="posts", period=timedelta(days=7)),
        "top_watchlist": lambda s: top(s, watchlist="bench"),
        "report": lambda s: cabinet_report(s),
        "report_30d": lambda s: cabinet_report(s, watchlist="bench", period=timedelta(days=30)),
        "silent": lambda s: silent_officials(s, days=7),
    }


async def measure(
    kind: str,
    *,
    accounts: int,
    days: int,
    mode: str,
    repeat: int,
    keep: bool = False,
    reuse: str | None = None,
) -> dict[str, Any]:
    """Generate history in a fresh database (or ``reuse`` a kept one) and time the queries."""
    url = reuse or await fresh_database(kind, label=f"q_{mode}")
    db = Database(url)
    try:
        made = {} if reuse else await generate(db, accounts, days, mode=mode)
        size = await database_bytes(db)
        timings = {name: await _time(db, call, repeat) for name, call in query_set().items()}
    finally:
        await db.close()
        if not keep and not reuse:
            await drop_database(url)
    return {
        "url": url if keep or reuse else None,
        "db": kind,
        "accounts": None if reuse else accounts,
        "days": None if reuse else days,
        "mode": mode,
        **made,
        "db_bytes": size,
        "queries": timings,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line of query timings."""
    parser = argparse.ArgumentParser(prog="python -m bench.queries")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--mode", choices=("change", "hourly"), default="change")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--reuse", metavar="URL", help="time a database kept by --keep")
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure(
            args.db,
            accounts=args.accounts,
            days=args.days,
            mode=args.mode,
            repeat=args.repeat,
            keep=args.keep,
            reuse=args.reuse,
        )
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
