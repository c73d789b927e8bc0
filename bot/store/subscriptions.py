"""A chat's subscriptions (plain and by keywords) and mutes: the rows chat commands read
and change."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import KeywordSubscription, Mute, Official, Subscription, Watchlist


async def find_subscription(
    session: AsyncSession, chat_id: int, target_type: str, target_id: int
) -> Subscription | None:
    """``chat_id``'s subscription to one target, if it has one."""
    stmt = select(Subscription).where(
        Subscription.chat_id == chat_id,
        Subscription.target_type == target_type,
        Subscription.target_id == target_id,
    )
    return (await session.scalars(stmt)).first()


async def chat_subscription(
    session: AsyncSession, chat_id: int, subscription_id: int
) -> Subscription | None:
    """Subscription row ``subscription_id`` when it belongs to ``chat_id``."""
    sub = await session.get(Subscription, subscription_id)
    return sub if sub is not None and sub.chat_id == chat_id else None


async def save_subscription(
    session: AsyncSession,
    chat_id: int,
    target_type: str,
    target_id: int,
    *,
    kinds: Sequence[str],
    mode: str | None,
    created_by: str,
) -> Subscription:
    """Create or update ``chat_id``'s subscription to a target (mode kept when not given)."""
    sub = await find_subscription(session, chat_id, target_type, target_id)
    if sub is None:
        sub = Subscription(chat_id=chat_id, target_type=target_type, target_id=target_id)
        session.add(sub)
    sub.event_kinds = list(kinds)
    sub.mode = mode or sub.mode or "immediate"
    sub.created_by = created_by
    return sub


async def delete_subscription(
    session: AsyncSession, sub: Subscription | KeywordSubscription
) -> None:
    """Remove one subscription row (plain or by keywords)."""
    await session.delete(sub)


async def chat_subscriptions(session: AsyncSession, chat_id: int) -> list[Subscription]:
    """Every subscription of ``chat_id``, oldest first."""
    stmt = select(Subscription).where(Subscription.chat_id == chat_id).order_by(Subscription.id)
    return list((await session.scalars(stmt)).all())


async def keyword_subscriptions(
    session: AsyncSession, chat_id: int, target: tuple[str, int] | None = None
) -> list[KeywordSubscription]:
    """``chat_id``'s keyword subscriptions (to one ``(type, id)`` target if given), oldest first."""
    stmt = select(KeywordSubscription).where(KeywordSubscription.chat_id == chat_id)
    if target is not None:
        stmt = stmt.where(
            KeywordSubscription.target_type == target[0],
            KeywordSubscription.target_id == target[1],
        )
    return list((await session.scalars(stmt.order_by(KeywordSubscription.id))).all())


async def chat_keyword_subscription(
    session: AsyncSession, chat_id: int, subscription_id: int
) -> KeywordSubscription | None:
    """Keyword subscription ``subscription_id`` when it belongs to ``chat_id``."""
    sub = await session.get(KeywordSubscription, subscription_id)
    return sub if sub is not None and sub.chat_id == chat_id else None


async def save_keyword_subscription(
    session: AsyncSession,
    chat_id: int,
    target: tuple[str, int],
    *,
    words: Sequence[str],
    kinds: Sequence[str],
    mode: str | None,
    created_by: str,
) -> tuple[KeywordSubscription, bool]:
    """Add a keyword subscription, or update the one with the same words; (row, is new)."""
    same = _words_key(words)
    for sub in await keyword_subscriptions(session, chat_id, target):
        if _words_key(sub.words) == same:
            sub.event_kinds, sub.mode = list(kinds), mode or sub.mode
            sub.created_by = created_by
            return sub, False
    sub = KeywordSubscription(chat_id=chat_id, target_type=target[0], target_id=target[1],
                              words=list(words), event_kinds=list(kinds),
                              mode=mode or "immediate", created_by=created_by)  # fmt: skip
    session.add(sub)
    return sub, True


async def move_keyword_subscriptions(session: AsyncSession, old: int, new: int) -> None:
    """Give chat ``new`` the keyword subscriptions of chat ``old`` that it lacks."""
    have = {
        (k.target_type, k.target_id, _words_key(k.words))
        for k in await keyword_subscriptions(session, new)
    }
    for sub in await keyword_subscriptions(session, old):
        if (sub.target_type, sub.target_id, _words_key(sub.words)) not in have:
            sub.chat_id = new


def _words_key(words: Sequence[object]) -> tuple[str, ...]:
    """Stored words compared as a set, case aside: the same subscription either way."""
    return tuple(sorted(str(w).lower() for w in words))


async def count_keyword_subscriptions(session: AsyncSession, chat_id: int) -> int:
    """How many keyword subscriptions ``chat_id`` has."""
    stmt = select(func.count()).where(KeywordSubscription.chat_id == chat_id)
    return int(await session.scalar(stmt) or 0)


async def target_name(session: AsyncSession, sub: Subscription | KeywordSubscription) -> str | None:
    """The name of the official or watchlist ``sub`` points at (None for "all" or gone)."""
    if sub.target_type == "official":
        official = await session.get(Official, sub.target_id)
        return official.name if official else None
    if sub.target_type == "watchlist":
        watchlist = await session.get(Watchlist, sub.target_id)
        return watchlist.name if watchlist else None
    return None


async def muted_officials(session: AsyncSession, chat_id: int) -> list[tuple[int, str]]:
    """(id, name) of the officials muted in ``chat_id``, by name."""
    stmt = (
        select(Official.id, Official.name)
        .join(Mute, Mute.official_id == Official.id)
        .where(Mute.chat_id == chat_id)
        .order_by(Official.name)
    )
    return [(int(row[0]), str(row[1])) for row in (await session.execute(stmt)).all()]


async def add_mute(session: AsyncSession, chat_id: int, official_id: int) -> None:
    """Mute ``official_id`` in ``chat_id`` (muting twice is harmless)."""
    if await session.get(Mute, (chat_id, official_id)) is None:
        session.add(Mute(chat_id=chat_id, official_id=official_id))


async def remove_mute(session: AsyncSession, chat_id: int, official_id: int) -> None:
    """Hear about ``official_id`` in ``chat_id`` again."""
    await session.execute(
        delete(Mute).where(Mute.chat_id == chat_id, Mute.official_id == official_id)
    )
