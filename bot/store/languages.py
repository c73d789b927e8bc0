"""Post languages: the versions still to identify, their codes, and counts per account.

``post_versions.language`` is NULL until identified (``bot.langs`` codes otherwise). A
post's language is its latest version's (``posts.versions``); reposts are left out of
the counts, their text is someone else's. A post whose version is not identified yet
counts as ``PENDING``, so shares are never computed as if it did not exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Post, PostVersion

#: Counted for posts whose language is not identified yet.
PENDING = "pending"
_CHUNK = 500


async def pending_versions(
    session: AsyncSession, limit: int, *, claim: bool = False
) -> list[tuple[int, str]]:
    """Up to ``limit`` (version id, text) pairs with no language yet, oldest first.

    ``claim`` (PostgreSQL) locks them for this transaction and skips rows another
    process holds, so several workers never identify the same batch.
    """
    # ix_post_versions_language_todo holds exactly these rows: no table scan.
    stmt = (
        select(PostVersion.id, PostVersion.text)
        .where(PostVersion.language.is_(None))
        .order_by(PostVersion.id)
        .limit(limit)
    )
    if claim:
        stmt = stmt.with_for_update(skip_locked=True)
    connection = await session.connection()
    return [(row[0], row[1] or "") for row in (await connection.execute(stmt)).all()]


async def set_languages(session: AsyncSession, found: Sequence[tuple[int, str]]) -> None:
    """Store each (version id, language code) pair: one executemany, not a round trip each."""
    if not found:
        return
    table = cast(Table, PostVersion.__table__)
    # Core, not the ORM's bulk update: one executemany with plain bound parameters.
    stmt = update(table).where(table.c.id == bindparam("vid")).values(language=bindparam("code"))
    connection = await session.connection()
    await connection.execute(stmt, [{"vid": vid, "code": code} for vid, code in found])


async def count_pending(session: AsyncSession) -> int:
    """How many versions have no language yet."""
    stmt = select(func.count()).select_from(PostVersion).where(PostVersion.language.is_(None))
    return int((await session.execute(stmt)).scalar_one())


async def language_counts(
    session: AsyncSession,
    account_ids: Sequence[int],
    since: datetime,
    until: datetime | None = None,
) -> dict[int, Counter[str]]:
    """Own posts published in [since, until) per account and language code."""
    out: dict[int, Counter[str]] = {}
    connection = await session.connection()
    for start in range(0, len(account_ids), _CHUNK):
        chunk = list(account_ids[start : start + _CHUNK])
        stmt = (
            select(Post.account_id, PostVersion.language, func.count())
            .outerjoin(
                PostVersion,
                and_(PostVersion.post_id == Post.id, PostVersion.version == Post.versions),
            )
            .where(
                Post.account_id.in_(chunk),
                Post.published_at >= since,
                Post.is_repost.is_(False),
            )
            .group_by(Post.account_id, PostVersion.language)
        )
        if until is not None:
            stmt = stmt.where(Post.published_at < until)
        for account_id, code, count in (await connection.execute(stmt)).all():
            out.setdefault(account_id, Counter())[code or PENDING] += count
    return out
