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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Select, TextClause, case, func, select, text, type_coerce
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
from bot.store.types import UTCDateTime
from bot.words import INDEX_CHARS, PAIR, tokens, word_terms

#: The SQLite FTS5 table (and the prefix of its shadow tables) and the PostgreSQL index.
FTS_TABLE = "post_versions_fts"
PG_INDEX = "ix_post_versions_search"
#: The expression must stay PG_INDEX's, or PostgreSQL cannot use the index.
_PG_MATCH = (
    "array_to_tsvector(string_to_array(post_versions.search_terms, ' '))"
    " @@ CAST(:search_q AS tsquery)"
)
_FTS_MATCH = (
    "post_versions.id IN"
    " (SELECT rowid FROM post_versions_fts WHERE post_versions_fts MATCH :search_q)"
)
#: Ids per query when loading many versions (SQLite allows 32,766 parameters).
_CHUNK = 500


def include_in_schema_diff(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic ``include_name``: the search index's own objects are not in the models."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    return not (type_ == "index" and name == PG_INDEX)


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
    return all(occurrences(text_, c) for c in query.include) and not any(
        occurrences(text_, c) for c in query.exclude
    )


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


def _filtered(stmt: Select[Any], filters: Filters, at: ColumnElement[datetime]) -> Select[Any]:
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
    if not query.include or not all(c.searchable for c in query.include):
        return []
    at = version_time().label("at")
    columns: list[Any] = [PostVersion.id, PostVersion.post_id, Account.official_id, at]
    if query.checked_here:
        columns.append(PostVersion.text)
    stmt = (
        select(*columns)
        .join(Post, Post.id == PostVersion.post_id)
        .join(Account, Account.id == Post.account_id)
        .where(_match_condition(conn.dialect.name, query))
        .order_by(at.desc(), PostVersion.id.desc())
    )
    rows = (await conn.execute(_filtered(stmt, filters, version_time()))).all()
    if query.checked_here:
        rows = [r for r in rows if matches(r[4], query)]
    return [Match(r[0], r[1], r[2], r[3]) for r in rows]


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


async def rebuild_index(conn: AsyncConnection) -> None:
    """Rebuild the index from ``search_terms`` (after rows were loaded with triggers off)."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("REINDEX INDEX ix_post_versions_search")
    else:
        await conn.exec_driver_sql(
            "INSERT INTO post_versions_fts(post_versions_fts) VALUES ('rebuild')"
        )


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
