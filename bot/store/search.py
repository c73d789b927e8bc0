"""Full-text search over every stored post version, the same on SQLite and PostgreSQL.

The index holds ``post_versions.search_terms`` (``bot.words.index_text``: each word's
terms and each adjacent pair ``a_b``), computed in Python, so the databases never stem or
parse anything themselves: SQLite reads the terms through an FTS5 table kept by triggers,
PostgreSQL through a GIN index on ``array_to_tsvector(string_to_array(search_terms, ' '))``
(migration 0005). A query is words (all must occur), phrases (words in that order,
adjacent) and exclusions (``-word``, ``-"a phrase"``). Words and two-word phrases are
answered by the index exactly; a longer phrase is narrowed by its pairs there and checked
word by word here (:func:`occurrences`), with the same normaliser, so both databases give
the same versions.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    TextClause,
    bindparam,
    case,
    column,
    distinct,
    func,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.detect.state import text_hash
from bot.store.models import (
    Account,
    EventRow,
    Official,
    Post,
    PostVersion,
    SavedSearch,
    WatchlistMember,
    utcnow,
)
from bot.store.types import BigID, UTCDateTime
from bot.words import INDEX_CHARS, PAIR, indexed_terms, tokens, word_terms

#: The narrow per-version rows a search reads, and SQLite's FTS5 table (also the prefix
#: of its shadow tables): migration 0005 keeps both outside the models.
SEARCH_TABLE = "post_search"
FTS_TABLE = "post_versions_fts"
_PG_MATCH = "post_search.terms @@ CAST(:search_q AS tsquery)"
_FTS_MATCH = (
    "post_search.version_id IN"
    " (SELECT rowid FROM post_versions_fts WHERE post_versions_fts MATCH :search_q)"
)
#: Above this many matching versions SQLite is told to read a page off the time index.
_WALK_AFTER = 2000
#: Ids per query when loading many versions (SQLite allows 32,766 parameters).
_CHUNK = 500

#: One row per version: its post, account and time (version_time's value).
post_search = table(
    SEARCH_TABLE,
    column("version_id", BigID),
    column("post_id", BigID),
    column("account_id", Integer),
    column("at", UTCDateTime()),
)


def include_in_schema_diff(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic ``include_name``: the search index's own tables are not in the models."""
    if type_ == "table":
        return name != SEARCH_TABLE and not (name or "").startswith(FTS_TABLE)
    return True


# -- queries --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clause:
    """One word or phrase of a query: what was typed and each word's terms, in order."""

    text: str
    words: tuple[frozenset[str], ...]

    @property
    def searchable(self) -> bool:
        """Every word has terms (a word longer than any word has none and matches nothing)."""
        return all(self.words)


@dataclass(frozen=True, slots=True)
class Query:
    """Clauses that must all occur and clauses that must not."""

    include: tuple[Clause, ...]
    exclude: tuple[Clause, ...] = ()

    @property
    def checked_here(self) -> bool:
        """A phrase of three words or more: the index narrows it, Python decides."""
        return any(len(c.words) > 2 for c in (*self.include, *self.exclude))


def parse_query(parts: Sequence[str]) -> Query:
    """The query in ``parts`` (a part with spaces is a phrase; ``-`` first excludes it)."""
    include: list[Clause] = []
    exclude: list[Clause] = []
    for part in parts:
        negative = part.startswith("-") and len(part) > 1
        typed = (part[1:] if negative else part).strip()
        words = tuple(word_terms(t.word) for t in tokens(typed))
        if not words:
            continue  # punctuation alone
        (exclude if negative else include).append(Clause(typed, words))
    return Query(tuple(include), tuple(exclude))


def occurrences(text_: str, clause: Clause) -> list[tuple[int, int]]:
    """Where ``clause`` occurs in ``text_`` (character spans), within what the index covers."""
    found = [t for t in tokens(text_) if t.start < INDEX_CHARS]
    terms = [word_terms(t.word) for t in found]
    size = len(clause.words)
    spans = []
    for i in range(len(found) - size + 1):
        if all(terms[i + j] & clause.words[j] for j in range(size)):
            spans.append((found[i].start, found[i + size - 1].end))
    return spans


def matches(text_: str, query: Query) -> bool:
    """True when ``text_`` has every included clause and no excluded one."""
    terms = indexed_terms(text_)
    return all(_occurs(terms, c) for c in query.include) and not any(
        _occurs(terms, c) for c in query.exclude
    )


