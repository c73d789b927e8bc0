"""Chat rows: created on first contact, their language, and supergroup migration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.config import Settings
from bot.i18n import LOCALES, normalize_locale
from bot.reply import Caller
from bot.store.models import Chat, Subscription, utcnow
from bot.store.subscriptions import move_keyword_subscriptions


def hinted_locale(hint: str | None) -> str | None:
    """A supported locale from a platform's language hint, or None."""
    if not hint:
        return None
    code = hint.lower().replace("_", "-").split("-")[0]
    code = "kk" if code == "kz" else code
    return code if code in LOCALES else None


def chat_locale(chat: Chat, settings: Settings) -> str:
    """The language replies and alerts use in ``chat``."""
    return normalize_locale(chat.locale or settings.i18n.default_locale)


async def ensure_chat(session: AsyncSession, caller: Caller) -> Chat:
    """The caller's chat row, created on first contact (safe when two workers race)."""
    values = {
        "backend": caller.backend,
        "external_id": caller.chat_id,
        "team_id": caller.team_id,
        "kind": caller.chat_kind,
        "title": (caller.chat_title or caller.display_name or "")[:300] or None,
        "locale": hinted_locale(caller.language_hint),
        "active": True,
        "digest": "off",
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Chat).values(**values).on_conflict_do_nothing()
    await session.execute(stmt)
    found = await session.scalars(
        select(Chat).where(Chat.backend == caller.backend, Chat.external_id == caller.chat_id)
    )
    chat = found.one()
    if not chat.active:
        # The chat talks to us again, so it accepts messages again.
        chat.active, chat.inactive_reason = True, None
    return chat


async def find_chat(session: AsyncSession, backend: str, external_id: str) -> Chat | None:
    """The chat row of ``backend``'s chat ``external_id``, if it ever talked to us."""
    stmt = select(Chat).where(Chat.backend == backend, Chat.external_id == external_id)
    return (await session.scalars(stmt)).first()


async def migrate_chat(session: AsyncSession, chat: Chat, new_external_id: str) -> None:
    """Point ``chat`` at its new supergroup id, merging into an existing row if any."""
    existing = await find_chat(session, chat.backend, new_external_id)
    if existing is None:
        await session.execute(
            update(Chat)
            .where(Chat.id == chat.id)
            .values(external_id=new_external_id, kind="group")
            .execution_options(synchronize_session=False)
        )
        chat.external_id, chat.kind = new_external_id, "group"
        return
    # The supergroup already talked to us: move subscriptions it lacks, retire the old row.
    have = {
        (s.target_type, s.target_id)
        for s in (
            await session.scalars(select(Subscription).where(Subscription.chat_id == existing.id))
        )
    }
    for sub in (
        await session.scalars(select(Subscription).where(Subscription.chat_id == chat.id))
    ).all():
        if (sub.target_type, sub.target_id) not in have:
            sub.chat_id = existing.id
    await move_keyword_subscriptions(session, chat.id, existing.id)
    await session.execute(
        update(Chat).where(Chat.id == chat.id).values(active=False, inactive_reason="migrated")
    )
    # Only the caller's copy points at the new address (the relay sends on with it): the
    # row keeps the old one, which the surviving row holds (flushing it would collide).
    set_committed_value(chat, "external_id", existing.external_id)
    set_committed_value(chat, "kind", existing.kind)


async def deactivate_chat(session: AsyncSession, chat_id: int, reason: str) -> None:
    """Mark a chat as no longer reachable (blocked, kicked, deleted)."""
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(active=False, inactive_reason=reason[:100])
    )


async def set_chat_locale(
    session: AsyncSession, chat_id: int, locale: str
) -> tuple[bool, str | None]:
    """Set chat ``chat_id``'s language: (whether the chat exists, its previous language)."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return False, None
    old, chat.locale = chat.locale, locale
    return True, old


async def set_chat_digest(
    session: AsyncSession, chat_id: int, mode: str, at: str | None, now: datetime
) -> Chat | None:
    """Set chat ``chat_id``'s digest ("daily", "weekly" or "off"; ``at`` is HH:MM)."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return None
    chat.digest = mode
    if mode != "off":
        chat.digest_time = at or chat.digest_time or "09:00"
        # Only slots after this moment count: the first digest comes at the next one.
        chat.digest_last_sent_at = now
    return chat


async def set_chat_timezone(session: AsyncSession, chat_id: int, zone: str | None) -> Chat | None:
    """Set chat ``chat_id``'s time zone (an IANA name; None: the bot's default again)."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return None
    chat.timezone = zone
    return chat
