"""``govwatch ask "/top"``: one chat command through the console backend."""

from __future__ import annotations

import argparse
import asyncio

from bot.chat.commands import CommandService
from bot.chat.console import ConsoleBackend, console_caller
from bot.config import Settings
from bot.store.migrate import open_database


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database(settings) as db:
        console = ConsoleBackend(commands=CommandService(db=db, settings=settings))
        lang = getattr(args, "lang", None)
        caller = console_caller(args.chat, editor=bool(args.as_editor), lang=lang)
        await console.ask(caller, args.text, locale=lang)
    return 0


def ask(settings: Settings, args: argparse.Namespace) -> int:
    """Run one command against the configured database and print the reply."""
    return asyncio.run(_ask(settings, args))
