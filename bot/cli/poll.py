"""``govwatch poll-once``: one polling pass, for cron-style use.

Exit status: 0 when the accounts polled were read (some may have failed: the summary
names how many and why, and they are retried with backoff); 1 when leases were lost or
writes failed, or a worker process failed; 2 for a usage or configuration mistake; 3
when accounts were polled and none could be read (so cron notices a network or token
problem). ``--workers N`` runs the pass in N processes (``bot.cli.workers``).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from bot.config import Settings
from bot.errors import UserInputError
from bot.logs import quiet_libraries, setup_logging
from bot.net.client import HttpClient
from bot.poll.pipeline import Poller, PollStats
from bot.sources import build_sources
from bot.store.migrate import open_database
from bot.store.models import Account, utcnow

EXIT_NOTHING_READ = 3
EXIT_USAGE = 2


async def _poll_once(
    settings: Settings, *, every: bool, account_id: int | None, since: datetime | None = None
) -> PollStats:
    async with open_database(settings) as db, HttpClient(settings.http) as http:
        if account_id is not None:
            async with db.sessions() as session:
                if await session.get(Account, account_id) is None:
                    raise UserInputError(f"no account with id {account_id}")
        poller = Poller(db, build_sources(settings, http), settings)
        return await poller.run_once(
            due=not every and account_id is None, account_id=account_id, since=since
        )


def summary(stats: PollStats) -> list[str]:
    """The lines ``poll-once`` prints: counts, then why accounts could not be read."""
    if not stats.claimed:
        return ["nothing was due: no account polled"]
    lines = [
        f"polled {stats.claimed} accounts in {stats.seconds:.1f}s: {stats.ok} ok, "
        f"{stats.absent} absent, {stats.unknown} unknown; {stats.events} events, "
        f"{stats.deliveries} deliveries queued"
    ]
    if stats.unknown:
        lines.append(f"could not read {stats.unknown}: {stats.failures_in_words()}")
    if stats.lost_lease or stats.failed:
        lines.append(f"{stats.lost_lease} leases lost, {stats.failed} writes failed")
    return lines


def exit_status(stats: PollStats) -> int:
    """3 when nothing could be read, 1 when leases or writes were lost, else 0."""
    if stats.claimed and stats.ok + stats.absent == 0:
        return EXIT_NOTHING_READ
    return 1 if stats.lost_lease or stats.failed else 0


def workers_status(stats: PollStats, codes: list[int]) -> int:
    """The pass's status from the summed counts and each worker's exit code."""
    if EXIT_USAGE in codes:
        return EXIT_USAGE
    if any(code not in (0, EXIT_NOTHING_READ) for code in codes):
        return 1
    return exit_status(stats)


def _since(args: argparse.Namespace) -> datetime | None:
    value = getattr(args, "since", None)
    return datetime.fromisoformat(value) if value else None


def poll_once(settings: Settings, args: argparse.Namespace) -> int:
    """Poll due accounts once (or ``--all``, or ``--account ID``), print a summary."""
    setup_logging(
        settings.logging.level,
        secrets=settings.secrets(),
        json_format=settings.logging.json_format,
    )
    quiet_libraries()  # cron mails whatever is printed: no migration chatter
    account_id = getattr(args, "account", None)
    workers = getattr(args, "workers", None) or 1
    if workers < 1:
        raise UserInputError("--workers must be 1 or more")
    if workers > 1 and getattr(args, "worker_index", None) is None:
        if account_id is not None:
            raise UserInputError("--workers shares a pass of many accounts: not with --account")
        from bot.cli.workers import poll_in_workers

        every = bool(getattr(args, "all", False))

        def job(since: datetime) -> PollStats:
            return asyncio.run(_poll_once(settings, every=every, account_id=None, since=since))

        stats, codes, shares = poll_in_workers(settings, args, workers, utcnow(), job)
        lines = summary(stats)
        if stats.claimed:
            lines.append(f"{workers} workers polled {', '.join(map(str, shares))} accounts")
        lines += [f"worker {i} failed (exit {c})" for i, c in enumerate(codes) if c not in (0, 3)]
        print("\n".join(lines))
        return workers_status(stats, codes)
    stats = asyncio.run(
        _poll_once(
            settings,
            every=bool(getattr(args, "all", False)),
            account_id=account_id,
            since=_since(args),
        )
    )
    if getattr(args, "worker_index", None) is not None:
        from bot.cli.workers import stats_to_json

        print(stats_to_json(stats))  # for the parent, which prints the summary
    else:
        print("\n".join(summary(stats)))
    return exit_status(stats)
