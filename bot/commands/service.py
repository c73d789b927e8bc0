"""Dispatch: ``CommandService`` runs what a chat user typed or tapped and returns a Reply.

It creates the chat row on first contact, works out the chat's language, checks
authorization before a handler looks at its arguments, and answers every failure: a
user's mistake with one line, a database that is down with a short apology, anything
else with "something went wrong". Adapters never see an exception from it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot import metrics
from bot.actions import action_command
from bot.commands.auth import ChatAdminCheck, audit, decide, is_editor
from bot.commands.context import CommandContext, CommandSpec
from bot.commands.menu import command_menu
from bot.commands.parsing import MAX_COMMAND_CHARS, split_command
from bot.commands.registry import COMMANDS
from bot.config import Settings
from bot.errors import UserInputError
from bot.i18n import normalize_locale, t
from bot.reply import Caller, Reply
from bot.store.chats import chat_locale, ensure_chat, find_chat, hinted_locale, migrate_chat
from bot.store.engine import Database
from bot.store.failures import DATABASE_ERRORS

log = logging.getLogger(__name__)


def _not_a_command(text: str, name: str, locale: str) -> Reply:
    """The answer to text that runs no command: stray words are not taken for commands.

    Without a slash it was a message, not a mistyped command, so the answer is a hint
    towards /help. Only text addressed to the bot gets here: adapters keep a group's
    plain text (meant for people) away from the command layer.
    """
    if text.strip().startswith("/"):
        return Reply.text(t(locale, "chat.unknown_command", name=name or "?"))
    return Reply.text(t(locale, "help.stray"))


class CommandService:
    """Runs chat commands for every backend and returns platform-neutral replies."""

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        services: Mapping[str, object] | None = None,
        commands: Mapping[str, CommandSpec] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.services = dict(services or {})
        self.commands = COMMANDS if commands is None else commands

    def spec_for(self, text: str) -> CommandSpec | None:
        """The command ``text`` would run (lets an adapter ignore other bots' commands)."""
        name, _ = split_command(text)
        return self.commands.get(name)

    def command_menu(self, locale: str, *, editor: bool = True) -> list[tuple[str, str]]:
        """(name, short description) of every listed command, for /help and menus."""
        return command_menu(self.commands, locale, editor=editor)

    async def handle(
        self,
        caller: Caller,
        text: str,
        *,
        locale: str | None = None,
        chat_admin: ChatAdminCheck | None = None,
    ) -> Reply:
        """Run one command typed by ``caller`` and return the answer (``locale`` overrides).

        ``chat_admin`` asks the platform whether the caller administers the group; it is
        awaited only when a command changing the chat needs it, outside any transaction.
        """
        try:
            return await self._handle(caller, text, locale, chat_admin)
        except DATABASE_ERRORS:
            metrics.db_error()
            log.exception("a command from %s chat %s: the database failed", caller.backend,
                          caller.chat_id)  # fmt: skip
            return Reply.text(t(self._fallback_locale(caller, locale), "chat.db_unavailable"))
        except Exception:
            log.exception("a command from %s chat %s failed", caller.backend, caller.chat_id)
            return Reply.text(t(self._fallback_locale(caller, locale), "chat.error"))

    async def handle_action(
        self, caller: Caller, action: str, *, chat_admin: ChatAdminCheck | None = None
    ) -> Reply:
        """Run a button's callback data (``mute:12``, ``chart:12``, ``cmd:/official #12``...)."""
        return await self.handle(caller, action_command(action), chat_admin=chat_admin)

    async def migrate_chat(self, backend: str, old_id: str, new_id: str) -> bool:
        """A group got a new id (Telegram supergroups): its row and subscriptions follow."""
        try:
            async with self.db.sessions() as session:
                chat = await find_chat(session, backend, old_id)
                if chat is None:
                    return False
                await migrate_chat(session, chat, new_id)
                await session.commit()
        except DATABASE_ERRORS:
            metrics.db_error()
            log.exception("%s chat %s: migration to %s failed", backend, old_id, new_id)
            return False
        log.info("chat %s migrated to a supergroup", chat.id)
        return True

    async def _handle(
        self, caller: Caller, text: str, locale: str | None, chat_admin: ChatAdminCheck | None
    ) -> Reply:
        name, args = split_command(text)
        spec = self.commands.get(name)
        async with self.db.sessions() as session:
            chat = await ensure_chat(session, caller)
            locale = normalize_locale(locale) if locale else chat_locale(chat, self.settings)
            editor = spec is not None and await is_editor(session, self.settings, caller)
            await session.commit()
        if spec is None:
            return _not_a_command(text, name, locale)
        decision = await decide(spec, caller, editor=editor, chat_admin=chat_admin)
        if not decision.allowed:
            await self._record_denial(caller, name)
            return Reply.text(t(locale, decision.reason or "chat.auth.editors_only"))
        if len(text) > MAX_COMMAND_CHARS:
            # Longer than any chat message can be: refused, never echoed back.
            detail = f"the command is longer than {MAX_COMMAND_CHARS} characters"
            return Reply.text(t(locale, "chat.bad_input", detail=detail))
        ctx = CommandContext(caller=caller, chat=chat, locale=locale, args=args, db=self.db,
                             settings=self.settings, is_editor=editor,
                             services=dict(self.services), commands=self.commands)  # fmt: skip
        return await self._run(spec, ctx)

    async def _record_denial(self, caller: Caller, name: str) -> None:
        async with self.db.sessions() as session:
            audit(session, caller, "denied", target=f"/{name}")
            await session.commit()

    async def _run(self, spec: CommandSpec, ctx: CommandContext) -> Reply:
        try:
            return await spec.handler(ctx)
        except UserInputError as exc:
            return Reply.text(t(ctx.locale, "chat.bad_input", detail=str(exc)))
        except DATABASE_ERRORS:
            metrics.db_error()
            log.exception("command /%s: the database failed", spec.name)
            return Reply.text(t(ctx.locale, "chat.db_unavailable"))
        except Exception:
            log.exception("command /%s failed", spec.name)
            return Reply.text(t(ctx.locale, "chat.error"))

    def _fallback_locale(self, caller: Caller, locale: str | None) -> str:
        """The language of an apology when the chat's own could not be read."""
        if locale:
            return normalize_locale(locale)
        hinted = hinted_locale(caller.language_hint)
        return hinted or normalize_locale(self.settings.i18n.default_locale)
