"""Shared pieces of every report: argument words, periods, and the accounts in scope.

Report commands accept their arguments in any order; :func:`parse_words` sorts the words
into a platform, a metric, a period, flags ("csv", "chart") and the rest (a watchlist or
an official's name). :func:`load_scope` reads, in one query, the officials and accounts a
report covers together with each account's latest state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Select, and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Platform, Visibility
from bot.errors import UserInputError
from bot.names import localized_name
from bot.store.models import Account, AccountState, Official, Watchlist, WatchlistMember
from bot.store.positions import in_office_clause

#: The stored visibilities under which an account's posts cannot be read.
HIDING = frozenset(v.value for v in Visibility if v.hides_posts)

METRICS = ("followers", "growth", "posts")
#: Words that ask for growth in percent rather than in followers.
PERCENT_WORDS = ("percent", "%", "growth%", "pct")
FLAGS = ("csv", "chart")
_PERIOD = re.compile(r"^(\d{1,4})(h|d|w|m|y)$")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
#: Longest period a report may ask for: bounded so a typo cannot request centuries.
MAX_PERIOD = timedelta(days=3660)


async def core_rows(session: AsyncSession, stmt: Executable) -> Sequence[Any]:
    """Run a Core select on the session's connection: plain rows, no ORM bookkeeping.

    Reports read thousands of rows; the ORM result path costs several times the query.
    """
    connection = await session.connection()
    return (await connection.execute(stmt)).all()


class UnknownWatchlist(UserInputError):
    """A watchlist name that does not exist; ``name`` is what was typed."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def parse_period(word: str) -> timedelta | None:
    """``7d`` / ``12h`` / ``2w`` / ``3m`` / ``1y`` as a timedelta, or None when not a period."""
    match = _PERIOD.match(word.strip().lower())
    if match is None:
        return None
    count, unit = int(match.group(1)), match.group(2)
    value = timedelta(hours=count) if unit == "h" else timedelta(days=count * _UNIT_DAYS[unit])
    if value <= timedelta(0) or value > MAX_PERIOD:
        return None
    return value


@dataclass(slots=True)
class Words:
    """Command arguments sorted by kind; ``rest`` keeps the unrecognised words in order."""

    platform: Platform | None = None
    metric: str | None = None
    period: timedelta | None = None
    flags: set[str] = field(default_factory=set)
    rest: list[str] = field(default_factory=list)
    #: A bare number (``/silent 14``): days.
    number: int | None = None


def parse_words(args: Sequence[str]) -> Words:
    """Sort command words (any order) into platform, metric, period, flags and the rest."""
    words = Words()
    platforms = {p.value: p for p in Platform}
    for raw in args:
        word = raw.strip().lower()
        if not word:
            continue
        if word in platforms and words.platform is None:
            words.platform = platforms[word]
        elif word in METRICS and words.metric in (None, "percent"):
            # "growth %" and "% growth" both mean percent growth
            words.metric = "percent" if words.metric == "percent" and word == "growth" else word
        elif word in PERCENT_WORDS:
            words.metric = "percent"
        elif word in FLAGS:
            words.flags.add(word)
        elif word.isdigit() and words.number is None and len(word) <= 4:
            words.number = int(word)
        elif (period := parse_period(word)) is not None and words.period is None:
            words.period = period
        else:
            words.rest.append(raw.strip())
    return words


