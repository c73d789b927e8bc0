"""Which versions match: every one (newest first), or the ones stored last, capped.

:func:`search_versions` returns every match (``govwatch search`` wants them all).
:func:`latest_matches` returns the ``limit`` matches with the highest version ids (the
ones stored last), which an answer counts and pages: its cost is bounded by ``limit``
however common the words are. Both databases return the same versions in the same order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, TextClause, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.models import Account, PostVersion, WatchlistMember
from bot.store.search.index import post_search
from bot.store.search.query import Query, fts5_query, matches, tsquery
from bot.store.search.scope import Filters, Match
from bot.store.search.sqlite_plan import sqlite_latest

_PG_MATCH = "post_search.terms @@ CAST(:search_q AS tsquery)"
_FTS_MATCH = (
    "post_search.version_id IN"
    " (SELECT rowid FROM post_versions_fts WHERE post_versions_fts MATCH :search_q)"
)
#: PostgreSQL looks for the latest matches among the newest 1/16 of the versions, then
#: in a window as wide as this one's rate of matches says is needed (all of them when it
#: had none): a common word is found in a narrow window, read off its GIN bitmap and the
#: primary key's range together, so few rows of the table are visited.
_FIRST_WINDOW = 16


MATCH_COLUMNS = (
    post_search.c.version_id,
    post_search.c.post_id,
    Account.official_id,
    post_search.c.at,
)
NEWEST = (post_search.c.at.desc(), post_search.c.version_id.desc())


def _match_condition(dialect: str, query: Query) -> TextClause:
    if dialect == "postgresql":
        return text(_PG_MATCH).bindparams(search_q=tsquery(query))
    return text(_FTS_MATCH).bindparams(search_q=fts5_query(query))


def matching(conn: AsyncConnection, query: Query, filters: Filters, *columns: Any) -> Select[Any]:
    """``columns`` of the versions the index matches within ``filters`` (not yet ordered)."""
    at = post_search.c.at
    stmt = (
        select(*columns)
        .select_from(post_search)
        .join(Account, Account.id == post_search.c.account_id)
        .where(_match_condition(conn.dialect.name, query))
    )
    if filters.since is not None:
        stmt = stmt.where(at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(at < filters.until)
    if filters.official_ids is not None:
        stmt = stmt.where(Account.official_id.in_(filters.official_ids))
    if filters.watchlist_id is not None:
        members = select(WatchlistMember.official_id).where(
            WatchlistMember.watchlist_id == filters.watchlist_id
        )
        stmt = stmt.where(Account.official_id.in_(members))
    if filters.platform is not None:
        stmt = stmt.where(Account.platform == filters.platform)
    return stmt


async def search_versions(conn: AsyncConnection, query: Query, filters: Filters) -> list[Match]:
    """Every version matching ``query`` within ``filters``, newest first."""
    if not query.searchable:
        return []
    if query.checked_here:
        return await _checked(conn, query, filters)
    stmt = matching(conn, query, filters, *MATCH_COLUMNS).order_by(*NEWEST)
    return [Match(*row) for row in await conn.execute(stmt)]


async def _checked(conn: AsyncConnection, query: Query, filters: Filters) -> list[Match]:
    """A long phrase: the index narrows it by its pairs, the words' order is checked here."""
    stmt = (
        matching(conn, query, filters, *MATCH_COLUMNS, PostVersion.text)
        .join(PostVersion, PostVersion.id == post_search.c.version_id)
        .order_by(*NEWEST)
    )
    return [Match(*row[:4]) for row in await conn.execute(stmt) if matches(row[4], query)]


async def latest_matches(
    conn: AsyncConnection, query: Query, filters: Filters, limit: int
) -> list[Match]:
    """The ``limit`` matches stored last (highest version id first)."""
    if not query.searchable or limit < 1:
        return []
    if query.checked_here:
        found = await _checked(conn, query, filters)
        return sorted(found, key=lambda m: m.version_id, reverse=True)[:limit]
    if conn.dialect.name == "sqlite":
        return await sqlite_latest(conn, query, filters, limit)
    return await _pg_latest(conn, query, filters, limit)


async def _pg_latest(
    conn: AsyncConnection, query: Query, filters: Filters, limit: int
) -> list[Match]:
    # Each window's plan depends on how common the words are: a generic plan (asyncpg
    # prepares statements, PostgreSQL reuses plans) would walk the primary key for rare
    # ones. The setting rides on the first query, so it costs no round trip of its own.
    custom = func.set_config("plan_cache_mode", "force_custom_plan", True)
    top = (await conn.execute(select(func.max(post_search.c.version_id), custom))).one()[0]
    if top is None:
        return []
    top = int(top)
    version_id = post_search.c.version_id
    # A period or an official bounds the rows read already: one query, planned for it.
    narrow = filters.since is not None or filters.official_ids is not None
    span = top if narrow else max(1, top // _FIRST_WINDOW)
    while True:
        low = max(0, top - span)
        stmt = (
            matching(conn, query, filters, *MATCH_COLUMNS)
            .where(version_id > low)
            .order_by(version_id.desc())
            .limit(limit)
        )
        found = [Match(*row) for row in await conn.execute(stmt)]
        if len(found) >= limit or low == 0:
            return found
        # Widen to where ``limit`` matches should be at the rate this window had them;
        # none at all means the words are rare, and the whole index answers cheaply.
        grow = limit / len(found) * 1.25 if found else float(top)
        span = int(span * max(2.0, grow))
