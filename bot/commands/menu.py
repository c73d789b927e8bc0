"""The command menu: /help, /start and the platforms' command lists, in one order."""

from __future__ import annotations

from collections.abc import Mapping

from bot.commands.context import CommandSpec
from bot.i18n import t

#: How /help and the platform menus list commands; unlisted names follow alphabetically.
MENU_ORDER = (
    "start", "help", "top", "silent", "official", "report", "chart", "digest",
    "subscribe", "unsubscribe", "subscriptions", "lang",
    "watch", "watchlist", "settings", "editor",
)  # fmt: skip


def command_menu(
    commands: Mapping[str, CommandSpec], locale: str, *, editor: bool = True
) -> list[tuple[str, str]]:
    """(name, short description) of every listed command (editor-only ones for editors)."""
    names = [n for n in MENU_ORDER if n in commands]
    names += sorted(n for n in commands if n not in MENU_ORDER)
    return [
        (name, describe(locale, name))
        for name in names
        if commands[name].listed and (editor or not commands[name].editor_only)
    ]


def describe(locale: str, name: str) -> str:
    """The one-line description of ``/name`` (the name itself when the catalog lacks one)."""
    try:
        return t(locale, f"chat.menu.{name}")
    except KeyError:
        return f"/{name}"
