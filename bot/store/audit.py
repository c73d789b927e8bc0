"""The audit log: every change made from chat, and every refusal, as one row each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import AuditLog


def add_audit(
    session: AsyncSession,
    *,
    backend: str,
    user_id: str,
    chat_id: str | None,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit-log row to ``session`` (committed with the change it records)."""
    session.add(
        AuditLog(
            backend=backend,
            user_id=user_id,
            chat_id=chat_id,
            action=action[:60],
            target=target[:300] if target else None,
            details=details or {},
        )
    )
