"""Who is asking, and the registry of chat commands (written once, used by every backend).

A command module registers handlers with :func:`command`; ``bot/chat/commands.py``
dispatches text to them after checking authorization, so a handler only ever runs for
callers who may run it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.reply import Caller, Reply

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.store.engine import Database
    from bot.store.models import Chat


@dataclass(slots=True)
class CommandContext:
    """Everything a handler needs: the caller, their chat row, locale and parsed arguments."""

    caller: Caller
    chat: Chat
    locale: str
    args: list[str]
    db: Database
    settings: Settings
    is_editor: bool
    #: Extra services (charts cache, reports...) keyed by name, injected by the app.
    services: dict[str, object] = field(default_factory=dict)


Handler = Callable[[CommandContext], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A registered command and who may run it."""

    name: str
    handler: Handler
    #: Only editors may run it.
    editor_only: bool = False
    #: It changes this chat's subscriptions or settings (group admins only, in groups).
    changes_chat: bool = False
    #: Listed in /help and in the platform's command menu.
    listed: bool = True


COMMANDS: dict[str, CommandSpec] = {}


def command(
    name: str, *, editor_only: bool = False, changes_chat: bool = False, listed: bool = True
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the chat command ``/name``."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"command /{name} registered twice")
        COMMANDS[name] = CommandSpec(
            name=name,
            handler=handler,
            editor_only=editor_only,
            changes_chat=changes_chat,
            listed=listed,
        )
        return handler

    return register
