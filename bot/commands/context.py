"""What a command handler is given (its context) and how a command is described (its spec)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.i18n import t
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
    #: Extra services (charts cache, clock...) keyed by name, injected by the app.
    services: dict[str, object] = field(default_factory=dict)
    #: The registry the command was found in (``/help`` lists it).
    commands: Mapping[str, CommandSpec] = field(default_factory=dict)


Handler = Callable[[CommandContext], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command, its handler and who may run it."""

    name: str
    handler: Handler
    #: Only editors may run it.
    editor_only: bool = False
    #: It changes this chat's subscriptions or settings (group admins only, in groups).
    changes_chat: bool = False
    #: Listed in /help and in the platform's command menu.
    listed: bool = True


def usage(ctx: CommandContext, name: str, *, domain: str = "chat") -> Reply:
    """The short usage line of ``/name`` in the caller's language."""
    prefix = t(ctx.locale, "chat.usage_prefix")
    return Reply.text(f"{prefix} {t(ctx.locale, f'{domain}.usage.{name}')}")
