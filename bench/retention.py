"""Retention: bytes per account-year before and after ``db prune``, and unchanged answers.

History: ``bench.queries.generate`` (``--per-hour`` follower readings an hour, 4 by
default as with a 15-minute poll interval, each stored on change or every 6 h; about 1.5
posts a day) for ``--accounts`` accounts over ``--days``, plus the outbox a year of
alerts leaves: a ``new_post`` event and its sent alert per post (thread anchors: kept),
and a ``followers_up`` event with its sent alert every 3 days per account (removed after
``events_after`` and ``deliveries_after``). Sizes are taken after a VACUUM (SQLite: the
file; PostgreSQL: VACUUM FULL, then ``pg_total_relation_size`` of every table).

Before and after the prune, the real command functions answer ``/top``, ``/report`` and
``/chart`` over periods inside the full-resolution window at one fixed "now"; the
answers (text, and the chart's PNG bytes) must be byte-identical.

``python -m bench.retention --accounts 200 --days 365 [--db sqlite|postgres|both]``
prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from bench.common import drop_database, fresh_database, now_utc, pg_reachable, rnd
from bench.queries import generate
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.reply import Caller, render_plain
from bot.store.engine import Database
from bot.store.models import Base, Chat, Delivery, EventRow, Post
from bot.store.retention import Policy
from bot.store.retention_job import run_retention

CALLER = Caller(backend="console", user_id="1", chat_id="bench-retention")
#: Questions over periods the prune keeps at full resolution (30 days by default).
QUESTIONS = (
    "/top",
    "/top growth 7d",
    "/top growth 30d",
    "/top posts 30d",
    "/report 7d",
    "/report 30d",
    "/chart #1 30d",
    "/chart #2 7d",
)
_ROWS = 5000


async def answers(db: Database, now: datetime) -> dict[str, str]:
    """Each question's answer at ``now``: its plain text and the SHA-256 of any attachment."""
    settings = load_settings(None, database={"url": db.url})
    service = CommandService(db=db, settings=settings, services={"clock": lambda: now})
    out: dict[str, str] = {}
    for question in QUESTIONS:
        reply = await service.handle(CALLER, question, locale="en")
        body = render_plain(reply)
        if reply.attachment is not None:
            body += "\n[attachment sha256 " + hashlib.sha256(reply.attachment.data).hexdigest()
        out[question] = body
    return out


async def add_outbox(db: Database, *, accounts: int, days: int, now: datetime) -> dict[str, int]:
    """The events and sent alerts a year of history leaves (one alert chat)."""
    async with db.sessions() as session, session.begin():
        chat = Chat(backend="console", external_id="bench-alerts", kind="group")
        session.add(chat)
        await session.flush()
        chat_id = chat.id
        posts = (await session.execute(select(Post.account_id, Post.platform_post_id,
                                               Post.published_at))).all()  # fmt: skip
    events: list[dict[str, Any]] = []
    for account_id, post_id, published in posts:
        events.append(_event(account_id, "new_post", f"{post_id}", published, {"post_id": post_id}))
    start = now - timedelta(days=days)
    for account_id in range(1, accounts + 1):
        for day in range(account_id % 3, days, 3):
            at = start + timedelta(days=day, hours=account_id % 24)
            events.append(_event(account_id, "followers_up", f"{day}", at, {"delta": 120}))
    events.sort(key=lambda e: e["occurred_at"])
    made = 0
    for lo in range(0, len(events), _ROWS):
        part = events[lo : lo + _ROWS]
        async with db.engine.begin() as conn:
            ids = list(
                await conn.scalars(
                    insert(EventRow).returning(EventRow.id, sort_by_parameter_order=True), part
                )
            )
            rows = [{"event_id": i, "chat_id": chat_id, "status": "sent", "attempts": 1,
                     "sent_at": e["occurred_at"], "created_at": e["occurred_at"],
                     "next_attempt_at": e["occurred_at"], "platform_message_id": str(i)}
                    for i, e in zip(ids, part, strict=True)]  # fmt: skip
            await conn.execute(insert(Delivery), rows)
        made += len(part)
    return {"events": made, "deliveries": made}


