"""Who may do what: editors (config plus those added in chat), group admins, everyone else.

Everyone may read. Editor-only commands need an editor; commands that change a chat's
subscriptions or settings need, in a group, one of that group's administrators. Every
change and every refusal is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat.context import CommandSpec
from bot.config import Settings
from bot.reply import Caller
from bot.store.models import AuditLog, Editor


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of an authorization check; ``reason`` is a catalog key when refused."""

    allowed: bool
    reason: str | None = None


ALLOW = Decision(True)


def editor_key(caller: Caller) -> str:
    """The user id stored in ``editors.user_id``: Slack ids carry their team."""
    if caller.backend == "slack" and caller.team_id:
        return f"{caller.team_id}:{caller.user_id}"
    return caller.user_id


def configured_editor(settings: Settings, caller: Caller) -> bool:
    """True when the config file names the caller an editor (or the console runs as one)."""
    if caller.backend == "console":
        return caller.local_editor
    if caller.backend == "telegram":
        return caller.user_id in {str(uid) for uid in settings.telegram.editors}
    if caller.backend == "slack":
        return editor_key(caller) in set(settings.slack.editors)
    return False


async def is_editor(session: AsyncSession, settings: Settings, caller: Caller) -> bool:
    """True for editors from the config and editors added in chat."""
    if configured_editor(settings, caller):
        return True
    stmt = select(Editor.id).where(
        Editor.backend == caller.backend, Editor.user_id == editor_key(caller)
    )
    return (await session.scalar(stmt.limit(1))) is not None


def may_change_chat(caller: Caller) -> bool:
    """Anyone may change their private chat; in groups only the chat's administrators."""
    return caller.chat_kind == "private" or caller.is_chat_admin


def decide(spec: CommandSpec, caller: Caller, *, editor: bool) -> Decision:
    """Whether ``caller`` may run ``spec`` (checked before its arguments are looked at)."""
    if spec.editor_only and not editor:
        return Decision(False, "chat.auth.editors_only")
    if spec.changes_chat and not may_change_chat(caller):
        return Decision(False, "chat.auth.admins_only")
    return ALLOW


def audit(
    session: AsyncSession,
    caller: Caller,
    action: str,
    *,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit-log row to ``session`` (committed with the change it records)."""
    session.add(
        AuditLog(
            backend=caller.backend,
            user_id=editor_key(caller),
            chat_id=caller.chat_id,
            action=action[:60],
            target=target[:300] if target else None,
            details=details or {},
        )
    )
