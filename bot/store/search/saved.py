"""Searches too long for a button (64 bytes): stored, named by id, pruned when old.

A page's buttons name a saved search by its id. Saving a search again marks it as used
now (``created_at``), and each save deletes the searches not saved for
:data:`KEEP_SAVED`: their buttons are that old at least, and pressing one answers that
the search is gone (send it again), as :func:`saved_search` returns None for them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.models import SavedSearch, utcnow

#: How long a saved search outlives its last save.
KEEP_SAVED = timedelta(days=30)


async def save_search(conn: AsyncConnection, query: str, *, now: datetime | None = None) -> int:
    """The id of the saved search ``query`` (stored on first use, marked used now)."""
    now = now or utcnow()
    await prune_saved_searches(conn, now=now)
    digest = hashlib.sha256(query.encode()).hexdigest()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(SavedSearch).values(digest=digest, query=query, created_at=now)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[SavedSearch.digest], set_={"created_at": stmt.excluded.created_at}
        )
    )
    found = await conn.scalar(select(SavedSearch.id).where(SavedSearch.digest == digest))
    if found is None:
        raise RuntimeError("a saved search vanished as it was stored")
    return int(found)


async def saved_search(
    conn: AsyncConnection, search_id: int, *, now: datetime | None = None
) -> str | None:
    """The arguments of saved search ``search_id``, or None when there is none (or too old)."""
    if not 0 < search_id < 2**31:
        return None
    oldest = (now or utcnow()) - KEEP_SAVED
    value = await conn.scalar(
        select(SavedSearch.query).where(
            SavedSearch.id == search_id, SavedSearch.created_at >= oldest
        )
    )
    return None if value is None else str(value)


async def prune_saved_searches(conn: AsyncConnection, *, now: datetime | None = None) -> int:
    """Delete the searches not saved for :data:`KEEP_SAVED`; return how many went."""
    oldest = (now or utcnow()) - KEEP_SAVED
    result = await conn.execute(delete(SavedSearch).where(SavedSearch.created_at < oldest))
    return int(result.rowcount or 0)
