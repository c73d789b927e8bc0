"""The digest's SQL: chats with digests, taking a chat's slot, queuing the composed digest.

A digest is queued in one transaction that starts by taking the chat's slot (a conditional
update of ``digest_last_sent_at``), so two workers never queue the same digest: on SQLite
the update waits for the one writer, on PostgreSQL for the row lock, and the loser finds
the value changed and updates nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Account, Chat, Delivery, EventRow, Official
from bot.store.outbox import mutes

#: Rows updated per statement (keeps the bound parameters well under SQLite's limit).
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """One ``digest`` delivery waiting for its chat's digest, with what renders it."""

    delivery_id: int
    event: EventRow
    account: Account | None
    official: Official | None


async def digest_chats(session: AsyncSession, backends: Sequence[str] | None = None) -> list[Chat]:
    """Active chats with a daily or weekly digest (on ``backends``, when given)."""
    stmt = select(Chat).where(Chat.digest.in_(("daily", "weekly")), Chat.active.is_(True))
    if backends is not None:
        stmt = stmt.where(Chat.backend.in_(sorted(backends)))
    return list((await session.scalars(stmt.order_by(Chat.id))).all())


async def take_slot(
    session: AsyncSession, chat_id: int, *, seen: datetime | None, now: datetime
) -> bool:
    """Record ``now`` as the chat's digest time unless another worker already moved it."""
    result = await session.execute(
        update(Chat)
        .where(
            Chat.id == chat_id,
            Chat.active.is_(True),
            Chat.digest_last_sent_at.is_not_distinct_from(seen),
        )
        .values(digest_last_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE returns a CursorResult; the stubs type execute() as a plain Result.
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def queued_events(session: AsyncSession, chat_id: int, now: datetime) -> list[QueuedEvent]:
    """The chat's ``digest`` rows created by ``now``, oldest event first."""
    stmt = (
        select(Delivery.id, EventRow, Account, Official)
        .join(EventRow, EventRow.id == Delivery.event_id)
        .outerjoin(Account, Account.id == EventRow.account_id)
        .outerjoin(Official, Official.id == EventRow.official_id)
        .where(Delivery.chat_id == chat_id, Delivery.status == "digest", Delivery.created_at <= now)
        .order_by(EventRow.occurred_at, EventRow.id)
    )
    return [QueuedEvent(*row) for row in (await session.execute(stmt)).all()]


async def muted_officials(
    session: AsyncSession, chat_id: int, official_ids: set[int], now: datetime
) -> set[int]:
    """The officials among ``official_ids`` the chat has muted at ``now``."""
    return {o for _, o in await mutes(session, {chat_id}, official_ids, now)}


async def queue_digest(session: AsyncSession, chat_id: int, reply: dict[str, Any]) -> int:
    """Insert the composed digest as a pending delivery; its id."""
    stmt = (
        insert(Delivery)
        .values(chat_id=chat_id, event_id=None, status="pending", payload=reply)
        .returning(Delivery.id)
    )
    return int((await session.execute(stmt)).scalar_one())


async def set_status(session: AsyncSession, ids: Sequence[int], values: dict[str, Any]) -> None:
    """Set ``values`` on the ``digest`` rows ``ids`` (rows already moved on are left)."""
    for start in range(0, len(ids), _CHUNK):
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[start : start + _CHUNK]), Delivery.status == "digest")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
