"""Editors added in chat (those from the config file never reach the database)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Editor


async def has_editor(session: AsyncSession, backend: str, user_id: str) -> bool:
    """True when ``user_id`` of ``backend`` was made an editor in chat."""
    stmt = select(Editor.id).where(Editor.backend == backend, Editor.user_id == user_id)
    return (await session.scalar(stmt.limit(1))) is not None


async def set_editor(
    session: AsyncSession, backend: str, user_id: str, *, present: bool, added_by: str
) -> None:
    """Make ``user_id`` an editor (``present``) or no longer one; repeating is harmless."""
    stmt = select(Editor).where(Editor.backend == backend, Editor.user_id == user_id)
    row = (await session.scalars(stmt)).first()
    if present and row is None:
        session.add(Editor(backend=backend, user_id=user_id, added_by=added_by))
    elif not present and row is not None:
        await session.delete(row)


async def editor_ids(session: AsyncSession, backend: str) -> list[str]:
    """The user ids of ``backend``'s chat-added editors, sorted."""
    stmt = select(Editor.user_id).where(Editor.backend == backend).order_by(Editor.user_id)
    return list((await session.scalars(stmt)).all())
