"""Events and their deliveries: each new event gets one outbox row per chat that wants it.

Events carry a unique ``dedup_key`` and are inserted with ``ON CONFLICT DO NOTHING``;
delivery rows are created only for events that were new, so an observation written twice
queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.fanout import Fanout, WatchlistRules, load_fanout, outbox_row
from bot.store.observe_items import PendingWrite
from bot.store.observe_posts import NO_EDIT, Quotes
from bot.store.observe_sql import delivery_insert, event_insert


async def save_events(
    conn: AsyncConnection,
    dialect: str,
    items: Sequence[PendingWrite],
    detected_at: datetime,
    quotes: Quotes,
) -> tuple[dict[int, int], dict[int, int]]:
    """Insert the events that are new and queue their deliveries: (events, deliveries) per
    account."""
    rows: list[dict[str, Any]] = []
    fanouts: dict[int, tuple[int, Fanout]] = {}
    for item in items:
        book = item.book
        fanouts[book.account_id] = (book.official_id, item.fanout)
        for e in item.detection.events:
            quote = quotes.get((book.account_id, e.kind.value, str(e.payload.get("post_id"))), {})
            if quote.get(NO_EDIT):
                continue  # the words are the same: not an edit, whatever the hash said
            rows.append(
                {
                    "account_id": book.account_id,
                    "official_id": book.official_id,
                    "kind": e.kind.value,
                    "payload": dict(e.payload) | quote,
                    "occurred_at": e.occurred_at,
                    "detected_at": detected_at,
                    "dedup_key": e.dedup_key,
                }
            )
    events: dict[int, int] = {}
    deliveries: dict[int, int] = {}
    if not rows:
        return events, deliveries
    await _complete(conn, fanouts, {row["account_id"] for row in rows}, detected_at)
    # the post's (new) text, by dedup key: keyword subscriptions are decided from it
    texts = {row["dedup_key"]: row["payload"].get("text") for row in rows}
    outbox: list[dict[str, Any]] = []
    for event_id, account_id, kind, key in await conn.execute(event_insert(dialect), rows):
        events[account_id] = events.get(account_id, 0) + 1
        official_id, fanout = fanouts[account_id]
        text = texts.get(key)
        targets = fanout.targets(official_id, kind, text if isinstance(text, str) else None)
        deliveries[account_id] = deliveries.get(account_id, 0) + len(targets)
        outbox += [outbox_row(event_id, chat, status, detected_at) for chat, status in targets]
    if outbox:
        await conn.execute(delivery_insert(dialect), outbox)
    return events, deliveries


async def _complete(
    conn: AsyncConnection, fanouts: dict[int, tuple[int, Fanout]], wanted: set[int], now: datetime
) -> None:
    """Load, in this transaction, the subscriptions the batch's deferred fanouts left out.

    The poller loads only the watchlists of a batch (detection needs their thresholds);
    the subscriptions, keyword rules and mutes matter only to a batch with events, so they
    are read here, once per write batch, and only then.
    """
    deferred = {account_id for account_id in wanted if not fanouts[account_id][1].complete}
    if not deferred:
        return
    known: dict[int, list[WatchlistRules]] = {}
    for account_id in deferred:
        known |= fanouts[account_id][1].watchlists_of  # read with the batch, for detection
    officials = {fanouts[a][0] for a in deferred}
    full = await load_fanout(conn, officials, now=now, watchlists_of=known)
    for account_id in deferred:
        fanouts[account_id] = (fanouts[account_id][0], full)
