"""Delivery: alerts per second to many subscribed chats through Telegram's limits.

``--events`` new-post events are queued for each of ``--chats`` private chats (one
outbox row per event and chat, as the pipeline writes them); the Relay with the Telegram
backend drains them into the fake Bot API from tests/fakes with ``limits=True``, which
answers 429 whenever Telegram's limits (1 message/s per chat, 20/min per group, 30/s
overall) would be exceeded. The goal is to reach the limits and never exceed them.

``python -m bench.delivery --chats 1000`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bench.common import Timer, bench_settings, drop_database, fresh_database, now_utc, rnd
from bench.common import seed_accounts as seed
from bench.polling import subscribe_all
from bot.store.engine import Database
from bot.store.models import Delivery, EventRow


async def queue_alerts(db: Database, chats: int, events: int) -> int:
    """Create ``chats`` subscribed chats and ``events`` events with one outbox row per chat."""
    await seed(db, 1)
    await subscribe_all(db, chats, first_external_id=500_000)
    now = now_utc()
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(EventRow),
            [
                {
                    "id": e + 1,
                    "account_id": 1,
                    "official_id": 1,
                    "kind": "new_post",
                    "occurred_at": now - timedelta(seconds=30),
                    "detected_at": now,
                    "dedup_key": f"1:new_post:{9000 + e}",
                    "payload": {
                        "platform": "telegram",
                        "handle": "bw000000",
                        "post_id": str(9000 + e),
                        "url": f"https://t.me/bw000000/{9000 + e}",
                        "profile_url": "https://t.me/bw000000",
                        "text": "Parliament passed the water bill in its second reading.",
                        "published_at": (now - timedelta(seconds=30)).isoformat(),
                    },
                }
                for e in range(events)
            ],
        )
        await session.execute(
            insert(Delivery),
            [
                {"event_id": e + 1, "chat_id": c + 1, "status": "pending", "next_attempt_at": now}
                for e in range(events)
                for c in range(chats)
            ],
        )
    return chats * events


async def _pending(db: Database) -> int:
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_(("pending", "sending")))
        )
    return int(value or 0)


async def measure(chats: int, *, events: int, kind: str, timeout: float) -> dict[str, Any]:
    """Queue the alerts, drain them through the relay and return rate and 429 count."""
    from bot.chat.telegram import TelegramBackend
    from bot.commands.service import CommandService
    from bot.notify.relay import Relay
    from tests.fakes.telegram_api import FakeTelegramAPI

    api = FakeTelegramAPI(limits=True)
    await api.start()
    url = await fresh_database(kind, label="delivery")
    db = Database(url)
    stop = asyncio.Event()
    backend = task = None
    try:
        total = await queue_alerts(db, chats, events)
        settings = bench_settings(
            url,
            "http://127.0.0.1:9",
            telegram={"token": api.token, "base_url": api.base_url, "enabled": True},
        )
        backend = TelegramBackend(
            settings=settings, commands=CommandService(db=db, settings=settings)
        )
        await backend.start()
        relay = Relay(db=db, backends={"telegram": backend}, settings=settings)
        timer = Timer()
        task = asyncio.create_task(relay.run(stop))
        while len(api.sent) < total and timer.elapsed < timeout:
            await asyncio.sleep(0.1)
        seconds = timer.elapsed
        first = min((s.at for s in api.sent), default=None)
        last = max((s.at for s in api.sent), default=None)
        pending = await _pending(db)
    finally:
        stop.set()
        if task is not None:
            with contextlib.suppress(Exception):
                await task
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.stop()
        await api.close()
        await db.close()
        await drop_database(url)
    span = (last - first) if first is not None and last is not None and last > first else None
    return {
        "chats": chats,
        "events": events,
        "queued": total,
        "sent": len(api.sent),
        "still_pending": pending,
        "seconds": rnd(seconds, 1),
        "alerts_per_s": rnd((len(api.sent) - 1) / span) if span else None,
        "limit_per_s": settings.relay.global_per_second,
        "got_429": api.rate_limited,
        "db": kind,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.delivery")
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--events", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure(args.chats, events=args.events, kind=args.db, timeout=args.timeout)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
