"""keyword alerts and watchwords: keyword_subscriptions, watchlist_words

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 13:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "keyword_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("event_kinds", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_keyword_subscriptions_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keyword_subscriptions")),
    )
    with op.batch_alter_table("keyword_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_keyword_subscriptions_chat_id"), ["chat_id"], unique=False
        )
    op.create_table(
        "watchlist_words",
        sa.Column("watchlist_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlists.id"],
            name=op.f("fk_watchlist_words_watchlist_id_watchlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("watchlist_id", name=op.f("pk_watchlist_words")),
    )


def downgrade() -> None:
    op.drop_table("watchlist_words")
    with op.batch_alter_table("keyword_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_keyword_subscriptions_chat_id"))
    op.drop_table("keyword_subscriptions")
