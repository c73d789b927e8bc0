"""End-to-end polling throughput, memory and storage at one world size on one database.

Three passes of ``Poller.run_once`` over N accounts served by a world process: the first
sees every account for the first time (baselines), the second finds nothing changed (the
steady state: fetched, parsed, compared, stored), the third finds K new posts. Reported:
accounts per second of each pass, CPU milliseconds this process spent per poll (a figure
that holds on a busy machine, where wall-clock rates do not), peak RSS of this process
(the whole pipeline), and bytes added to the append-only tables (snapshots, posts, events,
deliveries) per unchanged poll and per change, from which bytes per account per day
follow for a 15-minute interval and ``--changes-per-day`` new posts a day. The growth of
the whole database file in the steady pass is reported too: rows rewritten in place
(accounts, account_state) fragment pages on SQLite and leave dead tuples on PostgreSQL
until vacuum; that churn is bounded, the append-only growth is what accumulates.

``python -m bench.polling --n 1000 --db sqlite`` prints one JSON line. With ``--replay``
every pass first fetches and parses all N pages (not timed) and then polls them from that
copy, so its CPU figures are the write side alone: claim, detect, store.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from bench.common import (
    Timer,
    bench_settings,
    database_bytes,
    drop_database,
    fresh_database,
    peak_rss_mb,
    rnd,
    seed_accounts,
    table_bytes,
)
from bench.world import WorldProcess
from bot.domain import AccountRef, Observation, Platform
from bot.sources.base import Source
from bot.store.engine import Database
from bot.store.models import Account, Chat, PostVersion, Subscription, utcnow

POLLS_PER_DAY = 96  # every 15 minutes
#: Tables that only grow; rows of accounts/account_state are rewritten in place.
APPEND_ONLY = ("snapshots", "posts", "post_versions", "events", "deliveries")
#: The evidence kept per post version (text, fragment as served, SHA-256, times).
VERSIONS = ("post_versions",)


async def subscribe_all(db: Database, chats: int = 1, *, first_external_id: int = 100_000) -> None:
    """Chats subscribed to every event, so each event also writes outbox rows."""
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(Chat),
            [
                {
                    "id": i + 1,
                    "backend": "telegram",
                    "external_id": str(first_external_id + i),
                    "kind": "private",
                    "locale": "en",
                }
                for i in range(chats)
            ],
        )
        await session.execute(
            insert(Subscription),
            [
                {"chat_id": i + 1, "target_type": "all", "target_id": 0, "event_kinds": []}
                for i in range(chats)
            ],
        )


class Replay(Source):
    """Answers every fetch from observations read beforehand (``load``), dated now."""

    platform = Platform.TELEGRAM
    responses = ("channel page",)

    def __init__(self, real: Source) -> None:
        self.real = real
        self.pages: dict[str, Observation] = {}

    async def load(self, db: Database) -> None:
        """Fetch and parse the page of every account (64 at a time; world counters count it)."""
        async with db.engine.connect() as conn:
            rows = (await conn.execute(select(Account.id, Account.handle, Account.url))).all()
        slots = asyncio.Semaphore(64)

        async def one(account_id: int, handle: str, url: str | None) -> None:
            async with slots:
                ref = AccountRef(platform=self.platform, handle=handle, id=account_id, url=url)
                self.pages[handle] = await self.real.fetch(ref)

        await asyncio.gather(*(one(*row) for row in rows))

    async def fetch(self, ref: AccountRef) -> Observation:
        """The page read by ``load``, as if fetched now."""
        return dataclasses.replace(self.pages[ref.handle], fetched_at=utcnow())

    async def _fetch(self, account: AccountRef, fetched_at: datetime) -> Observation:
        raise NotImplementedError  # never called: ``fetch`` answers from the pages

    @classmethod
    def parse_first(cls, body: bytes, ctx: Any) -> Observation:
        """Never called: the pages were parsed by the real source."""
        raise NotImplementedError


async def _pass(
    poller: Any, budget: float | None = None, replay: Replay | None = None
) -> dict[str, Any]:
    if replay is not None:
        await replay.load(poller.db)
    cpu = time.process_time()
    if budget:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(budget, stop.set)
        stats = await poller.drain(due=False, once=True, stopping=stop)
    else:
        stats = await poller.run_once(due=False)
    cpu = time.process_time() - cpu
    return {
        "cpu_ms_per_poll": rnd(cpu * 1000 / max(stats.claimed, 1), 2),
        "claimed": stats.claimed,
        "ok": stats.ok,
        "unknown": stats.unknown,
        "events": stats.events,
        "deliveries": stats.deliveries,
        "failed": stats.failed,
        "seconds": rnd(stats.seconds, 2),
        "per_s": rnd(stats.per_second),
    }


async def _disable_unpolled(db: Database) -> int:
    async with db.engine.begin() as conn:
        await conn.execute(
            update(Account).where(Account.last_polled_at.is_(None)).values(enabled=False)
        )
        polled = await conn.scalar(
            select(func.count()).select_from(Account).where(Account.enabled.is_(True))
        )
    return int(polled or 0)


async def run_passes(
    db: Database,
    world: WorldProcess,
    n: int,
    *,
    concurrency: int,
    changes_per_day: float,
    budget: float | None = None,
    replay: bool = False,
) -> dict[str, Any]:
    """Seed N accounts in the empty ``db``, run the three passes and return the figures.

    With ``budget`` each pass stops claiming after that many seconds; the accounts the
    first pass did not reach are then disabled, so the later passes repeat the same
    (steady-state) accounts while the database still holds all N.
    """
    from bot.net.client import HttpClient
    from bot.poll.pipeline import Poller
    from bot.sources.telegram import TelegramSource

    timer = Timer()
    await seed_accounts(db, n)
    await subscribe_all(db)
    result: dict[str, Any] = {"seed_s": rnd(timer.elapsed, 1)}
    settings = bench_settings(
        db.url,
        world.base_url,
        scheduler={"max_concurrency": concurrency, "poll_interval": "15m", "jitter": "0s"},
    )
    async with HttpClient(settings.http) as http:
        source = TelegramSource(http=http, settings=settings)
        pages = Replay(source) if replay else None
        poller = Poller(db, {Platform.TELEGRAM: pages or source}, settings)
        first = await _pass(poller, budget, pages)
        active = await _disable_unpolled(db) if budget else n
        total1, app1 = await database_bytes(db), await table_bytes(db, APPEND_ONLY)
        ver1 = await _version_rows(db)
        world.reset()
        steady = await _pass(poller, budget, pages)
        total2, app2 = await database_bytes(db), await table_bytes(db, APPEND_ONLY)
        ver2, ver_bytes2 = await _version_rows(db), await table_bytes(db, VERSIONS)
        changes = max(10, active // 20)
        world.change(changes, upto=active if budget else 0)
        changed = await _pass(poller, budget, pages)
        app3 = await table_bytes(db, APPEND_ONLY)
        ver3, ver_bytes3 = await _version_rows(db), await table_bytes(db, VERSIONS)
        payload = await _version_payload(db)
    polled = max(steady["claimed"], 1)
    result["active_accounts"] = active
    per_unchanged = (app2 - app1) / polled
    per_change = max(0, app3 - app2) / changes
    result.update(
        {
            "first_pass": first,
            "steady_pass": steady,
            "changed_pass": changed,
            "first_pass_per_s": first["per_s"],
            "polls_per_s": steady["per_s"],
            "cpu_ms_per_poll": steady["cpu_ms_per_poll"],
            "polls_per_cpu_s": rnd(1000 / steady["cpu_ms_per_poll"])
            if steady["cpu_ms_per_poll"]
            else None,
            "changed_pass_per_s": changed["per_s"],
            "changes": changes,
            "db_bytes_after_first": total1,
            "db_growth_per_unchanged_poll": rnd((total2 - total1) / polled, 1),
            "bytes_per_unchanged_poll": rnd(per_unchanged, 1),
            "bytes_per_change": rnd(per_change, 0),
            "bytes_per_account_day": rnd(
                POLLS_PER_DAY * max(per_unchanged, 0) + changes_per_day * per_change, 0
            ),
            "changes_per_day_assumed": changes_per_day,
            "versions_after_first": ver1,
            "versions_per_unchanged_poll": rnd((ver2 - ver1) / polled, 3),
            "bytes_per_version": rnd((ver_bytes3 - ver_bytes2) / (ver3 - ver2), 0)
            if ver3 > ver2
            else None,
            "version_payload_chars": rnd(payload, 0) if payload is not None else None,
            "world": world.stats(),
        }
    )
    return result


async def _version_rows(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(PostVersion)) or 0)


async def _version_payload(db: Database) -> float | None:
    """Mean characters kept per version: its text plus the fragment as served."""
    size = func.length(PostVersion.text) + func.coalesce(func.length(PostVersion.raw), 0)
    async with db.engine.connect() as conn:
        value = await conn.scalar(select(func.avg(size)))
    return None if value is None else float(value)


async def measure(
    kind: str,
    n: int,
    *,
    concurrency: int,
    changes_per_day: float,
    budget: float | None = None,
    keep: bool = False,
    replay: bool = False,
) -> dict[str, Any]:
    """Start a world and a fresh database, run :func:`run_passes`, add peak RSS."""
    world = WorldProcess(n).start()
    url = await fresh_database(kind, label=f"poll_{n}")
    db = Database(url, pool_size=20)
    try:
        result = await run_passes(
            db,
            world,
            n,
            concurrency=concurrency,
            changes_per_day=changes_per_day,
            budget=budget,
            replay=replay,
        )
    finally:
        world.stop()
        await db.close()
        if not keep:
            await drop_database(url)
    return {
        "db": kind,
        "n": n,
        "concurrency": concurrency,
        "budget_s": budget,
        "replay": replay,
        **result,
        "peak_rss_mb": rnd(peak_rss_mb()),
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.polling")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--changes-per-day",
        type=float,
        default=3.0,
        help="new posts per account per day assumed for bytes/account/day",
    )
    parser.add_argument(
        "--budget", type=float, help="stop each pass after this many seconds (large N)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="fetch and parse every page before each pass (untimed): CPU of the write side alone",
    )
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure(
            args.db,
            args.n,
            concurrency=args.concurrency,
            changes_per_day=args.changes_per_day,
            budget=args.budget,
            keep=args.keep,
            replay=args.replay,
        )
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
