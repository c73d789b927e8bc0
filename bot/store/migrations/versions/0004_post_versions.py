"""post versions: every text a post had, with the fragment it was read from

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BATCH = 5000


def _text_hash(text: str) -> str:
    # bot.detect.state.text_hash, copied: a migration must not change when the code does.
    normal = "".join(text.split())
    return hashlib.sha1(normal.encode(), usedforsecurity=False).hexdigest()[:16]


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_hash", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("versions", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "post_versions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("post_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("raw_sha256", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_versions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_versions")),
        sa.UniqueConstraint("post_id", "version", name="uq_post_versions_post_version"),
    )
    _backfill()


def _backfill() -> None:
    """Posts stored before this revision become version 1 of themselves (no fragment)."""
    conn = op.get_bind()
    posts = sa.table(
        "posts",
        sa.column("id", _ID),
        sa.column("text", sa.Text()),
        sa.column("text_hash", sa.String()),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(posts.c.id, posts.c.text)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        conn.execute(
            posts.update()
            .where(posts.c.id == sa.bindparam("b_id"))
            .values(text_hash=sa.bindparam("b_hash")),
            [{"b_id": pid, "b_hash": _text_hash(text or "")} for pid, text in rows],
        )
    op.execute(
        "INSERT INTO post_versions (post_id, version, text, first_seen_at, last_seen_at, views) "
        "SELECT id, 1, text, first_seen_at, last_seen_at, views FROM posts"
    )


def downgrade() -> None:
    op.drop_table("post_versions")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("versions")
        batch_op.drop_column("text_hash")
