"""retention: index the outbox rows a digest summarised, so removing a digest is cheap

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04 03:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Deleting a delivery sets digest_id to NULL in the rows that point at it (ON DELETE
    # SET NULL): without an index each deleted row would scan the whole outbox. Partial:
    # only digested rows have it.
    op.create_index(
        "ix_deliveries_digest",
        "deliveries",
        ["digest_id"],
        unique=False,
        postgresql_where=sa.text("digest_id IS NOT NULL"),
        sqlite_where=sa.text("digest_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_digest", table_name="deliveries")
