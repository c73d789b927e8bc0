"""history range indexes: a few hours of snapshots, or a period's posts, of every account

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # BRIN on PostgreSQL: snapshots are appended in time order, so block ranges are
    # tight and the index costs almost nothing to keep (SQLite ignores these options
    # and builds a B-tree).
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_snapshots_observed",
            ["observed_at"],
            unique=False,
            postgresql_using="brin",
            postgresql_with={"pages_per_range": "32", "autosummarize": "on"},
        )
    # Posts arrive rarely (new ones only), so a B-tree costs little here.
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_published", ["published_at", "account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_published")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshots_observed")
