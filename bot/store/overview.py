"""What ``govwatch run`` says at start: accounts per platform, active chats, subscriptions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Account, Chat, Subscription


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts of the watched world and its audience."""

    accounts: dict[str, int]
    chats: int
    subscriptions: int


async def overview(session: AsyncSession) -> Overview:
    """Enabled accounts per platform, active chats and their subscriptions."""
    rows = await session.execute(
        select(Account.platform, func.count())
        .where(Account.enabled.is_(True))
        .group_by(Account.platform)
    )
    chats = await session.scalar(select(func.count()).select_from(Chat).where(Chat.active))
    subscriptions = await session.scalar(
        select(func.count())
        .select_from(Subscription)
        .join(Chat, Chat.id == Subscription.chat_id)
        .where(Chat.active)
    )
    return Overview(
        accounts={platform: int(n) for platform, n in rows.all()},
        chats=int(chats or 0),
        subscriptions=int(subscriptions or 0),
    )
