"""Who may do what: editors (config plus those added in chat), chat admins, everyone else.

Everyone may read. Editor-only commands need an editor. Commands that change a chat's
subscriptions or settings need, in a group or channel, an editor or one of the chat's
administrators as the platform reports them (``Caller.is_chat_admin``, or the adapter's
``ChatAdminCheck``, asked only when nothing else decides). Every change and every refusal
is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.context import CommandSpec
from bot.config import Settings
from bot.reply import Caller
from bot.store.audit import add_audit
from bot.store.editors import has_editor

#: Asks the platform whether the caller administers the chat (may call its API).
ChatAdminCheck = Callable[[], Awaitable[bool]]


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
    return await has_editor(session, caller.backend, editor_key(caller))


async def may_change_chat(
    caller: Caller, *, editor: bool, chat_admin: ChatAdminCheck | None = None
) -> bool:
    """Anyone may change their private chat; in groups its administrators and editors."""
    if caller.chat_kind == "private" or editor or caller.is_chat_admin:
        return True
    return chat_admin is not None and await chat_admin()


async def decide(
    spec: CommandSpec, caller: Caller, *, editor: bool, chat_admin: ChatAdminCheck | None = None
) -> Decision:
    """Whether ``caller`` may run ``spec`` (checked before its arguments are looked at)."""
    if spec.editor_only and not editor:
        return Decision(False, "chat.auth.editors_only")
    if spec.changes_chat and not await may_change_chat(
        caller, editor=editor, chat_admin=chat_admin
    ):
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
    """Add an audit-log row for ``caller`` to ``session`` (committed with its change)."""
    add_audit(session, backend=caller.backend, user_id=editor_key(caller),
              chat_id=caller.chat_id, action=action, target=target, details=details)  # fmt: skip
