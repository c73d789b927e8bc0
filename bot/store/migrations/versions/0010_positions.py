"""tenure: positions (official, title, start, end) and officials.wikidata_id

A watchlist's members for a period are those in office during it; an official without
positions counts as always in office. Each official's existing ``position`` becomes one
open position, so rosters exported before and after this migration say the same.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add positions and officials.wikidata_id; carry each position over as an open one."""
    op.create_table(
        "positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("official_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["official_id"],
            ["officials.id"],
            name=op.f("fk_positions_official_id_officials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
    )
    op.create_index(op.f("ix_positions_official_id"), "positions", ["official_id"])
    # No batch (table copy) on SQLite: dropping the old officials table with foreign keys
    # on would cascade into accounts and posts. A plain column and a unique index need none.
    op.add_column("officials", sa.Column("wikidata_id", sa.String(length=20), nullable=True))
    op.create_index(op.f("ix_officials_wikidata_id"), "officials", ["wikidata_id"], unique=True)
    op.execute(
        "INSERT INTO positions (official_id, title) "
        "SELECT id, position FROM officials WHERE position IS NOT NULL AND position <> ''"
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_index(op.f("ix_officials_wikidata_id"), table_name="officials")
    # Native on both databases (SQLite 3.35+), so no table copy here either.
    op.execute("ALTER TABLE officials DROP COLUMN wikidata_id")
    op.drop_index(op.f("ix_positions_official_id"), table_name="positions")
    op.drop_table("positions")
