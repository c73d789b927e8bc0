"""Snapshots, posts and events as CSV for analysts (``govwatch export --what ...``).

Rows are streamed from the database in batches and written as they come, so exporting
years of history needs little memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserInputError
from bot.store.engine import Database
from bot.store.models import Account, EventRow, Official, Post, PostVersion, Snapshot

BATCH = 2000

COLUMNS: dict[str, tuple[str, ...]] = {
    "snapshots": (
        "snapshot_id", "official_id", "official", "platform", "handle", "observed_at",
        "followers", "followers_exact", "posts_count", "display_name",
    ),
    "posts": (
        "post_id", "official_id", "official", "platform", "handle", "platform_post_id", "url",
        "published_at", "first_seen_at", "views", "edited", "deleted", "deleted_at",
        "is_reply", "is_repost", "forwarded_from", "text", "language",
    ),
    "events": (
        "event_id", "official_id", "official", "platform", "handle", "kind", "occurred_at",
        "detected_at", "payload",
    ),
}  # fmt: skip


def _query(what: str, since: datetime | None) -> Select[*tuple[Any, ...]]:
    ident = (Official.id, Official.name, Account.platform, Account.handle)
    stmt: Select[*tuple[Any, ...]]
    if what == "snapshots":
        stmt = (
            select(Snapshot.id, *ident, Snapshot.observed_at, Snapshot.followers,
                   Snapshot.followers_exact, Snapshot.posts_count, Snapshot.display_name)
            .join(Account, Account.id == Snapshot.account_id)
            .join(Official, Official.id == Account.official_id)
            .order_by(Snapshot.id)
        )  # fmt: skip
        return stmt.where(Snapshot.observed_at >= since) if since else stmt
    if what == "posts":
        stmt = (
            select(Post.id, *ident, Post.platform_post_id, Post.url, Post.published_at,
                   Post.first_seen_at, Post.views, Post.edited, Post.deleted, Post.deleted_at,
                   Post.is_reply, Post.is_repost, Post.forwarded_from, Post.text,
                   PostVersion.language)
            .join(Account, Account.id == Post.account_id)
            .outerjoin(PostVersion, and_(PostVersion.post_id == Post.id,
                                         PostVersion.version == Post.versions))
            .join(Official, Official.id == Account.official_id)
            .order_by(Post.id)
        )  # fmt: skip
        return stmt.where(Post.first_seen_at >= since) if since else stmt
    stmt = (
        select(EventRow.id, *ident, EventRow.kind, EventRow.occurred_at, EventRow.detected_at,
               EventRow.payload)
        .outerjoin(Account, Account.id == EventRow.account_id)
        .outerjoin(Official, Official.id == EventRow.official_id)
        .order_by(EventRow.id)
    )  # fmt: skip
    return stmt.where(EventRow.detected_at >= since) if since else stmt


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # Spreadsheets would evaluate these as formulas; the text comes from outside.
        return "'" + value
    return value


async def stream_rows(
    session: AsyncSession, what: str, *, since: datetime | None = None
) -> AsyncIterator[Sequence[object]]:
    """Yield export rows of ``what`` (snapshots, posts or events), oldest first."""
    result = await session.stream(_query(what, since).execution_options(yield_per=BATCH))
    async for row in result:
        yield tuple(_cell(v) for v in row)


async def export_csv(
    db: Database, what: str, out: IO[str], *, since: datetime | None = None
) -> int:
    """Write ``what`` as CSV with a header to ``out``; return the number of data rows."""
    if what not in COLUMNS:
        raise UserInputError(f"cannot export {what!r}; choose snapshots, posts or events")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[what])
    count = 0
    async with db.sessions() as session:
        async for row in stream_rows(session, what, since=since):
            writer.writerow(row)
            count += 1
    return count
