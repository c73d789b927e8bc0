"""What the public web site reads besides the reports: officials by slug, recent posts and
events, and one cheap number that changes whenever the data does.

Nothing here reads chats, subscriptions, editors, deliveries or the audit log: the site
shows only what officials published and what govwatch measured of it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import (
    Account,
    AccountState,
    EventRow,
    Official,
    Post,
    PostVersion,
    Snapshot,
    Watchlist,
    WatchlistMember,
)

#: Event kinds meant for operators (a source failing), not for readers of the site.
OPERATOR_KINDS = ("source_degraded", "source_recovered")


@dataclass(frozen=True, slots=True)
class PublicEvent:
    """One stored event with the official and account it is about (either may be gone)."""

    event: EventRow
    official: Official | None
    account: Account | None


@dataclass(frozen=True, slots=True)
class PublicPost:
    """A post as the official's page lists it."""

    #: The post's row id (the address of its evidence page).
    id: int
    platform: str
    url: str | None
    published_at: datetime | None
    text: str
    edited: bool
    deleted: bool
    deleted_at: datetime | None
    versions: int


async def data_version(session: AsyncSession) -> Hashable:
    """A value that changes whenever anything the site shows changes (primary-key maxima
    and the newest read: index probes, no table scan but the small state table)."""
    parts = [
        select(func.max(Snapshot.id)).scalar_subquery(),
        select(func.max(EventRow.id)).scalar_subquery(),
        select(func.max(Post.id)).scalar_subquery(),
        select(func.max(PostVersion.id)).scalar_subquery(),
        select(func.max(Account.id)).scalar_subquery(),
        select(func.max(Official.updated_at)).scalar_subquery(),
        select(func.count()).select_from(WatchlistMember).scalar_subquery(),
        select(func.max(AccountState.observed_at)).scalar_subquery(),
    ]
    row = (await session.execute(select(*parts))).one()
    return tuple(v.isoformat() if isinstance(v, datetime) else v for v in row)


async def official_by_slug(session: AsyncSession, slug: str) -> Official | None:
    """The official whose slug is ``slug``, or None."""
    stmt = select(Official).where(Official.slug == slug)
    return (await session.scalars(stmt)).first()


async def slugs_of(session: AsyncSession, official_ids: Sequence[int]) -> dict[int, str]:
    """Each official's slug (the address of their page)."""
    if not official_ids:
        return {}
    stmt = select(Official.id, Official.slug).where(Official.id.in_(list(official_ids)))
    return {int(i): str(s) for i, s in (await session.execute(stmt)).all()}


async def all_slugs(session: AsyncSession) -> dict[int, str]:
    """Every official's slug by id."""
    stmt = select(Official.id, Official.slug)
    return {int(i): str(s) for i, s in (await session.execute(stmt)).all()}


async def watchlist_titles(session: AsyncSession) -> list[tuple[str, str | None]]:
    """(name, title) of every watchlist, by name."""
    stmt = select(Watchlist.name, Watchlist.title).order_by(Watchlist.name)
    return [(str(n), t) for n, t in (await session.execute(stmt)).all()]


async def recent_posts(
    session: AsyncSession, account_ids: Sequence[int], *, limit: int = 20
) -> list[PublicPost]:
    """The newest posts of these accounts (edited and deleted ones included)."""
    if not account_ids:
        return []
    stmt = (
        select(Post.id, Account.platform, Post.url, Post.published_at, Post.text, Post.edited,
               Post.deleted, Post.deleted_at, Post.versions)
        .join(Account, Account.id == Post.account_id)
        .where(Post.account_id.in_(list(account_ids)), Post.published_at.is_not(None))
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(limit)
    )  # fmt: skip
    return [
        PublicPost(int(i), str(p), u, at, text or "", bool(e), bool(d), dat, int(v or 1))
        for i, p, u, at, text, e, d, dat, v in (await session.execute(stmt)).all()
    ]


async def recent_events(
    session: AsyncSession,
    *,
    watchlist_id: int | None = None,
    official_id: int | None = None,
    limit: int = 50,
) -> list[PublicEvent]:
    """The newest public events (all, a watchlist's members' or one official's)."""
    stmt = (
        select(EventRow, Official, Account)
        .outerjoin(Official, Official.id == EventRow.official_id)
        .outerjoin(Account, Account.id == EventRow.account_id)
        .where(EventRow.kind.not_in(OPERATOR_KINDS))
        .order_by(EventRow.id.desc())
        .limit(limit)
    )
    if official_id is not None:
        accounts = select(Account.id).where(Account.official_id == official_id)
        stmt = stmt.where(EventRow.account_id.in_(accounts))
    if watchlist_id is not None:
        members = select(WatchlistMember.official_id).where(
            WatchlistMember.watchlist_id == watchlist_id
        )
        accounts = select(Account.id).where(Account.official_id.in_(members))
        stmt = stmt.where(EventRow.account_id.in_(accounts))
    rows = (await session.execute(stmt)).all()
    return [PublicEvent(e, o, a) for e, o, a in rows]


async def watchlist_id(session: AsyncSession, name: str) -> int | None:
    """The id of the watchlist named exactly ``name``."""
    stmt = select(Watchlist.id).where(Watchlist.name == name)
    found = (await session.execute(stmt)).scalar()
    return int(found) if found is not None else None


async def platforms_in_use(session: AsyncSession, watchlist: str | None = None) -> list[str]:
    """The platforms the (watchlist's) officials have enabled accounts on, by name."""
    stmt = select(Account.platform).where(Account.enabled.is_(True)).distinct()
    if watchlist is not None:
        members = (
            select(WatchlistMember.official_id)
            .join(Watchlist, Watchlist.id == WatchlistMember.watchlist_id)
            .where(Watchlist.name == watchlist)
        )
        stmt = stmt.where(Account.official_id.in_(members))
    return sorted(str(p) for p in (await session.scalars(stmt)).all())
