"""``govwatch ask "/top"``: one chat command as the local operator, against the database.

The reply is printed by the console backend: a chart (any attachment) is saved in
``--output DIR`` (default: the current folder) and shown by its path.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.chat.console import ConsoleBackend
from bot.commands.local import console_caller
from bot.commands.service import CommandService
from bot.config import Settings
from bot.reply import Reply
from bot.store.engine import Database
from bot.store.migrate import open_database


async def run_ask(
    db: Database, settings: Settings, args: argparse.Namespace, *, stream: TextIO | None = None
) -> Reply:
    """Run ``args.text`` as the local operator (``args.chat``, ``--as-editor``) and print it."""
    lang = getattr(args, "lang", None)
    caller = console_caller(args.chat, editor=bool(args.as_editor), lang=lang)
    output = getattr(args, "output", None)
    console = ConsoleBackend(
        stream=stream or sys.stdout,
        commands=CommandService(db=db, settings=settings),
        output=Path(output) if output else None,
        caller=caller,
    )
    return await console.ask(caller, args.text, locale=lang)


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database(settings) as db:
        await run_ask(db, settings, args)
    return 0


def ask(settings: Settings, args: argparse.Namespace) -> int:
    """Run one command against the configured database and print the reply."""
    return asyncio.run(_ask(settings, args))
