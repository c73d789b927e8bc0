"""service leases: one holder per database of a named job (the outbox relay)

A row per job: who holds it and until when. ``govwatch run`` processes on one database
(several workers on one machine, several machines on one PostgreSQL) keep exactly one
relay sending, so Telegram's and Slack's pacing is counted in one place.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_leases",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_leases")),
    )


def downgrade() -> None:
    op.drop_table("service_leases")
