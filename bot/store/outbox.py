"""The outbox's SQL: claiming due deliveries, recovering dead workers' rows, recording.

Statuses: ``pending`` (due at ``next_attempt_at``) -> ``claimed`` (leased by a relay pass)
-> ``sending`` (committed right before the network call) -> ``sent`` | ``failed`` |
``skipped``; a 429 or a retryable error puts a row back to ``pending``. ``digest`` rows
wait for their chat's digest and become ``digested`` once summarised into a digest row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.detect.keywords import AlertWords
from bot.store.keywords import alert_words
from bot.store.models import Account, Chat, Delivery, EventRow, Mute, Official
from bot.store.threads import Anchor

#: The note on a row whose send may or may not have reached the chat.
UNKNOWN = "outcome unknown"
#: Unknown outcomes a row may have before it is given up (the retry-once rule).
MAX_UNKNOWN = 2


@dataclass(slots=True)
class OutboxJob:
    """One claimed delivery with everything needed to send it."""

    delivery: Delivery
    chat: Chat
    #: None for a digest row (it carries its composed reply).
    event: EventRow | None
    official: Official | None
    account: Account | None
    muted: bool = False
    #: The chat's keywords and the watchwords its alert about this post is marked with.
    words: AlertWords | None = None
    #: Handed to the backend (from then on, a crash leaves its outcome unknown).
    started: bool = False
    #: A follow-up's ``new_post`` dedup key (the alert whose thread it belongs in).
    anchor_key: str | None = None
    #: That alert in this chat, as the claim found it (None: never sent here).
    anchor: Anchor | None = None
    #: The message this delivery replies to (its thread), once the relay decided.
    reply_to: str | None = None


async def recover_expired(session: AsyncSession, now: datetime) -> None:
    """Rows left by a dead worker: unsent claims go back; unknown sends retry once."""
    # Claimed but never handed to a backend: nothing can have reached the chat.
    await session.execute(
        update(Delivery)
        .where(Delivery.status == "claimed", Delivery.lease_until < now)
        .values(status="pending", lease_until=None)
        .execution_options(synchronize_session=False)
    )
    # Column references in SET read the old value: this is the row's second unknown.
    again = Delivery.unknown_outcomes + 1 >= MAX_UNKNOWN
    await session.execute(
        update(Delivery)
        .where(Delivery.status == "sending", Delivery.lease_until < now)
        .values(
            status=case((again, "failed"), else_="pending"),
            unknown_outcomes=Delivery.unknown_outcomes + 1,
            last_error=case(
                (again, f"{UNKNOWN} twice; not retried"), else_=f"{UNKNOWN}: lease expired"
            ),
            lease_until=None,
            next_attempt_at=now,
        )
        .execution_options(synchronize_session=False)
    )


async def claim_due(
    session: AsyncSession, backends: Iterable[str], *, now: datetime, lease_until: datetime,
    limit: int,
) -> list[int]:  # fmt: skip
    """Lease up to ``limit`` due rows of chats on ``backends``; their ids, oldest first."""
    due = (
        select(Delivery.id)
        .join(Chat, Chat.id == Delivery.chat_id)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            Chat.backend.in_(sorted(backends)),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    )
    claim = (
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()), Delivery.status == "pending")
        .values(status="claimed", lease_until=lease_until)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(claim)).all())


async def load_jobs(session: AsyncSession, ids: Sequence[int], now: datetime) -> list[OutboxJob]:
    """The claimed deliveries with their events, chats, officials, accounts and marks."""
    deliveries = (
        await session.scalars(select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id))
    ).all()
    events = await _by_id(session, EventRow, {d.event_id for d in deliveries if d.event_id})
    chats = await _by_id(session, Chat, {d.chat_id for d in deliveries})
    officials = await _by_id(
        session, Official, {e.official_id for e in events.values() if e.official_id}
    )
    accounts = await _by_id(
        session, Account, {e.account_id for e in events.values() if e.account_id}
    )
    muted = await mutes(session, set(chats), set(officials), now)
    jobs = [_job(d, chats[d.chat_id], events, officials, accounts, muted) for d in deliveries]
    await _mark(session, jobs)
    return jobs


async def _mark(session: AsyncSession, jobs: list[OutboxJob]) -> None:
    """Attach the words each post alert is marked with (one lookup for the whole batch)."""
    posts = [j for j in jobs if j.event and j.official and j.event.kind in _POST_KINDS]
    found = await alert_words(session, {(j.chat.id, j.official.id) for j in posts if j.official})
    for job in posts:
        job.words = found.get((job.chat.id, job.official.id)) if job.official else None


_POST_KINDS = frozenset({"new_post", "post_edited", "post_deleted"})


def _job(
    delivery: Delivery,
    chat: Chat,
    events: dict[int, EventRow],
    officials: dict[int, Official],
    accounts: dict[int, Account],
    muted: set[tuple[int, int]],
) -> OutboxJob:
    event = events.get(delivery.event_id) if delivery.event_id else None
    official_id = event.official_id if event else None
    account_id = event.account_id if event else None
    return OutboxJob(
        delivery=delivery,
        chat=chat,
        event=event,
        official=officials.get(official_id) if official_id else None,
        account=accounts.get(account_id) if account_id else None,
        # A digest row has no official: muting applied to its events when it was composed.
        muted=official_id is not None and (chat.id, official_id) in muted,
    )


async def mutes(
    session: AsyncSession, chat_ids: set[int], official_ids: set[int], now: datetime
) -> set[tuple[int, int]]:
    """The ``(chat_id, official_id)`` pairs muted at ``now``."""
    if not chat_ids or not official_ids:
        return set()
    rows = await session.execute(
        select(Mute.chat_id, Mute.official_id).where(
            Mute.chat_id.in_(sorted(chat_ids)),
            Mute.official_id.in_(sorted(official_ids)),
            (Mute.until.is_(None)) | (Mute.until > now),
        )
    )
    return {(c, o) for c, o in rows.all()}


async def update_delivery(session: AsyncSession, delivery_id: int, values: dict[str, Any]) -> None:
    """Set ``values`` on one delivery row."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def release_claimed(
    session: AsyncSession, releases: Sequence[tuple[int, dict[str, Any]]]
) -> None:
    """Give claimed rows back (``values`` per row); rows no longer claimed are left alone."""
    for delivery_id, values in releases:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "claimed")
            .values(status="pending", lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )


async def _by_id(session: AsyncSession, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = (await session.scalars(select(model).where(model.id.in_(sorted(ids))))).all()
    return {row.id: row for row in rows}
