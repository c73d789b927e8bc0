"""digests in the outbox: a delivery may carry a stored reply; unknown outcomes counted

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Batch mode: SQLite cannot ALTER a column's nullability or add a foreign key in
    # place, so it copies the table (existing rows included); PostgreSQL alters in place.
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unknown_outcomes", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("digest_id", _ID, nullable=True))
        batch_op.alter_column("event_id", existing_type=_ID, nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_digest_id_deliveries"),
            "deliveries",
            ["digest_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Rows a relay already retried once after an unknown outcome were only marked in
    # their note; carry that into the counter so they are still retried at most once.
    op.execute(
        "UPDATE deliveries SET unknown_outcomes = 1 "
        "WHERE status IN ('pending', 'claimed', 'sending') AND last_error LIKE 'outcome unknown%'"
    )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE event_id IS NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_digest_id_deliveries"), type_="foreignkey"
        )
        batch_op.alter_column("event_id", existing_type=_ID, nullable=False)
        batch_op.drop_column("digest_id")
        batch_op.drop_column("payload")
        batch_op.drop_column("unknown_outcomes")
