"""full-text search: post_versions.search_terms, FTS5 (SQLite) or GIN (PG), saved_searches

Both databases index the same Python-computed terms (``bot.words.index_text``), so they
agree on every answer: SQLite keeps an external-content FTS5 table over
``post_versions.search_terms`` in step through triggers; PostgreSQL indexes the terms as
a tsvector built without its own parser or stemmer (``array_to_tsvector``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The terms are the words module's, by design: the index must hold what queries look
# for. A later change to bot.words that changes terms comes with a migration that
# recomputes them (bot.store.search.reindex).
from bot.words import index_text

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BATCH = 2000

# Terms are space-separated and hold letters, digits, "'" and "_" (pairs); FTS5 must not
# split them further, nor fold accents the Python normaliser kept. detail=none: the index
# answers AND/OR/NOT of terms (phrases come as pair terms), so positions are not stored.
_SQLITE = (
    "CREATE VIRTUAL TABLE post_versions_fts USING fts5(search_terms,"
    " content='post_versions', content_rowid='id', detail=none, columnsize=0,"
    " tokenize=\"unicode61 remove_diacritics 0 tokenchars '''_'\")",
    "CREATE TRIGGER post_versions_fts_insert AFTER INSERT ON post_versions BEGIN"
    " INSERT INTO post_versions_fts(rowid, search_terms) VALUES (new.id, new.search_terms);"
    " END",
    "CREATE TRIGGER post_versions_fts_delete AFTER DELETE ON post_versions BEGIN"
    " INSERT INTO post_versions_fts(post_versions_fts, rowid, search_terms)"
    " VALUES ('delete', old.id, old.search_terms); END",
    "CREATE TRIGGER post_versions_fts_update AFTER UPDATE OF search_terms ON post_versions"
    " BEGIN INSERT INTO post_versions_fts(post_versions_fts, rowid, search_terms)"
    " VALUES ('delete', old.id, old.search_terms);"
    " INSERT INTO post_versions_fts(rowid, search_terms) VALUES (new.id, new.search_terms);"
    " END",
)
_POSTGRES = (
    "CREATE INDEX ix_post_versions_search ON post_versions"
    " USING gin (array_to_tsvector(string_to_array(search_terms, ' ')))",
)


def upgrade() -> None:
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("digest", name=op.f("uq_saved_searches_digest")),
    )
    op.add_column("post_versions", sa.Column("search_terms", sa.Text(), nullable=True))
    _backfill()
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRES:
        op.execute(statement)
    if dialect == "sqlite":
        op.execute("INSERT INTO post_versions_fts(post_versions_fts) VALUES ('rebuild')")


def _backfill() -> None:
    """Versions stored before this revision get their terms."""
    conn = op.get_bind()
    versions = sa.table(
        "post_versions",
        sa.column("id", _ID),
        sa.column("text", sa.Text()),
        sa.column("search_terms", sa.Text()),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(versions.c.id, versions.c.text)
            .where(versions.c.id > last)
            .order_by(versions.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        conn.execute(
            versions.update()
            .where(versions.c.id == sa.bindparam("b_id"))
            .values(search_terms=sa.bindparam("b_terms")),
            [{"b_id": vid, "b_terms": index_text(text or "")} for vid, text in rows],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS post_versions_fts_{name}")
        op.execute("DROP TABLE IF EXISTS post_versions_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_post_versions_search")
    with op.batch_alter_table("post_versions", schema=None) as batch_op:
        batch_op.drop_column("search_terms")
    op.drop_table("saved_searches")
