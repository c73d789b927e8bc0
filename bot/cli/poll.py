"""``govwatch poll-once``: one polling pass, for cron-style use."""

from __future__ import annotations

import argparse
import asyncio

from bot.config import Settings
from bot.errors import UserInputError
from bot.logs import setup_logging
from bot.net.client import HttpClient
from bot.poll.pipeline import Poller, PollStats
from bot.sources import build_sources
from bot.store.migrate import open_database
from bot.store.models import Account


async def _poll_once(settings: Settings, *, every: bool, account_id: int | None) -> PollStats:
    async with open_database(settings) as db, HttpClient(settings.http) as http:
        if account_id is not None:
            async with db.sessions() as session:
                if await session.get(Account, account_id) is None:
                    raise UserInputError(f"no account with id {account_id}")
        poller = Poller(db, build_sources(settings, http), settings)
        return await poller.run_once(due=not every and account_id is None, account_id=account_id)


def poll_once(settings: Settings, args: argparse.Namespace) -> int:
    """Poll due accounts once (or ``--all``, or ``--account ID``), print a summary."""
    setup_logging(
        settings.logging.level,
        secrets=settings.secrets(),
        json_format=settings.logging.json_format,
    )
    stats = asyncio.run(
        _poll_once(
            settings,
            every=bool(getattr(args, "all", False)),
            account_id=getattr(args, "account", None),
        )
    )
    print(
        f"polled {stats.claimed} accounts in {stats.seconds:.1f}s: {stats.ok} ok, "
        f"{stats.absent} absent, {stats.unknown} unknown; {stats.events} events, "
        f"{stats.deliveries} deliveries queued"
    )
    if stats.lost_lease or stats.failed:
        print(f"{stats.lost_lease} leases lost, {stats.failed} writes failed")
        return 1
    return 0
