"""ops health index: degraded accounts, counted on every /metrics scrape

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Partial: only degraded rows (a few at most) are in it, so it costs nearly nothing to
    # keep, and a scrape reads those rows instead of the whole account_state table.
    op.create_index(
        "ix_account_state_degraded",
        "account_state",
        ["account_id"],
        unique=False,
        postgresql_where=sa.text("degraded"),
        sqlite_where=sa.text("degraded = 1"),
    )


def downgrade() -> None:
    op.drop_index("ix_account_state_degraded", table_name="account_state")
