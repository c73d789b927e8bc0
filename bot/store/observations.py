"""The atomic write of observations: health, state, snapshot, posts, events and outbox.

Everything one observation changes is written in a single transaction guarded by the
account's lease: the transaction first locks the account rows it may write and keeps
only those this worker still leases, so when another worker has taken an account over
(our lease expired) nothing of that observation is written. ``write_observations`` may
be given several observations (a write batch): each is still all-or-nothing, the
statements just cover them together with ``executemany`` (a multi-row statement per
table and batch), so a busy worker pays a few round trips per batch, not per row.

The parts: ``observe_items`` (the items and their rows), ``observe_sql`` (the
statements), ``observe_posts`` (posts, versions, quotes), ``observe_events`` (events and
deliveries); same-text detection is ``bot.store.sameness``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.detect.state import State
from bot.domain import EventKind
from bot.failpoints import failpoint
from bot.store.models import AccountState, Snapshot
from bot.store.observe_events import save_events
from bot.store.observe_items import (
    STATE_COLUMNS,
    Bookkeeping,
    PendingWrite,
    WriteResult,
    account_params,
    snapshot_row,
    state_row,
)
from bot.store.observe_posts import quote_posts, save_posts
from bot.store.observe_sql import account_update, lock_owned, state_upsert
from bot.store.sameness import PRUNE_EVERY, Observed, SameText, coordinate

log = logging.getLogger(__name__)

__all__ = ["Bookkeeping", "PendingWrite", "WriteResult", "load_states", "write_observations"]


@cache
def _states_select() -> Select[Any]:
    cols = [getattr(AccountState, name) for name in STATE_COLUMNS]
    return select(AccountState.account_id, *cols).where(
        AccountState.account_id.in_(bindparam("ids", expanding=True))
    )


async def load_states(conn: AsyncConnection, account_ids: Sequence[int]) -> dict[int, State]:
    """The stored state of each account that has one (one query)."""
    if not account_ids:
        return {}
    rows = await conn.execute(_states_select(), {"ids": list(account_ids)})
    states: dict[int, State] = {}
    for row in rows:
        values = dict(zip(STATE_COLUMNS, row[1:], strict=True))
        values["extra"] = dict(values["extra"] or {})
        values["followers_margin"] = values["followers_margin"] or 0
        states[row[0]] = State(**values)
    return states


async def write_observations(
    conn: AsyncConnection,
    items: Sequence[PendingWrite],
    *,
    detected_at: datetime,
    same: SameText | None = None,
) -> dict[int, WriteResult | None]:
    """Store observations in the caller's transaction; per account, None if the lease was lost.

    ``same`` decides same-text groups (``bot.store.sameness``); None: the default rules.
    """
    owners = {item.book.owner for item in items}
    if not items:
        return {}
    if len(owners) != 1:
        raise ValueError("one write batch belongs to one lease owner")
    ids = [item.book.account_id for item in items]
    owned = set((await conn.execute(lock_owned(), {"ids": ids, "owner": owners.pop()})).scalars())
    kept = [item for item in items if item.book.account_id in owned]
    results: dict[int, WriteResult | None] = {account_id: None for account_id in ids}
    if not kept:
        return results
    dialect = conn.dialect.name
    await conn.execute(account_update(), [account_params(i.book, i.obs) for i in kept])
    await conn.execute(state_upsert(dialect), [state_row(i) for i in kept])
    snapshots = [snapshot_row(i) for i in kept if i.detection.snapshot]
    if snapshots:
        await conn.execute(Snapshot.__table__.insert(), snapshots)  # type: ignore[attr-defined]
    failpoint("store.mid_transaction")  # crash suite: state and snapshots written, posts not yet
    quotes = await quote_posts(conn, kept)
    posts, post_ids = await save_posts(conn, dialect, kept, quotes)
    events, deliveries = await save_events(conn, dialect, kept, detected_at, quotes)
    observed = [
        (i.book.account_id, i.book.official_id, i.detection, i.obs.fetched_at) for i in kept
    ]
    await _coordinate(conn, dialect, observed, post_ids, detected_at, same or _DEFAULT_SAME)
    for item in kept:
        account_id = item.book.account_id
        results[account_id] = WriteResult(
            events=events.get(account_id, 0),
            deliveries=deliveries.get(account_id, 0),
            posts=posts.get(account_id, 0),
        )
    return results


async def _coordinate(
    conn: AsyncConnection,
    dialect: str,
    observed: Sequence[Observed],
    post_ids: dict[tuple[int, str], int],
    detected_at: datetime,
    same: SameText,
) -> None:
    if not _coordination_due(observed, detected_at, same):
        return  # no new post and no pruning due: no savepoint, no statement
    # In a savepoint: a failure of same-text detection is logged and undone, and the
    # observations themselves (posts, events, alerts) are still stored.
    try:
        async with conn.begin_nested():
            await coordinate(conn, dialect, observed, post_ids, detected_at=detected_at,
                             same=same)  # fmt: skip
    except Exception:
        log.exception("same-text detection failed for a write batch; stored without it")


def _coordination_due(observed: Sequence[Observed], now: datetime, same: SameText) -> bool:
    """True when ``coordinate`` has work: a new post to sketch, or old sketches to prune."""
    if not same.enabled:
        return False
    if same.pruned_at is None or now - same.pruned_at >= PRUNE_EVERY:
        return True
    return any(e.kind is EventKind.NEW_POST for _, _, d, _ in observed for e in d.events)


#: Same-text detection with the default rules, for callers that do not configure it.
_DEFAULT_SAME = SameText()