def _occurs(terms: Sequence[frozenset[str]], clause: Clause) -> bool:
    """``clause`` occurs among the words' ``terms`` (what :func:`occurrences` finds)."""
    words = clause.words
    size = len(words)
    for i in range(len(terms) - size + 1):
        if all(not terms[i + j].isdisjoint(words[j]) for j in range(size)):
            return True
    return False


def _clause_terms(clause: Clause) -> list[list[str]]:
    """The index terms of a clause as AND of ORs: its word's terms, or its pairs' terms."""
    words = clause.words
    if len(words) == 1:
        return [sorted(words[0])]
    return [sorted(f"{a}{PAIR}{b}" for a in left for b in right) for left, right in pairwise(words)]


def _exact_exclusions(query: Query) -> list[Clause]:
    # A longer excluded phrase cannot be excluded by its pairs: a text may hold the pairs
    # apart. It is excluded in Python instead.
    return [c for c in query.exclude if c.searchable and len(c.words) <= 2]


def fts5_query(query: Query) -> str:
    """The FTS5 MATCH expression of ``query`` (every term quoted)."""

    def any_of(terms: list[str]) -> str:
        return "(" + " OR ".join('"' + t.replace('"', '""') + '"' for t in terms) + ")"

    def clause(c: Clause) -> str:
        return "(" + " AND ".join(any_of(ts) for ts in _clause_terms(c)) + ")"

    expr = " AND ".join(clause(c) for c in query.include)
    excluded = _exact_exclusions(query)
    if excluded:
        expr = f"({expr}) NOT ({' OR '.join(clause(c) for c in excluded)})"
    return expr


def tsquery(query: Query) -> str:
    """The PostgreSQL tsquery text of ``query`` (every lexeme quoted, none parsed)."""

    def lexeme(term: str) -> str:
        return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"

    def any_of(terms: list[str]) -> str:
        return "(" + " | ".join(lexeme(t) for t in terms) + ")"

    def clause(c: Clause) -> str:
        return "(" + " & ".join(any_of(ts) for ts in _clause_terms(c)) + ")"

    expr = " & ".join(clause(c) for c in query.include)
    excluded = _exact_exclusions(query)
    if excluded:
        expr = f"({expr}) & !({' | '.join(clause(c) for c in excluded)})"
    return expr


# -- the search -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows a search besides its words (all optional)."""

    since: datetime | None = None
    until: datetime | None = None
    official_ids: tuple[int, ...] | None = None
    watchlist_id: int | None = None
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One matching version: enough to order, count and page the answer."""

    version_id: int
    post_id: int
    official_id: int
    at: datetime


def version_time() -> ColumnElement[datetime]:
    """When a version appeared: the post's time for the first, when it was seen for edits."""
    first = func.coalesce(Post.published_at, PostVersion.first_seen_at)
    at = case((PostVersion.version == 1, first), else_=PostVersion.first_seen_at)
    return type_coerce(at, UTCDateTime())


def _match_condition(dialect: str, query: Query) -> TextClause:
    if dialect == "postgresql":
        return text(_PG_MATCH).bindparams(search_q=tsquery(query))
    return text(_FTS_MATCH).bindparams(search_q=fts5_query(query))


def _matching(conn: AsyncConnection, query: Query, filters: Filters, *columns: Any) -> Select[Any]:
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


def _searchable(query: Query) -> bool:
    return bool(query.include) and all(c.searchable for c in query.include)


_NEWEST = (post_search.c.at.desc(), post_search.c.version_id.desc())
_MATCH_COLUMNS = (
    post_search.c.version_id,
    post_search.c.post_id,
    Account.official_id,
    post_search.c.at,
)


async def search_versions(conn: AsyncConnection, query: Query, filters: Filters) -> list[Match]:
    """Every version matching ``query`` within ``filters``, newest first."""
    if not _searchable(query):
        return []
    if query.checked_here:
        return await _checked(conn, query, filters)
    stmt = _matching(conn, query, filters, *_MATCH_COLUMNS).order_by(*_NEWEST)
    return [Match(*row) for row in await conn.execute(stmt)]


async def _checked(conn: AsyncConnection, query: Query, filters: Filters) -> list[Match]:
    """A long phrase: the index narrows it by its pairs, the words' order is checked here."""
    stmt = (
        _matching(conn, query, filters, *_MATCH_COLUMNS, PostVersion.text)
        .join(PostVersion, PostVersion.id == post_search.c.version_id)
        .order_by(*_NEWEST)
    )
    return [Match(*row[:4]) for row in await conn.execute(stmt) if matches(row[4], query)]


