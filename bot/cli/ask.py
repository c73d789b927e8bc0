"""``govwatch ask "/top"``: one chat command as the local operator, against the database."""

from __future__ import annotations

import argparse
import asyncio

from bot.commands.local import run_ask
from bot.config import Settings
from bot.store.migrate import open_database


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database(settings) as db:
        await run_ask(db, settings, args)
    return 0


def ask(settings: Settings, args: argparse.Namespace) -> int:
    """Run one command against the configured database and print the reply."""
    return asyncio.run(_ask(settings, args))
