"""``govwatch import`` and ``govwatch export`` of the roster (TOML or CSV, or from Wikidata)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.errors import UserInputError
from bot.roster import OfficialEntry, load_roster
from bot.roster.sparql import run_query
from bot.roster.transfer import (
    CHANGE_KINDS,
    ImportStats,
    collect_entries,
    import_entries,
    to_csv,
    to_toml,
)
from bot.roster.wikidata import load_sparql_json, parse_sparql_json
from bot.store.migrate import open_database


async def _import(settings: Settings, path: str, *, dry_run: bool) -> str:
    entries = load_roster(path)  # validates everything before touching the database
    if dry_run:
        accounts = sum(len(e.accounts) for e in entries)
        return f"{path}: valid ({len(entries)} officials, {accounts} accounts); nothing imported"
    async with open_database(settings) as db:
        stats = await import_entries(db, entries)
    return f"{path}: {stats.summary()}"


def _report(source: str, stats: ImportStats, *, dry_run: bool) -> str:
    order = sorted(stats.changes, key=lambda c: (CHANGE_KINDS.index(c.kind), c.official, c.detail))
    lines = [change.line() for change in order]
    if dry_run:
        head = "would change:" if stats.changed else "nothing would change"
        return "\n".join([f"{source}: {head}", *lines, f"(dry run) {stats.summary()}"])
    return "\n".join([*lines, f"{source}: {stats.summary()}"])


def _read_query(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read: {exc.strerror}") from None


async def _import_wikidata(
    settings: Settings, args: argparse.Namespace, entries: list[OfficialEntry] | None
) -> str:
    today = datetime.now(UTC).date()
    source = args.wikidata or args.wikidata_query
    if entries is None:
        # Read before the database is opened: a failed query changes nothing.
        body = await run_query(_read_query(source), settings.wikidata, settings.http)
        where = f"{settings.wikidata.endpoint} ({source})"
        entries = parse_sparql_json(body, source=where, watchlist=args.watchlist, today=today)
    async with open_database(settings) as db:
        stats = await import_entries(db, entries, merge=True, dry_run=args.dry_run, today=today)
    return _report(source, stats, dry_run=args.dry_run)


def import_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a roster file (or a Wikidata result), then import it in one transaction."""
    given = [x for x in (args.file, args.wikidata, args.wikidata_query) if x]
    if len(given) != 1:
        raise UserInputError(
            "import: give one roster FILE, --wikidata FILE or --wikidata-query FILE.rq"
        )
    if args.watchlist and args.file:
        raise UserInputError(
            "import: --watchlist goes with --wikidata or --wikidata-query "
            "(a roster file names its own watchlists)"
        )
    if args.file:
        print(asyncio.run(_import(settings, args.file, dry_run=args.dry_run)))
        return 0
    entries = None
    if args.wikidata:
        today = datetime.now(UTC).date()
        entries = load_sparql_json(args.wikidata, watchlist=args.watchlist, today=today)
    print(asyncio.run(_import_wikidata(settings, args, entries)))
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