@dataclass(frozen=True, slots=True)
class Tally:
    """One official's share of an answer."""

    official_id: int
    versions: int
    posts: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    """An answer's counts per official (most posts first) and one page of version ids."""

    tallies: list[Tally]
    version_ids: list[int]
    #: The page shown (the last one when a later one was asked for) and the page size.
    page: int = 1
    size: int = 10

    @property
    def versions(self) -> int:
        """How many versions match."""
        return sum(t.versions for t in self.tallies)

    @property
    def posts(self) -> int:
        """How many posts have a matching version."""
        return sum(t.posts for t in self.tallies)

    @property
    def pages(self) -> int:
        """How many pages the answer has (at least one)."""
        return max(1, -(-self.versions // self.size))


def _tallied(rows: Sequence[tuple[int, int, int]]) -> list[Tally]:
    # Most posts first; ties by official id, so both databases list them alike.
    return sorted((Tally(*r) for r in rows), key=lambda t: (-t.posts, -t.versions, t.official_id))


async def search_page(
    conn: AsyncConnection, query: Query, filters: Filters, *, page: int, size: int
) -> SearchPage:
    """Counts per official of every matching version, and page ``page``'s ids, newest first.

    The counting and the paging are done by the database: only the tallies and the page's
    ids come back, however many versions match.
    """
    if not _searchable(query):
        return SearchPage([], [], 1, size)
    if query.checked_here:
        found = await _checked(conn, query, filters)
        versions = Counter(m.official_id for m in found)
        posts = Counter(official for _, official in {(m.post_id, m.official_id) for m in found})
        tallies = _tallied([(oid, n, posts[oid]) for oid, n in versions.items()])
        shown = min(page, SearchPage(tallies, [], 1, size).pages)
        ids = [m.version_id for m in found[(shown - 1) * size : shown * size]]
        return SearchPage(tallies, ids, shown, size)
    if conn.dialect.name == "sqlite":
        return await _sqlite_page(conn, query, filters, page=page, size=size)
    counted = _matching(
        conn, query, filters, Account.official_id, func.count(),
        func.count(distinct(post_search.c.post_id)),
    ).group_by(Account.official_id)  # fmt: skip
    tallies = _tallied([(r[0], r[1], r[2]) for r in await conn.execute(counted)])
    if not tallies:
        return SearchPage([], [], 1, size)
    shown = min(page, SearchPage(tallies, [], 1, size).pages)
    stmt = (
        _matching(conn, query, filters, post_search.c.version_id)
        .order_by(*_NEWEST)
        .offset((shown - 1) * size)
        .limit(size)
    )
    return SearchPage(tallies, list((await conn.execute(stmt)).scalars()), shown, size)


# -- SQLite: the plan is chosen here ---------------------------------------------------
#
# SQLite's planner cannot see how many versions the FTS5 index will return, and without
# ANALYZE statistics it guesses. So the search picks what drives each query from cheap
# counts: the index's matches, the rows of the accounts in scope, or the rows of the
# period, whichever is fewest, and forces that index. A page of a large answer is read off
# the time index newest first instead of sorting every match.

_FTS_ROWIDS = "SELECT rowid FROM post_versions_fts WHERE post_versions_fts MATCH :search_q"
_SCOPE_ACCOUNTS = "SELECT id FROM accounts WHERE "
_HINTS = {
    "terms": "",
    "accounts": " INDEXED BY ix_post_search_account",
    "time": " INDEXED BY ix_post_search_at",
}


def _sqlite_scope(filters: Filters) -> tuple[str | None, dict[str, Any]]:
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


def _sqlite_where(filters: Filters, driver: str) -> tuple[str, dict[str, Any]]:
    """The WHERE clause for ``driver``: the other conditions cannot pick an index ("+")."""
    terms, accounts, time = ("" if driver == d else "+" for d in ("terms", "accounts", "time"))
    conds = [f"{terms}s.version_id IN ({_FTS_ROWIDS})"]
    scope, params = _sqlite_scope(filters)
    if scope is not None:
        conds.append(f"{accounts}s.account_id IN ({scope})")
    if filters.since is not None:
        conds.append(f"{time}s.at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        conds.append(f"{time}s.at < :until")
        params["until"] = filters.until
    return " AND ".join(conds), params


def _sqlite_text(sql: str, params: dict[str, Any], query: Query) -> TextClause:
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


async def _sqlite_driver(conn: AsyncConnection, query: Query, filters: Filters) -> str:
    """Which index drives the search: the one with the fewest rows to read."""
    q = fts5_query(query)
    rows = {"terms": await _scalar(conn, "SELECT count(*) FROM post_versions_fts"
                                   " WHERE post_versions_fts MATCH :q", q=q)}  # fmt: skip
    scope, params = _sqlite_scope(filters)
    if scope is not None and (filters.official_ids is not None or filters.watchlist_id):
        sql = f"SELECT count(*) FROM post_search WHERE account_id IN ({scope})"  # noqa: S608 -- our own SQL; values are bound
        counted = _sqlite_text(sql, params, query)
        rows["accounts"] = int((await conn.execute(counted)).scalar_one())
    if filters.since is not None or filters.until is not None:
        rows["time"] = await _period_rows(conn, filters)
    return min(rows, key=lambda k: rows[k])


async def _scalar(conn: AsyncConnection, sql: str, **params: Any) -> int:
    return int((await conn.execute(text(sql), params)).scalar_one() or 0)


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


async def _sqlite_page(
    conn: AsyncConnection,
    query: Query,
    filters: Filters,
    *,
    page: int,
    size: int,
    driver: str | None = None,
    walk_after: int = _WALK_AFTER,
) -> SearchPage:
    """``search_page`` on SQLite (``driver`` and ``walk_after`` fix the plan, for tests)."""
    driver = driver or await _sqlite_driver(conn, query, filters)
    where, params = _sqlite_where(filters, driver)
    # Only constants and bound parameters make up this SQL (hence the S608 waivers).
    sql = (
        "SELECT a.official_id, sum(g.n), sum(g.p) FROM (SELECT s.account_id AS account_id,"  # noqa: S608 -- see above
        " count(*) AS n, count(DISTINCT s.post_id) AS p FROM post_search AS s"
        f"{_HINTS[driver]} WHERE {where} GROUP BY s.account_id) AS g"
        " JOIN accounts AS a ON a.id = g.account_id GROUP BY a.official_id"
    )
    counted = _sqlite_text(sql, params, query)
    tallies = _tallied([(int(r[0]), int(r[1]), int(r[2])) for r in await conn.execute(counted)])
    if not tallies:
        return SearchPage([], [], 1, size)
    result = SearchPage(tallies, [], 1, size)
    shown = min(page, result.pages)
    if driver == "terms" and result.versions > walk_after:
        driver = "time"
        where, params = _sqlite_where(filters, driver)
    sql = (
        f"SELECT s.version_id FROM post_search AS s{_HINTS[driver]} WHERE {where}"  # noqa: S608 -- constants and bound values only
        " ORDER BY s.at DESC, s.version_id DESC LIMIT :page_size OFFSET :page_skip"
    )
    params = {**params, "page_size": size, "page_skip": (shown - 1) * size}
    stmt = _sqlite_text(sql, params, query)
    return SearchPage(tallies, list((await conn.execute(stmt)).scalars()), shown, size)


# -- what a found version shows -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """A found version with its post, account and official, as answers show it."""

    version_id: int
    version: int
    versions: int
    text: str
    at: datetime
    post_id: int
    platform_post_id: str
    url: str | None
    published_at: datetime | None
    edited: bool
    deleted: bool
    account_id: int
    platform: str
    handle: str
    official_id: int
    name: str
    name_ru: str | None
    name_kk: str | None
    name_en: str | None


_HIT_COLUMNS = (
    PostVersion.id,
    PostVersion.version,
    Post.versions,
    PostVersion.text,
    version_time(),
    Post.id,
    Post.platform_post_id,
    Post.url,
    Post.published_at,
    Post.edited,
    Post.deleted,
    Account.id,
    Account.platform,
    Account.handle,
    Official.id,
    Official.name,
    Official.name_ru,
    Official.name_kk,
    Official.name_en,
)


async def load_hits(conn: AsyncConnection, version_ids: Sequence[int]) -> list[Hit]:
    """The versions ``version_ids`` with what shows them, in the order given."""
    found: dict[int, Hit] = {}
    for lo in range(0, len(version_ids), _CHUNK):
        chunk = list(version_ids[lo : lo + _CHUNK])
        stmt = (
            select(*_HIT_COLUMNS)
            .join(Post, Post.id == PostVersion.post_id)
            .join(Account, Account.id == Post.account_id)
            .join(Official, Official.id == Account.official_id)
            .where(PostVersion.id.in_(chunk))
        )
        for row in await conn.execute(stmt):
            values: tuple[Any, ...] = tuple(row)
            found[values[0]] = Hit(*values)
    return [found[v] for v in version_ids if v in found]


async def evidence_events(conn: AsyncConnection, hits: Sequence[Hit]) -> dict[int, int]:
    """Version id -> the event that announced it (or its post's new_post event), if any."""
    own: dict[int, str] = {}
    first: dict[int, str] = {}
    for hit in hits:
        new_post = f"{hit.account_id}:new_post:{hit.platform_post_id}"[:300]
        first[hit.version_id] = new_post
        own[hit.version_id] = (
            new_post
            if hit.version == 1
            else f"{hit.account_id}:post_edited:{hit.platform_post_id}:{text_hash(hit.text)}"[:300]
        )
    keys = sorted(set(own.values()) | set(first.values()))
    if not keys:
        return {}
    stmt = select(EventRow.dedup_key, EventRow.id).where(EventRow.dedup_key.in_(keys))
    ids = {key: event_id for key, event_id in await conn.execute(stmt)}
    out: dict[int, int] = {}
    for version_id in own:
        event_id = ids.get(own[version_id]) or ids.get(first[version_id])
        if event_id is not None:
            out[version_id] = event_id
    return out


@dataclass(frozen=True, slots=True)
class OfficialName:
    """An official's names (``bot.names.localized_name`` picks one)."""

    id: int
    name: str
    name_ru: str | None
    name_kk: str | None
    name_en: str | None


async def official_names(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, OfficialName]:
    """The names of officials ``ids``."""
    out: dict[int, OfficialName] = {}
    for lo in range(0, len(ids), _CHUNK):
        stmt = select(
            Official.id, Official.name, Official.name_ru, Official.name_kk, Official.name_en
        ).where(Official.id.in_(list(ids[lo : lo + _CHUNK])))
        for row in await conn.execute(stmt):
            out[row[0]] = OfficialName(*row)
    return out


_REBUILD = {
    "sqlite": (
        "DELETE FROM post_search",
        "INSERT INTO post_search (version_id, post_id, account_id, at)"
        " SELECT v.id, v.post_id, p.account_id, CASE WHEN v.version = 1"
        " THEN coalesce(p.published_at, v.first_seen_at) ELSE v.first_seen_at END"
        " FROM post_versions v JOIN posts p ON p.id = v.post_id",
        "INSERT INTO post_versions_fts(post_versions_fts) VALUES ('rebuild')",
    ),
    "postgresql": (
        "DROP INDEX IF EXISTS ix_post_search_terms",
        "TRUNCATE post_search",
        "INSERT INTO post_search (version_id, post_id, account_id, at, terms)"
        " SELECT v.id, v.post_id, p.account_id, CASE WHEN v.version = 1"
        " THEN coalesce(p.published_at, v.first_seen_at) ELSE v.first_seen_at END,"
        " array_to_tsvector(string_to_array(coalesce(v.search_terms, ''), ' '))"
        " FROM post_versions v JOIN posts p ON p.id = v.post_id",
        "CREATE INDEX ix_post_search_terms ON post_search USING gin (terms)",
    ),
}


async def rebuild_index(conn: AsyncConnection) -> None:
    """Rebuild the search index from ``post_versions`` (after a load with triggers off)."""
    for statement in _REBUILD[conn.dialect.name]:
        await conn.exec_driver_sql(statement)


# -- searches too long for a button ----------------------------------------------------


async def save_search(conn: AsyncConnection, query: str) -> int:
    """The id of the saved search ``query`` (stored on first use)."""
    digest = hashlib.sha256(query.encode()).hexdigest()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        insert(SavedSearch)
        .values(digest=digest, query=query, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[SavedSearch.digest])
    )
    found = await conn.scalar(select(SavedSearch.id).where(SavedSearch.digest == digest))
    if found is None:
        raise RuntimeError("a saved search vanished as it was stored")
    return int(found)


async def saved_search(conn: AsyncConnection, search_id: int) -> str | None:
    """The arguments of saved search ``search_id``, or None when there is none."""
    if not 0 < search_id < 2**31:
        return None
    value = await conn.scalar(select(SavedSearch.query).where(SavedSearch.id == search_id))
    return None if value is None else str(value)
