"""The search index's own tables (outside the models) and rebuilding them from the rows.

The index holds ``post_versions.search_terms`` (``bot.words.index_text``: each word's
terms and each adjacent pair ``a_b``), computed in Python, so the databases never stem or
parse anything themselves: SQLite reads the terms through an FTS5 table kept by triggers,
PostgreSQL through a GIN index on ``post_search.terms``, a tsvector made from the same
terms by ``array_to_tsvector`` (migration 0007).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, column, func, table, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.models import Post, PostVersion
from bot.store.types import BigID, UTCDateTime

#: The narrow per-version rows a search reads, and SQLite's FTS5 table (also the prefix
#: of its shadow tables): migration 0007 keeps both outside the models.
SEARCH_TABLE = "post_search"
FTS_TABLE = "post_versions_fts"

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


def version_time() -> ColumnElement[datetime]:
    """When a version appeared: the post's time for the first, when it was seen for edits."""
    first = func.coalesce(Post.published_at, PostVersion.first_seen_at)
    at = case((PostVersion.version == 1, first), else_=PostVersion.first_seen_at)
    return type_coerce(at, UTCDateTime())


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
