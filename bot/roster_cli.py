"""``govwatch db upgrade``, ``govwatch import`` and ``govwatch export`` (the roster)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings
from bot.roster import collect_entries, import_entries, load_roster, to_csv, to_toml
from bot.store.engine import Database
from bot.store.migrate import upgrade_database


def open_database(settings: Settings) -> Database:
    """A Database for the configured URL (nothing connects until first use)."""
    return Database(
        settings.database.url, echo=settings.database.echo, pool_size=settings.database.pool_size
    )


async def _upgrade(settings: Settings) -> None:
    db = open_database(settings)
    try:
        await upgrade_database(db.engine)
    finally:
        await db.close()


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Apply every pending migration."""
    asyncio.run(_upgrade(settings))
    print("database is up to date")
    return 0


async def _import(settings: Settings, path: str, *, dry_run: bool) -> str:
    entries = load_roster(path)  # validates everything before touching the database
    if dry_run:
        accounts = sum(len(e.accounts) for e in entries)
        return f"{path}: valid ({len(entries)} officials, {accounts} accounts); nothing imported"
    db = open_database(settings)
    try:
        await upgrade_database(db.engine)
        stats = await import_entries(db, entries)
    finally:
        await db.close()
    return f"{path}: {stats.summary()}"


def import_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a roster file, then import it in one transaction."""
    print(asyncio.run(_import(settings, args.file, dry_run=args.dry_run)))
    return 0


async def _export(settings: Settings, fmt: str) -> str:
    db = open_database(settings)
    try:
        await upgrade_database(db.engine)
        entries = await collect_entries(db)
    finally:
        await db.close()
    return to_csv(entries) if fmt == "csv" else to_toml(entries)


def export_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Write the roster as TOML or CSV to a file or stdout."""
    text = asyncio.run(_export(settings, args.format or "toml"))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0
