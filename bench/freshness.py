"""Freshness: time from a new post on a page to its outbox row and to the Bot API.

A world process publishes ``--rate`` new posts per second over N channels; govwatch's
App (scheduler + poller, ``--interval`` poll interval, no jitter) and the outbox Relay
with the Telegram backend run in this process against the fake Bot API from
tests/fakes (limits on). 32 chats share the officials between them, so Telegram's
one-message-per-second-per-chat limit does not become the measured delay. Each change is matched to
its ``new_post`` event: outbox time is the delivery row's ``created_at``, alert time is
when the fake Bot API received the message. Figures are reported raw and "beyond the
interval" (minus one poll interval, the most a change can wait for its next poll).

``python -m bench.freshness --n 200 --interval 5 --seconds 10`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from typing import Any

from sqlalchemy import func, insert, select

from bench.common import (
    Timer,
    bench_settings,
    drop_database,
    fresh_database,
    percentile,
    rnd,
    seed_accounts,
)
from bench.world import WorldProcess
from bot.store.engine import Database
from bot.store.models import AccountState, Chat, Delivery, EventRow, Subscription

#: Telegram allows one message per second per chat: alerts are spread over this many
#: chats (each follows every CHATS-th official) so that limit does not dominate the figure.
CHATS = 32


async def subscribe_slices(db: Database, n: int, chats: int = CHATS) -> None:
    """``chats`` private chats, each subscribed to every ``chats``-th official."""
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(Chat),
            [
                {
                    "id": c + 1,
                    "backend": "telegram",
                    "external_id": str(700_000 + c),
                    "kind": "private",
                    "locale": "en",
                }
                for c in range(chats)
            ],
        )
        await session.execute(
            insert(Subscription),
            [
                {
                    "chat_id": i % chats + 1,
                    "target_type": "official",
                    "target_id": i + 1,
                    "event_kinds": [],
                }
                for i in range(n)
            ],
        )


async def _count_states(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(AccountState)) or 0)


async def _outbox_times(db: Database) -> dict[tuple[str, str], float]:
    stmt = (
        select(EventRow.payload, Delivery.created_at)
        .join(Delivery, Delivery.event_id == EventRow.id)
        .where(EventRow.kind == "new_post")
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return {
        (str(p.get("handle")), str(p.get("post_id"))): created.timestamp() for p, created in rows
    }


def _alert_times(api: Any, offset: float) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for sent in api.sent:
        blob = json.dumps(sent.params, ensure_ascii=False)
        marker = blob.find("t.me/bw")
        if marker < 0:
            continue
        handle, _, rest = blob[marker + 5 :].partition("/")
        post = "".join(ch for ch in rest[:12] if ch.isdigit()) if rest[:1].isdigit() else ""
        if post:
            out.setdefault((handle, post), sent.at + offset)
    return out


def _delays(
    changes: list[tuple[str, int, float]], seen: dict[tuple[str, str], float]
) -> tuple[list[float], int]:
    delays = []
    for handle, post, at in changes:
        when = seen.get((handle, str(post)))
        if when is not None:
            delays.append(max(0.0, when - at))
    return delays, len(changes) - len(delays)


async def _start_relay(db: Database, settings: Any, stop: asyncio.Event) -> tuple[Any, Any, Any]:
    from bot.chat.telegram import TelegramBackend
    from bot.commands.service import CommandService
    from bot.notify.relay import Relay

    backend = TelegramBackend(settings=settings, commands=CommandService(db=db, settings=settings))
    await backend.start()
    relay = Relay(db=db, backends={"telegram": backend}, settings=settings)
    return backend, relay, asyncio.create_task(relay.run(stop))


async def measure(
    n: int, *, interval: float, seconds: float, rate: float, kind: str = "sqlite"
) -> dict[str, Any]:
    """Run the world with changes for ``seconds`` and return freshness percentiles."""
    from bot.app import App
    from tests.fakes.telegram_api import FakeTelegramAPI

    world = WorldProcess(n).start()
    api = FakeTelegramAPI(limits=True)
    await api.start()
    url = await fresh_database(kind, label="fresh")
    db = Database(url)
    stop = asyncio.Event()
    result: dict[str, Any] = {"n": n, "interval_s": interval, "rate": rate, "db": kind}
    backend = relay_task = app = sender = None
    try:
        await seed_accounts(db, n)
        await subscribe_slices(db, n)
        settings = bench_settings(
            url,
            world.base_url,
            scheduler={"poll_interval": f"{interval}s", "jitter": "0s", "tick": "1s"},
            telegram={"token": api.token, "base_url": api.base_url, "enabled": True},
        )
        try:
            backend, sender, relay_task = await _start_relay(db, settings, stop)
        except Exception as exc:
            result["relay_error"] = f"{type(exc).__name__}: {exc}"
        app = App(settings, db=db)
        if sender is not None:
            # As in one `govwatch run`: the relay wakes when this process queues an alert.
            app.poller.writer.on_queued = sender.wake
        await app.start()
        timer = Timer()
        while await _count_states(db) < n and timer.elapsed < 120:
            await asyncio.sleep(0.5)
        result["baseline_s"] = rnd(timer.elapsed, 1)
        world.reset()
        world.set_rate(rate)
        await asyncio.sleep(seconds)
        world.set_rate(0)
        await asyncio.sleep(interval + 2)
        changes = world.changes()
        offset = time.time() - time.monotonic()
        outbox_at = await _outbox_times(db)
        alert_at = _alert_times(api, offset)
        outbox, outbox_missing = _delays(changes, outbox_at)
        alerts, alert_missing = _delays(changes, alert_at)
        relay = [alert_at[k] - outbox_at[k] for k in alert_at.keys() & outbox_at.keys()]
    finally:
        stop.set()
        if app is not None:
            await app.stop()
        if relay_task is not None:
            with contextlib.suppress(Exception):
                await relay_task
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.stop()
        await api.close()
        world.stop()
        await db.close()
        await drop_database(url)
    result.update(
        {
            "changes": len(changes),
            "outbox_samples": len(outbox),
            "outbox_missing": outbox_missing,
            "alert_samples": len(alerts),
            "alert_missing": alert_missing,
            "p50_change_to_outbox_s": rnd(percentile(outbox, 50), 2),
            "p95_change_to_outbox_s": rnd(percentile(outbox, 95), 2),
            "p50_change_to_alert_s": rnd(percentile(alerts, 50), 2),
            "p95_change_to_alert_s": rnd(percentile(alerts, 95), 2),
            "p50_outbox_to_alert_s": rnd(percentile(relay, 50), 2),
            "p95_outbox_to_alert_s": rnd(percentile(relay, 95), 2),
            "p95_alert_beyond_interval_s": rnd(percentile(alerts, 95) - interval, 2)
            if alerts
            else None,
            "got_429": api.rate_limited,
        }
    )
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.freshness")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long changes happen")
    parser.add_argument("--rate", type=float, default=2.0, help="new posts per second")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure(args.n, interval=args.interval, seconds=args.seconds, rate=args.rate, kind=args.db)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
