"""The command menu: /help, /start and the platforms' command lists, in one order."""

from __future__ import annotations

from collections.abc import Mapping

from bot.commands.context import CommandSpec
from bot.i18n import t

#: How /help and the platform menus list commands; unlisted names follow alphabetically.
MENU_ORDER = (
    "start", "help", "top", "silent", "official", "report", "chart", "anomalies", "evidence",
    "search", "same", "digest", "subscribe", "unsubscribe", "subscriptions", "mute", "unmute",
    "lang", "tz", "watch", "watchlist", "settings", "editor",
)  # fmt: skip
#: Where a command's syntax line lives: its family's usage key, else the help catalog.
_SYNTAX_KEYS = ("chat.usage.{name}", "reports.usage.{name}", "help.syntax.{name}")


def menu_names(commands: Mapping[str, CommandSpec]) -> list[str]:
    """Every command name of ``commands`` in menu order."""
    names = [n for n in MENU_ORDER if n in commands]
    return names + sorted(n for n in commands if n not in MENU_ORDER)


def command_menu(
    commands: Mapping[str, CommandSpec], locale: str, *, editor: bool = True
) -> list[tuple[str, str]]:
    """(name, short description) of every listed command (editor-only ones for editors)."""
    return [
        (name, describe(locale, name))
        for name in menu_names(commands)
        if commands[name].listed and (editor or not commands[name].editor_only)
    ]


def editor_commands(commands: Mapping[str, CommandSpec]) -> list[str]:
    """The listed editor-only command names, in menu order."""
    return [n for n in menu_names(commands) if commands[n].listed and commands[n].editor_only]


def describe(locale: str, name: str) -> str:
    """The one-line description of ``/name`` (the name itself when the catalog lacks one)."""
    return _first(locale, (f"chat.menu.{name}", f"help.menu.{name}")) or f"/{name}"


def syntax(locale: str, name: str) -> str | None:
    """The syntax line of ``/name`` (``None`` when no catalog has one)."""
    return _first(locale, tuple(key.format(name=name) for key in _SYNTAX_KEYS))


def example(locale: str, name: str) -> str | None:
    """An example of ``/name`` as a user would type it (``None`` when none is written)."""
    return _first(locale, (f"help.example.{name}",))


def _first(locale: str, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        try:
            return t(locale, key)
        except KeyError:
            continue
    return None
