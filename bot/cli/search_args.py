"""The ``search`` subcommand's arguments, apart from its work (the parser imports little)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.domain import Platform


def add_parser(sub: Any, add: Any) -> None:
    """The ``search`` subcommand's arguments (``add`` makes a subparser with --config)."""
    parser: argparse.ArgumentParser = add(
        "search", "find stored posts (every version, deleted ones too) by their words"
    )
    parser.add_argument(
        "words", nargs="+", help="what to find, as in chat: 'тариф \"цены на газ\" -реклама'"
    )
    parser.add_argument("--period", default=None, help="only the last 7d, 30d, 1y...")
    parser.add_argument("--watchlist", default=None, help="only this watchlist's members")
    parser.add_argument("--official", default=None, help="only this official (name or #id)")
    parser.add_argument(
        "--platform", choices=[p.value for p in Platform], default=None, help="only this platform"
    )
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument(
        "--database", default=None, metavar="URL", help="database URL (default: the config's)"
    )
