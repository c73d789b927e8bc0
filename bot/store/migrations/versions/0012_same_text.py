"""same text from several officials: post_sketches, post_bands

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "post_sketches",
        sa.Column("post_id", _BIG_ID, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("official_id", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("group_event_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_sketches_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_sketches")),
    )
    op.create_index(
        op.f("ix_post_sketches_published_at"), "post_sketches", ["published_at"], unique=False
    )
    op.create_table(
        "post_bands",
        sa.Column("post_id", _BIG_ID, nullable=False),
        sa.Column("band", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("published_s", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["post_sketches.post_id"],
            name=op.f("fk_post_bands_post_id_post_sketches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "band", name=op.f("pk_post_bands")),
    )
    op.create_index(
        "ix_post_bands_key_published", "post_bands", ["band_key", "published_s"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_post_bands_key_published", table_name="post_bands")
    op.drop_table("post_bands")
    op.drop_index(op.f("ix_post_sketches_published_at"), table_name="post_sketches")
    op.drop_table("post_sketches")
