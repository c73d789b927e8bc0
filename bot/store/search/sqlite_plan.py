"""SQLite: the latest matches, read by the plan chosen here.

SQLite's planner cannot see how many versions the FTS5 index will return, and without
ANALYZE statistics it guesses. So the search picks what drives each query from cheap
counts: the index's matches (walked from the highest id down, stopping at ``limit``),
the rows of the accounts in scope, or the rows of the period, whichever is fewest, and
forces that index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, TextClause, bindparam, column, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.search.index import post_search
from bot.store.search.query import Query, fts5_query
from bot.store.search.scope import Filters, Match
from bot.store.types import UTCDateTime

DRIVERS = ("terms", "accounts", "time")
_FTS_ROWIDS = "SELECT rowid FROM post_versions_fts WHERE post_versions_fts MATCH :search_q"
#: The index's matches are counted up to this many when choosing a plan.
_COUNT_UP_TO = 100_000
_SCOPE_ACCOUNTS = "SELECT id FROM accounts WHERE "
_COLUMNS = "s.version_id, s.post_id, a.official_id, s.at"
_HINTS = {
    "accounts": " INDEXED BY ix_post_search_account",
    "time": " INDEXED BY ix_post_search_at",
}


def _scope(filters: Filters) -> tuple[str | None, dict[str, Any]]:
    """The accounts in scope as a subquery, with its parameters (None: every account)."""
    conds: list[str] = []
    params: dict[str, Any] = {}
    if filters.official_ids is not None:
        conds.append("official_id IN :scope_officials")
        params["scope_officials"] = list(filters.official_ids)
    if filters.watchlist_id is not None:
        conds.append(
            "official_id IN (SELECT official_id FROM watchlist_members"
            " WHERE watchlist_id = :scope_watchlist)"
        )
        params["scope_watchlist"] = filters.watchlist_id
    if filters.platform is not None:
        conds.append("platform = :scope_platform")
        params["scope_platform"] = filters.platform
    if not conds:
        return None, params
    return _SCOPE_ACCOUNTS + " AND ".join(conds), params


def _where(filters: Filters, driver: str) -> tuple[list[str], dict[str, Any]]:
    """The conditions besides the words: only the driver's may pick an index ("+")."""
    accounts, time = ("" if driver == d else "+" for d in ("accounts", "time"))
    conds: list[str] = []
    scope, params = _scope(filters)
    if scope is not None:
        conds.append(f"{accounts}s.account_id IN ({scope})")
    if filters.since is not None:
        conds.append(f"{time}s.at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        conds.append(f"{time}s.at < :until")
        params["until"] = filters.until
    return conds, params


def _bound(sql: str, params: dict[str, Any], query: Query) -> TextClause:
    """``sql`` with its parameters bound (times as UTC, official ids as a list)."""
    values = {**params, "search_q": fts5_query(query)}
    binds = []
    for name, value in values.items():
        if f":{name}" not in sql:
            continue
        if name in ("since", "until"):
            binds.append(bindparam(name, value, type_=UTCDateTime()))
        else:
            binds.append(bindparam(name, value, expanding=name == "scope_officials"))
    return text(sql).bindparams(*binds)


def latest_sql(filters: Filters, driver: str) -> tuple[str, dict[str, Any]]:
    """The SQL of the latest matches read by ``driver``, and its parameters (not the query)."""
    conds, params = _where(filters, driver)
    if driver == "terms":
        # The index's rowids from the highest down, each version looked up: SQLite stops
        # reading the index once ``limit`` versions pass the other conditions.
        where = " AND ".join(["post_versions_fts MATCH :search_q",
                              "s.version_id = f.rowid", "a.id = s.account_id", *conds])  # fmt: skip
        sql = (
            f"SELECT {_COLUMNS} FROM post_versions_fts AS f CROSS JOIN post_search AS s"  # noqa: S608 -- constants and bound values only
            f" CROSS JOIN accounts AS a WHERE {where} ORDER BY f.rowid DESC LIMIT :limit"
        )
        return sql, params
    where = " AND ".join([*conds, f"+s.version_id IN ({_FTS_ROWIDS})", "a.id = s.account_id"])
    sql = (
        f"SELECT {_COLUMNS} FROM post_search AS s{_HINTS[driver]} CROSS JOIN accounts AS a"  # noqa: S608 -- constants and bound values only
        f" WHERE {where} ORDER BY s.version_id DESC LIMIT :limit"
    )
    return sql, params


async def sqlite_latest(
    conn: AsyncConnection, query: Query, filters: Filters, limit: int, driver: str | None = None
) -> list[Match]:
    """``latest_matches`` on SQLite (``driver`` fixes the plan, for tests)."""
    driver = driver or await _driver(conn, query, filters, limit)
    sql, params = latest_sql(filters, driver)
    stmt = _bound(sql, {**params, "limit": limit}, query).columns(
        column("version_id", Integer), column("post_id", Integer),
        column("official_id", Integer), column("at", UTCDateTime()),
    )  # fmt: skip
    return [Match(int(r[0]), int(r[1]), int(r[2]), r[3]) for r in await conn.execute(stmt)]


async def _driver(conn: AsyncConnection, query: Query, filters: Filters, limit: int) -> str:
    """Which index drives the search: the one with the fewest rows to read."""
    period = filters.since is not None or filters.until is not None
    scoped = filters.official_ids is not None or filters.watchlist_id is not None
    if not (period or scoped):
        return "terms"  # stops after ``limit`` matches of the words (and the platform)
    total = max(1, await _scalar(conn, select(func.max(post_search.c.version_id))))
    rows: dict[str, float] = {}
    share = 1.0
    scope, params = _scope(filters)
    if scope is not None and scoped:
        sql = f"SELECT count(*) FROM post_search WHERE account_id IN ({scope})"  # noqa: S608 -- our own SQL; values are bound
        rows["accounts"] = await _scalar(conn, _bound(sql, params, query))
        share = min(share, rows["accounts"] / total)
    if period:
        rows["time"] = await _period_rows(conn, filters)
        share = min(share, rows["time"] / total)
    counted = _bound(
        f"SELECT count(*) FROM ({_FTS_ROWIDS} LIMIT {_COUNT_UP_TO})",  # noqa: S608 -- constants only
        {}, query,
    )  # fmt: skip
    # Walking the index's matches reads about limit / share of them before enough pass.
    rows["terms"] = min(await _scalar(conn, counted), limit / max(share, 1e-9))
    return min(rows, key=lambda k: rows[k])


async def _scalar(conn: AsyncConnection, stmt: Any) -> int:
    return int((await conn.execute(stmt)).scalar_one() or 0)


async def _period_rows(conn: AsyncConnection, filters: Filters) -> int:
    """About how many versions the period holds (versions spread evenly over time)."""
    # Three one-aggregate subqueries, so SQLite reads each off an index end.
    bounds = (func.max(post_search.c.version_id), func.min(post_search.c.at),
              func.max(post_search.c.at))  # fmt: skip
    row = (await conn.execute(select(*(select(b).scalar_subquery() for b in bounds)))).one()
    total, first, last = row
    if not total or first is None or last is None or last <= first:
        return int(total or 0)
    start = max(first, filters.since or first)
    end = min(last, filters.until or last)
    return int(total * max(0.0, (end - start) / (last - first)))
