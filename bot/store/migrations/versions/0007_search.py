"""full-text search: post_versions.search_terms, post_search, FTS5 (SQLite) or GIN (PG)

Both databases index the same Python-computed terms (``bot.words.index_text``), so they
agree on every answer. ``post_search`` holds one narrow row per version (its post,
account and time), kept by triggers on ``post_versions``: a search reads the index and
these rows only, never the wide version and post rows, so it costs the same whatever the
texts' length. SQLite finds versions through an external-content FTS5 table over
``post_versions.search_terms``; PostgreSQL through a GIN index on ``post_search.terms``,
a tsvector built from the same terms without PostgreSQL's own parser or stemmer
(``array_to_tsvector``) and kept out of the narrow row (TOAST).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The terms are the words module's, by design: the index must hold what queries look
# for. A later change to bot.words that changes terms comes with a migration that
# recomputes them (UPDATE post_versions.search_terms: the triggers re-index).
from bot.words import index_text

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BATCH = 2000
# A version's time (post_search.at): the post's time for the first version, when it was
# seen for an edit. The terms' tsvector is built from them as they are, no parsing.

# Terms are space-separated and hold letters, digits, "'" and "_" (pairs); FTS5 must not
# split them further, nor fold accents the Python normaliser kept. detail=none: the index
# answers AND/OR/NOT of terms (phrases come as pair terms), so positions are not stored.
_SQLITE = (
    "CREATE TABLE post_search (version_id INTEGER NOT NULL PRIMARY KEY"
    " REFERENCES post_versions (id) ON DELETE CASCADE, post_id INTEGER NOT NULL,"
    " account_id INTEGER NOT NULL, at DATETIME NOT NULL)",
    "CREATE INDEX ix_post_search_at ON post_search (at, account_id, post_id)",
    "CREATE INDEX ix_post_search_account ON post_search (account_id, at, post_id)",
    "CREATE VIRTUAL TABLE post_versions_fts USING fts5(search_terms,"
    " content='post_versions', content_rowid='id', detail=none, columnsize=0,"
    " tokenize=\"unicode61 remove_diacritics 0 tokenchars '''_'\")",
    "CREATE TRIGGER post_versions_fts_insert AFTER INSERT ON post_versions BEGIN"
    " INSERT INTO post_versions_fts(rowid, search_terms) VALUES (new.id, new.search_terms);"
    " INSERT INTO post_search (version_id, post_id, account_id, at)"
    " SELECT new.id, new.post_id, p.account_id, CASE WHEN new.version = 1"
    " THEN coalesce(p.published_at, new.first_seen_at) ELSE new.first_seen_at END"
    " FROM posts p WHERE p.id = new.post_id; END",
    "CREATE TRIGGER post_versions_fts_delete AFTER DELETE ON post_versions BEGIN"
    " INSERT INTO post_versions_fts(post_versions_fts, rowid, search_terms)"
    " VALUES ('delete', old.id, old.search_terms); END",
    "CREATE TRIGGER post_versions_fts_update AFTER UPDATE OF search_terms ON post_versions"
    " BEGIN INSERT INTO post_versions_fts(post_versions_fts, rowid, search_terms)"
    " VALUES ('delete', old.id, old.search_terms);"
    " INSERT INTO post_versions_fts(rowid, search_terms) VALUES (new.id, new.search_terms);"
    " END",
    "INSERT INTO post_versions_fts(post_versions_fts) VALUES ('rebuild')",
    "INSERT INTO post_search (version_id, post_id, account_id, at)"
    " SELECT v.id, v.post_id, p.account_id, CASE WHEN v.version = 1"
    " THEN coalesce(p.published_at, v.first_seen_at) ELSE v.first_seen_at END"
    " FROM post_versions v JOIN posts p ON p.id = v.post_id",
)
_POSTGRES = (
    "CREATE TABLE post_search (version_id BIGINT NOT NULL PRIMARY KEY"
    " REFERENCES post_versions (id) ON DELETE CASCADE, post_id BIGINT NOT NULL,"
    " account_id INTEGER NOT NULL, at TIMESTAMP WITH TIME ZONE NOT NULL,"
    " terms TSVECTOR NOT NULL) WITH (toast_tuple_target = 128)",
    # the terms live out of line, so a search scans short rows
    "ALTER TABLE post_search ALTER COLUMN terms SET STORAGE EXTERNAL",
    "INSERT INTO post_search (version_id, post_id, account_id, at, terms)"
    " SELECT v.id, v.post_id, p.account_id, CASE WHEN v.version = 1"
    " THEN coalesce(p.published_at, v.first_seen_at) ELSE v.first_seen_at END,"
    " array_to_tsvector(string_to_array(coalesce(v.search_terms, ''), ' '))"
    " FROM post_versions v JOIN posts p ON p.id = v.post_id",
    "CREATE INDEX ix_post_search_terms ON post_search USING gin (terms)",
    "CREATE INDEX ix_post_search_at ON post_search (at, account_id, post_id)",
    "CREATE INDEX ix_post_search_account ON post_search (account_id, at, post_id)",
    "CREATE FUNCTION post_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO post_search (version_id, post_id, account_id, at, terms)"
    " SELECT NEW.id, NEW.post_id, p.account_id, CASE WHEN NEW.version = 1"
    " THEN coalesce(p.published_at, NEW.first_seen_at) ELSE NEW.first_seen_at END,"
    " array_to_tsvector(string_to_array(coalesce(NEW.search_terms, ''), ' '))"
    " FROM posts p WHERE p.id = NEW.post_id;"
    " RETURN NULL; END $$",
    "CREATE FUNCTION post_search_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " UPDATE post_search"
    " SET terms = array_to_tsvector(string_to_array(coalesce(NEW.search_terms, ''), ' '))"
    " WHERE version_id = NEW.id; RETURN NULL; END $$",
    "CREATE TRIGGER post_search_insert AFTER INSERT ON post_versions"
    " FOR EACH ROW EXECUTE FUNCTION post_search_insert()",
    "CREATE TRIGGER post_search_update AFTER UPDATE OF search_terms ON post_versions"
    " FOR EACH ROW EXECUTE FUNCTION post_search_update()",
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
    for statement in _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRES:
        op.execute(statement)


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
        for name in ("insert", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS post_search_{name} ON post_versions")
            op.execute(f"DROP FUNCTION IF EXISTS post_search_{name}()")
    op.execute("DROP TABLE IF EXISTS post_search")
    with op.batch_alter_table("post_versions", schema=None) as batch_op:
        batch_op.drop_column("search_terms")
    op.drop_table("saved_searches")
