"""``govwatch db upgrade`` and ``govwatch config check``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import Settings, check_config, resolve_config_path
from bot.store.migrate import migrate_database

EXIT_USAGE = 2


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Apply every pending migration and say what was done."""
    # alembic's own INFO lines ("Running upgrade ...") would repeat the one line below.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    change = asyncio.run(migrate_database(settings))
    print(change.describe())
    return 0


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