def period_label(period: timedelta) -> str:
    """A compact label for a period: ``7d``, ``12h``, ``1y``."""
    hours = int(period.total_seconds() // 3600)
    if hours % 24:
        return f"{hours}h"
    days = hours // 24
    if days % 365 == 0:
        return f"{days // 365}y"
    return f"{days}d"


@dataclass(frozen=True, slots=True)
class OfficialRow:
    """An official as reports show it."""

    id: int
    name: str
    name_ru: str | None
    name_kk: str | None
    name_en: str | None

    def display(self, locale: str) -> str:
        """The official's name in ``locale`` when known, else the main name."""
        return localized_name(self, locale)


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One account with its latest state (state fields are None before the first fetch)."""

    id: int
    official_id: int
    platform: str
    handle: str
    url: str | None
    enabled: bool
    status: str | None
    followers: int | None
    followers_exact: bool | None
    last_post_at: datetime | None
    last_ok_at: datetime | None
    first_seen_at: datetime | None
    observed_at: datetime | None
    degraded: bool
    missing: bool
    reason: str | None
    consecutive_failures: int
    #: Who may see the account (bot.domain.Visibility's value); None: no source said.
    visibility: str | None = None

    @property
    def posts_hidden(self) -> bool:
        """The account hides its posts from readers like govwatch (preview off, private)."""
        return self.visibility in HIDING

    @property
    def healthy(self) -> bool:
        """The last fetch read the account (values are current, not inferred)."""
        return self.status == "ok" and not self.degraded

    @property
    def exists(self) -> bool:
        """The account is on the roster and not proven gone."""
        return self.enabled and not self.missing and self.status != "absent"

    @property
    def known_followers(self) -> int | None:
        """Followers as last read, or None when never read or the account is gone."""
        return self.followers if self.exists else None


@dataclass(slots=True)
class Scope:
    """The members and accounts a report covers."""

    watchlist: str | None
    watchlist_title: str | None
    officials: dict[int, OfficialRow]
    accounts: list[AccountRow]
    #: Watchlist members left out because they were not in office during the period.
    not_in_office: int = 0


async def resolve_watchlist(session: AsyncSession, name: str) -> Watchlist:
    """The watchlist named ``name`` (case-insensitive), or :class:`UnknownWatchlist`."""
    stmt = select(Watchlist).where(Watchlist.name == name)
    found = (await session.scalars(stmt)).first()
    if found is None:
        lowered = name.lower()
        for wl in (await session.scalars(select(Watchlist))).all():
            if wl.name.lower() == lowered:
                return wl
        raise UnknownWatchlist(name)
    return found


_ACCOUNT_COLUMNS = (
    Account.id,
    Account.official_id,
    Account.platform,
    Account.handle,
    Account.url,
    Account.enabled,
    AccountState.status,
    AccountState.followers,
    AccountState.followers_exact,
    AccountState.last_post_at,
    AccountState.last_ok_at,
    AccountState.first_seen_at,
    AccountState.observed_at,
    AccountState.degraded,
    AccountState.missing,
    AccountState.reason,
    Account.consecutive_failures,
    AccountState.visibility,
)


async def load_scope(
    session: AsyncSession,
    *,
    watchlist: str | None = None,
    platform: str | None = None,
    official_ids: Sequence[int] | Select[Any] | None = None,
    in_office: tuple[date, date] | None = None,
) -> Scope:
    """Officials (watchlist members, or all; ``official_ids`` narrows them, as a list or a
    select of ids) and their accounts with latest state. With ``in_office`` (first and
    last day), a watchlist's members are those in office on one of those days."""
    wl = await resolve_watchlist(session, watchlist) if watchlist else None
    not_in_office = 0
    off_stmt = select(
        Official.id, Official.name, Official.name_ru, Official.name_kk, Official.name_en
    ).order_by(Official.name, Official.id)
    acc_stmt = (
        select(*_ACCOUNT_COLUMNS)
        .outerjoin(AccountState, AccountState.account_id == Account.id)
        .order_by(Account.official_id, Account.platform, Account.id)
    )
    if wl is not None:
        members = select(WatchlistMember.official_id).where(WatchlistMember.watchlist_id == wl.id)
        if in_office is not None:
            held = in_office_clause(WatchlistMember.official_id, *in_office)
            left_out = select(func.count()).select_from(WatchlistMember)
            left_out = left_out.where(WatchlistMember.watchlist_id == wl.id, not_(held))
            not_in_office = int((await core_rows(session, left_out))[0][0])
            members = members.where(held)
        off_stmt = off_stmt.where(Official.id.in_(members))
        acc_stmt = acc_stmt.where(Account.official_id.in_(members))
    if official_ids is not None:
        wanted = official_ids if isinstance(official_ids, Select) else list(official_ids)
        off_stmt = off_stmt.where(Official.id.in_(wanted))
        acc_stmt = acc_stmt.where(Account.official_id.in_(wanted))
    if platform:
        acc_stmt = acc_stmt.where(and_(Account.platform == platform))
    officials = {row[0]: OfficialRow(*row) for row in await core_rows(session, off_stmt)}
    accounts = [_account_row(row) for row in await core_rows(session, acc_stmt)]
    return Scope(
        watchlist=wl.name if wl else None,
        watchlist_title=wl.title if wl else None,
        officials=officials,
        accounts=accounts,
        not_in_office=not_in_office,
    )


def _account_row(row: Any) -> AccountRow:
    # The state columns are NULL for accounts never fetched (outer join).
    (account_id, official_id, platform, handle, url, enabled, status, followers, exact,
     last_post_at, last_ok_at, first_seen_at, observed_at, degraded, missing, reason,
     failures, visibility) = row  # fmt: skip
    return AccountRow(
        id=account_id,
        official_id=official_id,
        platform=platform,
        handle=handle,
        url=url,
        enabled=bool(enabled),
        status=status,
        followers=followers,
        followers_exact=exact,
        last_post_at=last_post_at,
        last_ok_at=last_ok_at,
        first_seen_at=first_seen_at,
        observed_at=observed_at,
        degraded=bool(degraded),
        missing=bool(missing),
        reason=reason,
        consecutive_failures=failures or 0,
        visibility=visibility,
    )
