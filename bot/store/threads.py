"""Where a follow-up goes: the message of a post's ``new_post`` alert in each chat.

An edit or a deletion of a post replies to the alert that announced the post, in the chat
that got it. That alert is found by its event's dedup key (``bot.detect.events``:
``"<account id>:new_post:<post id>"``, cut to 300 characters) and its delivery row, whose
``platform_message_id`` is the platform's id of the sent message (Telegram's
``message_id``, Slack's ``ts``). A ``new_post`` alert still on its way (pending, claimed or
being sent) is reported with the time it is due, so the follow-up can wait for it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Delivery, EventRow

#: Delivery statuses of an alert that may still be sent.
ON_ITS_WAY = ("pending", "claimed", "sending")


@dataclass(frozen=True, slots=True)
class Anchor:
    """A chat's ``new_post`` alert for one post: its message once sent, else when it is due."""

    message_id: str | None
    due_at: datetime | None = None


def new_post_key(account_id: int, post_id: str) -> str:
    """The dedup key of the ``new_post`` event of ``post_id`` (as ``make_event`` builds it)."""
    return f"{account_id}:new_post:{post_id}"[:300]


async def anchors(
    session: AsyncSession, wanted: Collection[tuple[int, str]]
) -> dict[tuple[int, str], Anchor]:
    """The ``new_post`` alert for each ``(chat id, dedup key)`` in ``wanted`` (one query)."""
    if not wanted:
        return {}
    rows = await session.execute(
        select(
            Delivery.chat_id,
            EventRow.dedup_key,
            Delivery.status,
            Delivery.platform_message_id,
            Delivery.next_attempt_at,
        )
        .join(EventRow, EventRow.id == Delivery.event_id)
        .where(
            EventRow.dedup_key.in_(sorted({key for _, key in wanted})),
            EventRow.kind == "new_post",
            Delivery.chat_id.in_(sorted({chat for chat, _ in wanted})),
            Delivery.status.in_(("sent", *ON_ITS_WAY)),
        )
    )
    found: dict[tuple[int, str], Anchor] = {}
    for chat_id, key, status, message_id, due_at in rows.all():
        if (chat_id, key) not in wanted:
            continue
        if status == "sent" and message_id:
            found[(chat_id, key)] = Anchor(message_id)
        elif status in ON_ITS_WAY:
            found[(chat_id, key)] = Anchor(None, due_at)
    return found
