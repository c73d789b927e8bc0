"""The relay's lease (``service_leases``: one holder per database) and its recent sends.

A lease is taken or renewed with one atomic ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``:
the row changes only when it is free, expired or already ours, so of several processes
(on one machine or on several sharing PostgreSQL) exactly one holds it at a time.
``recent_sends`` reads back what was sent lately, so a relay taking over the lease paces
from where the previous holder stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.models import Chat, Delivery, ServiceLease

#: The lease of the one relay that sends for a database.
RELAY = "relay"


@dataclass(frozen=True, slots=True)
class RecentSend:
    """A message the relay sent: to which chat (backend and id), of which kind, when."""

    backend: str
    external_id: str
    group: bool
    sent_at: datetime


async def take_lease(
    engine: AsyncEngine, name: str, *, owner: str, now: datetime, until: datetime
) -> bool:
    """Take or renew lease ``name`` for ``owner`` until ``until``; False when another holds it."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ServiceLease).values(name=name, owner=owner, until=until)
    taken = stmt.on_conflict_do_update(
        index_elements=[ServiceLease.name],
        set_={"owner": stmt.excluded.owner, "until": stmt.excluded.until},
        where=or_(ServiceLease.owner == owner, ServiceLease.until < now),
    ).returning(ServiceLease.owner)
    async with engine.begin() as conn:
        got = (await conn.execute(taken)).scalar_one_or_none()
    return got == owner


async def lease_holder(engine: AsyncEngine, name: str) -> str | None:
    """Who holds (or last held) lease ``name``."""
    async with engine.connect() as conn:
        owner = await conn.scalar(select(ServiceLease.owner).where(ServiceLease.name == name))
    return str(owner) if owner is not None else None


async def take_over(
    engine: AsyncEngine, name: str, *, dead: str, owner: str, until: datetime
) -> bool:
    """Take lease ``name`` from ``dead`` (a holder known to be gone) before it expires."""
    async with engine.begin() as conn:
        got = await conn.scalar(
            update(ServiceLease)
            .where(and_(ServiceLease.name == name, ServiceLease.owner == dead))
            .values(owner=owner, until=until)
            .returning(ServiceLease.owner)
        )
    return got == owner


async def release_lease(engine: AsyncEngine, name: str, *, owner: str, now: datetime) -> None:
    """Give lease ``name`` up if ``owner`` holds it, so another may take it at once."""
    async with engine.begin() as conn:
        await conn.execute(
            update(ServiceLease)
            .where(and_(ServiceLease.name == name, ServiceLease.owner == owner))
            .values(until=now)
        )


async def recent_sends(engine: AsyncEngine, *, since: datetime) -> list[RecentSend]:
    """Deliveries sent after ``since``, oldest first (what pacing must still count)."""
    stmt = (
        select(Chat.backend, Chat.external_id, Chat.kind, Delivery.sent_at)
        .join(Chat, Chat.id == Delivery.chat_id)
        .where(Delivery.sent_at > since)
        .order_by(Delivery.sent_at)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [
        RecentSend(r.backend, r.external_id, r.kind != "private", r.sent_at)
        for r in rows
        if r.sent_at is not None
    ]
