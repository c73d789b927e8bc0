"""``govwatch import`` and ``govwatch export`` of the roster (TOML or CSV)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings
from bot.roster import load_roster
from bot.roster.transfer import collect_entries, import_entries, to_csv, to_toml
from bot.store.migrate import open_database


async def _import(settings: Settings, path: str, *, dry_run: bool) -> str:
    entries = load_roster(path)  # validates everything before touching the database
    if dry_run:
        accounts = sum(len(e.accounts) for e in entries)
        return f"{path}: valid ({len(entries)} officials, {accounts} accounts); nothing imported"
    async with open_database(settings) as db:
        stats = await import_entries(db, entries)
    return f"{path}: {stats.summary()}"


def import_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a roster file, then import it in one transaction."""
    print(asyncio.run(_import(settings, args.file, dry_run=args.dry_run)))
    return 0


async def _export(settings: Settings, fmt: str) -> str:
    async with open_database(settings) as db:
        entries = await collect_entries(db)
    return to_csv(entries) if fmt == "csv" else to_toml(entries)


def export_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Write the roster as TOML or CSV to a file or stdout."""
    text = asyncio.run(_export(settings, args.format or "toml"))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0
