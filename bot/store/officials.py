"""Officials and their accounts as chat commands find and change them.

Finding an official is forgiving and honest about ambiguity: a slug or ``#id`` matches
exactly; otherwise every typed word must start a word of one of the official's names
(any script), and whole-name matches win over partial ones.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.names import exact, matches, query_tokens, search_key
from bot.store.models import Account, Official, utcnow

#: More candidates than this are not worth listing; the caller asks for a longer name.
MAX_CANDIDATES = 50


async def find_officials(session: AsyncSession, query: str) -> list[Official]:
    """Officials matching ``query``: one when unambiguous, several choices, or none."""
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


async def get_official(session: AsyncSession, official_id: int) -> Official | None:
    """Official ``official_id``, if it exists."""
    return await session.get(Official, official_id)


async def add_official(session: AsyncSession, name: str, slug: str) -> Official:
    """A new official called ``name``; ``slug`` gets "-2", "-3"... when already taken."""
    candidate, n = slug, 1
    while (await session.scalar(select(Official.id).where(Official.slug == candidate))) is not None:
        n += 1
        candidate = f"{slug[:190]}-{n}"
    official = Official(slug=candidate, name=name, search_key=search_key([name]))
    session.add(official)
    await session.flush()
    return official


async def find_account(session: AsyncSession, platform: str, handle: str) -> Account | None:
    """The account ``handle`` on ``platform``, if it is known."""
    stmt = select(Account).where(Account.platform == platform, Account.handle == handle)
    return (await session.scalars(stmt)).first()


def watch_account(
    session: AsyncSession, account: Account | None, *, official_id: int, platform: str,
    handle: str, url: str,
) -> Account:  # fmt: skip
    """Enable ``account`` (created for ``official_id`` when None) and poll it soon."""
    if account is None:
        account = Account(official_id=official_id, platform=platform, handle=handle, url=url)
        session.add(account)
    account.enabled, account.next_poll_at = True, utcnow()
    return account


def disable_account(account: Account) -> None:
    """Stop polling ``account``; its history stays in reports and it can be re-enabled."""
    account.enabled = False
