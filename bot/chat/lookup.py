"""Find officials by what a journalist typed: forgiving, and honest about ambiguity."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.names import exact, matches, query_tokens
from bot.store.models import Official

#: More candidates than this are not worth listing; the caller asks for a longer name.
MAX_CANDIDATES = 50


async def find_officials(session: AsyncSession, query: str) -> list[Official]:
    """Officials matching ``query``: one when unambiguous, several choices, or none.

    A slug or ``#id`` matches exactly. Otherwise every typed word must start a word of one
    of the official's names (any script); whole-name matches win over partial ones.
    """
    query = query.strip().strip("\"'«»“”")
    if not query:
        return []
    direct = await _direct(session, query)
    if direct is not None:
        return [direct]
    tokens = query_tokens(query)
    if not tokens:
        return []
    # The longest token narrows the scan in SQL; the word-prefix rule is checked here.
    longest = max(tokens, key=len)
    stmt = (
        select(Official)
        .where(Official.search_key.contains(longest, autoescape=True))
        .order_by(Official.name, Official.id)
    )
    found = [o for o in (await session.scalars(stmt)).all() if matches(o.search_key, tokens)]
    whole = [o for o in found if exact(o.search_key, tokens)]
    return (whole or found)[:MAX_CANDIDATES]


async def _direct(session: AsyncSession, query: str) -> Official | None:
    if query.startswith("#") and query[1:].isascii() and query[1:].isdigit():
        number = int(query[1:])
        # Ids are 32-bit integers; a larger number would overflow the database driver.
        return await session.get(Official, number) if number < 2**31 else None
    stmt = select(Official).where(or_(Official.slug == query, Official.slug == query.lower()))
    return (await session.scalars(stmt.limit(1))).first()
