"""post languages (post_versions.language) and account visibility (account_state.visibility)

``language`` is NULL until the version's text has been identified (``bot.langs``): a
language code (``kk``, ``ru``, ``en``, ``uk``), ``mixed`` (Kazakh and Russian in one
text) or ``unknown`` (too short, or undecidable). The partial index holds only the rows
still to do, so the background job finds its next batch without reading the table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Who may see the account (visibility_changed, bot.detect.visibility): /silent puts a
    # hidden account apart instead of calling it silent.
    op.add_column("account_state", sa.Column("visibility", sa.String(length=20), nullable=True))
    # A plain ADD COLUMN on both databases: a batch copy would drop SQLite's FTS triggers.
    op.add_column("post_versions", sa.Column("language", sa.String(length=12), nullable=True))
    op.create_index(
        "ix_post_versions_language_todo",
        "post_versions",
        ["id"],
        unique=False,
        postgresql_where=sa.text("language IS NULL"),
        sqlite_where=sa.text("language IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_post_versions_language_todo", table_name="post_versions")
    op.drop_column("post_versions", "language")
    op.drop_column("account_state", "visibility")
