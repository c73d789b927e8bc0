"""``govwatch db upgrade``, ``govwatch db prune`` and ``govwatch config check``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys

from bot.config import Settings, check_config, resolve_config_path
from bot.errors import UserInputError
from bot.store.migrate import migrate_database, open_database
from bot.store.retention import TABLES, Policy, Report
from bot.store.retention_job import dry_run, run_retention

EXIT_USAGE = 2


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Apply every pending migration and say what was done."""
    # alembic's own INFO lines ("Running upgrade ...") would repeat the one line below.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    change = asyncio.run(migrate_database(settings))
    print(change.describe())
    return 0


def db_command(settings: Settings, args: argparse.Namespace) -> int:
    """``govwatch db ACTION``: upgrade or prune."""
    if args.db_command == "prune":
        return db_prune(settings, args)
    return db_upgrade(settings, args)


def db_prune(settings: Settings, args: argparse.Namespace) -> int:
    """Remove (or with ``--dry-run`` count) what ``[retention]`` no longer keeps."""
    full = bool(getattr(args, "full", False))
    if full and settings.retention.posts_after is None:
        raise UserInputError(
            'db prune --full needs retention.posts_after (e.g. "730d"): how old a post must be'
        )
    report = asyncio.run(_prune(settings, dry=bool(args.dry_run), full=full))
    for line in describe(report):
        print(line)
    return 0


async def _prune(settings: Settings, *, dry: bool, full: bool) -> Report:
    policy = Policy.of(settings.retention)
    async with open_database(settings) as db:
        if dry:
            return await dry_run(db, policy, full=full)
        owner = f"{socket.gethostname()}:{os.getpid()}:db-prune"
        report = await run_retention(
            db, policy, owner=owner, hold=settings.retention.lease, every=None, full=full
        )
        assert report is not None  # every=None: a free lease is always taken
        return report


def describe(report: Report) -> list[str]:
    """The lines ``db prune`` prints: rows per table, and the cutoffs used."""
    cut = report.cutoffs
    head = "would remove (dry run, nothing deleted):" if report.dry_run else "removed:"
    lines = [head, *(f"  {name:<14}{report.counts[name]:>12,}" for name in TABLES)]
    lines.append(
        f"snapshots: all since {cut.full_before:%Y-%m-%d %H:%M} UTC, hourly since "
        f"{cut.hourly_before:%Y-%m-%d %H:%M} UTC, daily before"
    )
    return lines


def config_check(args: argparse.Namespace) -> int:
    """Validate the configuration file: ``file: key: reason`` per problem, or ``ok``."""
    path = resolve_config_path(args.config)
    problems = check_config(path)
    for file, key, reason in problems:
        print(f"{file}: {key}: {reason}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    print(f"{path or '<defaults>'}: ok")
    return 0
