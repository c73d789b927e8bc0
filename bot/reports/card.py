"""The official's card (``/official``): every account, reach, growth, rhythm and health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.history import Baseline, followers_at, median_gap, post_counts, post_times
from bot.reports.languages import LanguageMix, account_mixes, mix_of
from bot.reports.scope import AccountRow, OfficialRow, load_scope
from bot.store.models import Official, Post, Watchlist, WatchlistMember
from bot.store.positions import Tenure, is_former, last_held, tenures_of

#: The rhythm is the median gap between an account's latest ``history.RHYTHM_POSTS``
#: posts within this window.
RHYTHM_WINDOW = timedelta(days=90)
#: The card's language mix counts the posts of this window.
LANGUAGE_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class LastPost:
    """The newest post seen on an account."""

    published_at: datetime | None
    url: str | None
    text: str
    deleted: bool


@dataclass(frozen=True, slots=True)
class AccountCard:
    """One account's line on the card."""

    account: AccountRow
    growth_7d: Baseline | None
    growth_30d: Baseline | None
    last_post: LastPost | None
    median_gap: timedelta | None
    posts_30d: int

    def growth(self, baseline: Baseline | None) -> int | None:
        """Followers gained since ``baseline`` (None when either end is unknown)."""
        now = self.account.known_followers
        return None if baseline is None or now is None else now - baseline.followers


@dataclass(slots=True)
class OfficialCard:
    """Everything the card shows about one official."""

    official: OfficialRow
    position: str | None
    organisation: str | None
    measured_at: datetime
    watchlists: list[str] = field(default_factory=list)
    accounts: list[AccountCard] = field(default_factory=list)
    #: The last position held, when every position has ended (a former member).
    former: Tenure | None = None
    #: The languages of the official's posts over ``LANGUAGE_WINDOW``, all accounts together.
    languages: LanguageMix = field(default_factory=LanguageMix)


async def official_card(
    session: AsyncSession, official_id: int, *, now: datetime | None = None
) -> OfficialCard | None:
    """The card of official ``official_id``, or None when there is no such official."""
    now = now or datetime.now(UTC)
    row = await session.get(Official, official_id)
    if row is None:
        return None
    scope = await load_scope(session, official_ids=[official_id])
    accounts = scope.accounts
    ids = [a.id for a in accounts]
    week = await followers_at(session, ids, now - timedelta(days=7), until=now)
    month = await followers_at(session, ids, now - timedelta(days=30), until=now)
    times = await post_times(session, ids, since=now - RHYTHM_WINDOW)
    counts = await post_counts(session, ids, now - timedelta(days=30))
    last = await _last_posts(session, ids)
    mixes = await account_mixes(session, ids, now - LANGUAGE_WINDOW, now)
    card = OfficialCard(
        official=scope.officials.get(official_id)
        or OfficialRow(row.id, row.name, row.name_ru, row.name_kk, row.name_en),
        position=row.position,
        organisation=row.organisation,
        measured_at=now,
        watchlists=await _watchlists(session, official_id),
        languages=mix_of(m.counts for m in mixes.values()),
    )
    tenures = (await tenures_of(session, [official_id])).get(official_id, [])
    if is_former(tenures, now.date()):
        card.former = last_held(tenures)
    for account in accounts:
        card.accounts.append(
            AccountCard(
                account=account,
                growth_7d=week.get(account.id),
                growth_30d=month.get(account.id),
                last_post=last.get(account.id),
                median_gap=median_gap(times.get(account.id, [])),
                posts_30d=counts.get(account.id, 0),
            )
        )
    return card


async def _last_posts(session: AsyncSession, ids: list[int]) -> dict[int, LastPost]:
    # One indexed probe per account (an official has a handful of accounts).
    out: dict[int, LastPost] = {}
    for account_id in ids:
        stmt = (
            select(Post.published_at, Post.url, Post.text, Post.deleted)
            .where(Post.account_id == account_id, Post.published_at.is_not(None))
            .order_by(Post.published_at.desc())
            .limit(1)
        )
        found = (await session.execute(stmt)).first()
        if found is not None:
            out[account_id] = LastPost(found[0], found[1], found[2] or "", bool(found[3]))
    return out


async def _watchlists(session: AsyncSession, official_id: int) -> list[str]:
    stmt = (
        select(Watchlist.name)
        .join(WatchlistMember, WatchlistMember.watchlist_id == Watchlist.id)
        .where(WatchlistMember.official_id == official_id)
        .order_by(Watchlist.name)
    )
    return list((await session.scalars(stmt)).all())