def _event(
    account_id: int, kind: str, key: str, at: datetime, payload: dict[str, Any]
) -> dict[str, Any]:
    return {"account_id": account_id, "official_id": account_id, "kind": kind,
            "payload": payload, "occurred_at": at, "detected_at": at,
            "dedup_key": f"{account_id}:{kind}:{key}"}  # fmt: skip


async def vacuumed_bytes(db: Database) -> int:
    """The database's size after a VACUUM: the SQLite file, or PostgreSQL's relations."""
    if db.dialect == "sqlite":
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM")
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = db.engine.url.database or ""
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("VACUUM FULL ANALYZE")
        total = 0
        for table in Base.metadata.sorted_tables:
            total += int(await conn.scalar(text(f"SELECT pg_total_relation_size('{table.name}')")))
        return total


async def _counts(db: Database) -> dict[str, int]:
    out: dict[str, int] = {}
    async with db.engine.connect() as conn:
        for name in ("snapshots", "posts", "events", "deliveries"):
            out[name] = int(await conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
    return out


async def measure(kind: str, *, accounts: int, days: int, per_hour: int) -> dict[str, Any]:
    """One database: generate, measure, prune, measure again, compare the answers."""
    url = await fresh_database(kind, label="retention")
    db = Database(url)
    try:
        made = await generate(db, accounts, days, mode="change", per_hour=per_hour)
        now = now_utc()
        made.update(await add_outbox(db, accounts=accounts, days=days, now=now))
        rows_before = await _counts(db)
        before = await vacuumed_bytes(db)
        asked = await answers(db, now)
        began = time.perf_counter()
        report = await run_retention(db, Policy(), owner="bench", hold=timedelta(minutes=15),
                                     every=None, clock=lambda: now)  # fmt: skip
        prune_s = time.perf_counter() - began
        assert report is not None
        again = await answers(db, now)
        after = await vacuumed_bytes(db)
        rows_after = await _counts(db)
        # The next day's run reads only what aged into a coarser tier since (after the
        # comparison: it thins the day that leaves the full-resolution window).
        began = time.perf_counter()
        await run_retention(db, Policy(), owner="bench", hold=timedelta(minutes=15),
                            every=None, clock=lambda: now + timedelta(days=1))  # fmt: skip
        next_s = time.perf_counter() - began
    finally:
        await db.close()
        await drop_database(url)
    years = accounts * days / 365
    changed = [q for q in QUESTIONS if asked[q] != again[q]]
    return {
        "db": kind, "accounts": accounts, "days": days, "readings_per_hour": per_hour,
        "rows_before": rows_before, "rows_after": rows_after, "removed": report.counts,
        "bytes_before": before, "bytes_after": after,
        "bytes_per_account_year_before": round(before / years),
        "bytes_per_account_year_after": round(after / years),
        "ratio_after_to_before": rnd(after / before, 3),
        "prune_s": rnd(prune_s, 2), "next_day_prune_s": rnd(next_s, 2),
        "answers_identical": not changed, "answers_changed": changed,
        "questions": len(QUESTIONS),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


async def run(kinds: list[str], *, accounts: int, days: int, per_hour: int) -> list[dict[str, Any]]:
    """Measure each kind of database in turn (PostgreSQL only when it answers)."""
    out = []
    for kind in kinds:
        if kind == "postgres" and not await pg_reachable():
            out.append({"db": kind, "skipped": "PostgreSQL at 127.0.0.1:5432 does not answer"})
            continue
        out.append(await measure(kind, accounts=accounts, days=days, per_hour=per_hour))
        print(json.dumps(out[-1]), file=sys.stderr, flush=True)  # progress, one kind at a time
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.retention")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--per-hour", type=int, default=4, help="follower readings an hour (4: polls every 15 min)"
    )
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = asyncio.run(
        run(kinds, accounts=args.accounts, days=args.days, per_hour=args.per_hour)
    )
    print(json.dumps({"retention": results}), flush=True)


if __name__ == "__main__":
    main()
