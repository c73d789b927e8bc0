"""The statements of the observation write, built once per dialect.

SQLAlchemy caches the compiled form of each, so a busy worker compiles none per batch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    false,
    func,
    literal_column,
    null,
    or_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert, Update

from bot.store.models import Account, AccountState, Delivery, EventRow, Post, PostVersion
from bot.store.observe_items import STATE_COLUMNS


def insert_for(dialect: str, table: Any) -> Any:
    """The dialect's INSERT (both have ON CONFLICT), chosen at run time: typed Any."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@cache
def lock_owned() -> Update:
    """Lock the batch's accounts this owner still leases; RETURNING their ids."""
    # Touching the rows locks them (PostgreSQL) or takes the write lock (SQLite) for the
    # rest of the transaction, so no claim can take them over before we commit.
    return (
        update(Account)
        .where(
            Account.id.in_(bindparam("ids", expanding=True)),
            Account.lease_owner == bindparam("owner"),
        )
        .values(lease_owner=bindparam("owner"))
        .returning(Account.id)
    )


@cache
def account_update() -> Update:
    """Release an account's lease and record the poll (one row per observation)."""
    return (
        update(Account)
        .where(Account.id == bindparam("b_id"))
        .values(
            lease_until=None,
            lease_owner=None,
            next_poll_at=bindparam("b_next"),
            last_polled_at=bindparam("b_polled"),
            last_success_at=func.coalesce(
                bindparam("b_success", type_=Account.last_success_at.type), Account.last_success_at
            ),
            last_status=bindparam("b_status"),
            consecutive_failures=bindparam("b_failures"),
            last_error=bindparam("b_error"),
            http_validators=bindparam("b_validators", type_=Account.http_validators.type),
            platform_id=func.coalesce(
                bindparam("b_platform_id", type_=Account.platform_id.type), Account.platform_id
            ),
        )
    )


@cache
def state_upsert(dialect: str) -> Insert:
    """Insert or replace an account's detection state."""
    stmt = insert_for(dialect, AccountState)
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[AccountState.account_id],
        set_={name: stmt.excluded[name] for name in STATE_COLUMNS},
    )


@cache
def post_upsert(dialect: str) -> Insert:
    """Insert or refresh a post; RETURNING its id and version count."""
    stmt = insert_for(dialect, Post)
    changed = or_(Post.text_hash.is_(None), Post.text_hash != stmt.excluded.text_hash)
    # No bound parameter in the SET clause: with one, SQLAlchemy sends an upsert with
    # RETURNING one row at a time (sqlalchemy#13130); with none, in batches of rows.
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[Post.account_id, Post.platform_post_id],
        set_={
            "url": stmt.excluded.url,
            "text": stmt.excluded.text,
            "views": stmt.excluded.views,
            "edited": or_(Post.edited, stmt.excluded.edited),
            "deleted": false(),
            "deleted_at": null(),
            "last_seen_at": stmt.excluded.last_seen_at,
            "text_hash": stmt.excluded.text_hash,
            # A new version only when the text changed, not when a post is seen again.
            "versions": case((changed, Post.versions + literal_column("1")), else_=Post.versions),
        },
    ).returning(Post.id, Post.account_id, Post.platform_post_id, Post.versions)


@cache
def version_insert(dialect: str) -> Insert:
    """Insert a post version unless it is stored already."""
    return insert_for(dialect, PostVersion).on_conflict_do_nothing(  # type: ignore[no-any-return]
        index_elements=[PostVersion.post_id, PostVersion.version]
    )


@cache
def version_sighting() -> Update:
    """Record the last sighting of a stored version being superseded or deleted."""
    return (
        update(PostVersion)
        .where(
            PostVersion.post_id == bindparam("b_post"),
            PostVersion.version == bindparam("b_version"),
        )
        .values(
            last_seen_at=func.coalesce(
                bindparam("b_seen", type_=PostVersion.last_seen_at.type), PostVersion.last_seen_at
            ),
            views=func.coalesce(bindparam("b_views", type_=Integer()), PostVersion.views),
        )
    )


@cache
def post_deleted() -> Update:
    """Mark a post deleted."""
    return (
        update(Post)
        .where(
            Post.account_id == bindparam("b_account"), Post.platform_post_id == bindparam("b_post")
        )
        .values(deleted=True, deleted_at=bindparam("b_at"))
    )


@cache
def event_insert(dialect: str) -> Insert:
    """Insert an event unless its dedup key is stored; RETURNING the new ones."""
    return (  # type: ignore[no-any-return]
        insert_for(dialect, EventRow)
        .on_conflict_do_nothing(index_elements=[EventRow.dedup_key])
        .returning(EventRow.id, EventRow.account_id, EventRow.kind, EventRow.dedup_key)
    )


@cache
def delivery_insert(dialect: str) -> Insert:
    """Queue a delivery of an event to a chat, once."""
    return insert_for(dialect, Delivery).on_conflict_do_nothing(  # type: ignore[no-any-return]
        index_elements=[Delivery.event_id, Delivery.chat_id]
    )
