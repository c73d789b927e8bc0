"""``govwatch search "<words>"``: every stored post version with these words, newest first.

``--order relevance`` sorts them by ``bot.store.search.relevance`` instead (the same
score as ``/search ... by:relevance``; ties newest first).

The words are written as in chat: ``'тариф "цены на газ" -реклама'`` is the word тариф,
the phrase and an exclusion. ``--format table`` (default) prints a readable table,
``csv`` one row per version, ``json`` a list of objects with the same keys.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

# The arguments live apart so that building the parser imports none of this module.
from bot.commands.parsing import split_command
from bot.config import Settings
from bot.errors import UserInputError
from bot.reply import Table, format_table
from bot.reports.scope import parse_period
from bot.store.migrate import open_database
from bot.store.officials import find_officials
from bot.store.search import (
    Filters,
    Hit,
    Query,
    load_hits,
    parse_query,
    relevance_key,
    search_versions,
)
from bot.store.watchlists import find_watchlist

#: The keys of every row, in this order (CSV columns, JSON object keys).
COLUMNS = (
    "official", "platform", "post_id", "version", "url", "published_at", "text", "edited",
    "deleted",
)  # fmt: skip
#: Characters of text a table row shows.
TABLE_TEXT = 70


def search(settings: Settings, args: argparse.Namespace) -> int:
    """Print every version matching ``args.words`` in the chosen format."""
    parts = [p for words in args.words for p in split_command(f"/search {words}")[1]]
    query = parse_query(parts)
    if not query.include:
        raise UserInputError('give the words to find, e.g. govwatch search "тариф"')
    if args.database:
        database = settings.database.model_copy(update={"url": args.database})
        settings = settings.model_copy(update={"database": database})
    rows = asyncio.run(_search(settings, args, query))
    _write(sys.stdout, args.format, rows)
    posts = len({(r["official"], r["platform"], r["post_id"]) for r in rows})
    print(f"govwatch: {len(rows)} matching versions of {posts} posts", file=sys.stderr)
    return 0


async def _search(
    settings: Settings, args: argparse.Namespace, query: Query
) -> list[dict[str, Any]]:
    async with open_database(settings) as db, db.sessions() as session:
        filters = await _filters(session, args)
        conn = await session.connection()
        found = await search_versions(conn, query, filters)
        hits = await load_hits(conn, [m.version_id for m in found])
    if args.order == "relevance":
        hits.sort(key=lambda h: relevance_key(h.text, query, h.at, h.version_id))
    return [_row(hit) for hit in hits]


async def _filters(session: AsyncSession, args: argparse.Namespace) -> Filters:
    since = None
    if args.period:
        period = parse_period(args.period)
        if period is None:
            raise UserInputError(f"--period {args.period!r}: use a period like 7d, 30d or 1y")
        since = datetime.now(UTC) - period
    watchlist_id = None
    if args.watchlist:
        watchlist = await find_watchlist(session, args.watchlist)
        if watchlist is None:
            raise UserInputError(f"--watchlist {args.watchlist!r}: there is no such watchlist")
        watchlist_id = watchlist.id
    official_ids = None
    if args.official:
        found = await find_officials(session, args.official)
        if len(found) != 1:
            names = ", ".join(f"{o.name} (#{o.id})" for o in found[:10])
            detail = f"several officials match: {names}" if found else "no official matches"
            raise UserInputError(f"--official {args.official!r}: {detail}")
        official_ids = (found[0].id,)
    return Filters(
        since=since, official_ids=official_ids, watchlist_id=watchlist_id, platform=args.platform
    )


def _row(hit: Hit) -> dict[str, Any]:
    published = hit.published_at.isoformat().replace("+00:00", "Z") if hit.published_at else None
    return {
        "official": hit.name,
        "platform": hit.platform,
        "post_id": hit.platform_post_id,
        "version": hit.version,
        "url": hit.url,
        "published_at": published,
        "text": hit.text,
        "edited": hit.edited or hit.versions > 1,
        "deleted": hit.deleted,
    }


def _write(out: IO[str], fmt: str, rows: Sequence[dict[str, Any]]) -> None:
    if fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows([row[key] for key in COLUMNS] for row in rows)
    else:
        for line in format_table(_table(rows)):
            out.write(line + "\n")


def _table(rows: Sequence[dict[str, Any]]) -> Table:
    body = []
    for row in rows:
        marks = ", ".join(
            m for m, on in (("edited", row["edited"]), ("deleted", row["deleted"])) if on
        )
        text = " ".join(row["text"].split())
        if len(text) > TABLE_TEXT:
            text = text[: TABLE_TEXT - 1] + "…"
        published = (row["published_at"] or "")[:16].replace("T", " ")
        body.append((published, row["official"], row["platform"], row["post_id"],
                     str(row["version"]), marks, text))  # fmt: skip
    header = ("published (UTC)", "official", "platform", "post", "v", "", "text")
    return Table(header=header, rows=tuple(body), align=("l", "l", "l", "l", "r", "l", "l"))
