"""Who has gone quiet (``/silent``), longest silences first, against their usual rhythm.

Silence is measured from successful fetches only: an official counts as silent when none
of their accounts shows a post within the period and every account was read
successfully after the period began. Everyone else who shows no post is put apart, never
called silent nor active: accounts that could not be read (with the reasons), accounts
not polled yet, accounts that hide their posts (a Telegram channel with its web preview
off, a private account: ``visibility_changed``), and officials with no account to check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.history import median_gap, post_times
from bot.reports.scope import AccountRow, OfficialRow, core_rows, load_scope, resolve_watchlist
from bot.reports.states import ABSENT, NEVER, UNREADABLE, failure_counts, official_state
from bot.store.models import Account, AccountState, Official, WatchlistMember

DEFAULT_DAYS = 7
MAX_DAYS = 3650
#: How far back posts are read to learn an official's usual gap: the median gap between
#: each account's latest ``history.RHYTHM_POSTS`` posts within this lookback.
RHYTHM_LOOKBACK = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class SilentOfficial:
    """An official with no post within the period."""

    official: OfficialRow
    last_post_at: datetime | None
    #: Time since the last post (or since first seen, when no post was ever seen).
    silent_for: timedelta
    usual_gap: timedelta | None
    platforms: tuple[str, ...]

    @property
    def times_usual(self) -> float | None:
        """How many usual gaps the silence lasts."""
        if self.usual_gap is None or self.usual_gap.total_seconds() <= 0:
            return None
        return self.silent_for / self.usual_gap


@dataclass(slots=True)
class SilenceReport:
    """Silent officials, and those whose silence could not be measured."""

    days: int
    watchlist: str | None
    measured_at: datetime
    members: int
    silent: list[SilentOfficial] = field(default_factory=list)
    #: Officials with no post seen whose accounts could not all be read in the period.
    unknown: list[OfficialRow] = field(default_factory=list)
    #: Officials with no post seen and an account not polled yet (none failing).
    never_polled: list[OfficialRow] = field(default_factory=list)
    #: Members with no live account to check.
    no_accounts: list[OfficialRow] = field(default_factory=list)
    #: Officials with no post seen whose account hides its posts (preview off, private).
    hidden: list[OfficialRow] = field(default_factory=list)
    #: The unreadable accounts of ``unknown``, by reason group.
    reasons: Counter[str] = field(default_factory=Counter)
    #: Officials with at least one account on the roster.
    with_accounts: int = 0

    @property
    def posted(self) -> int:
        """Officials with a post seen within the period (the rest are listed)."""
        apart = len(self.silent) + len(self.unknown) + len(self.never_polled) + len(self.hidden)
        return max(0, self.with_accounts - apart)


async def silent_officials(
    session: AsyncSession,
    *,
    days: int = DEFAULT_DAYS,
    watchlist: str | None = None,
    now: datetime | None = None,
) -> SilenceReport:
    """Officials with no post in ``days`` days, longest silence first."""
    now = now or datetime.now(UTC)
    days = max(1, min(days, MAX_DAYS))
    since = now - timedelta(days=days)
    wl = await resolve_watchlist(session, watchlist) if watchlist else None
    members = _members(wl.id if wl else None)
    # Only members with no post since ``since`` on any live account (or with no live
    # account) leave the database with their accounts; everyone else is counted there.
    scope = await load_scope(session, official_ids=_candidates(members, since))
    totals = await core_rows(session, _totals(members))
    report = SilenceReport(
        days=days,
        watchlist=wl.name if wl else None,
        measured_at=now,
        members=int(totals[0].members),
        with_accounts=int(totals[0].with_accounts),
    )
    by_official: dict[int, list[AccountRow]] = {}
    for account in scope.accounts:
        if account.exists:
            by_official.setdefault(account.official_id, []).append(account)
    quiet: list[tuple[OfficialRow, list[AccountRow]]] = []
    apart = {UNREADABLE: report.unknown, NEVER: report.never_polled, ABSENT: report.no_accounts}
    for official in scope.officials.values():
        accounts = by_official.get(official.id, [])
        last_post = max((a.last_post_at for a in accounts if a.last_post_at), default=None)
        if last_post is not None and last_post >= since:
            continue
        if any(a.posts_hidden for a in accounts):
            report.hidden.append(official)  # out of sight is not silent
            continue
        state = official_state(accounts, since)
        if state not in apart:
            quiet.append((official, accounts))
            continue
        apart[state].append(official)
        if state == UNREADABLE:
            report.reasons.update(failure_counts(accounts, since))
    ids = [a.id for _, accounts in quiet for a in accounts]
    times = await post_times(session, ids, since=now - RHYTHM_LOOKBACK)
    for official, accounts in quiet:
        report.silent.append(_silent(official, accounts, times, now))
    report.silent.sort(key=lambda s: (-s.silent_for, s.official.name))
    return report


def _members(watchlist_id: int | None) -> Select[Any]:
    stmt = select(Official.id)
    if watchlist_id is not None:
        stmt = stmt.where(
            Official.id.in_(
                select(WatchlistMember.official_id).where(
                    WatchlistMember.watchlist_id == watchlist_id
                )
            )
        )
    return stmt


def _live(members: Select[Any]) -> Select[Any]:
    # The accounts AccountRow.exists accepts: on the roster and not proven gone.
    return (
        select(Account.official_id)
        .outerjoin(AccountState, AccountState.account_id == Account.id)
        .where(
            Account.official_id.in_(members),
            Account.enabled.is_(True),
            func.coalesce(AccountState.missing, False).is_(False),
            func.coalesce(AccountState.status, "") != "absent",
        )
    )


def _candidates(members: Select[Any], since: datetime) -> Select[Any]:
    # Members with no live account showing a post since ``since`` (none at all included).
    recent = _live(members).where(AccountState.last_post_at >= since)
    return members.where(Official.id.not_in(recent))


def _totals(members: Select[Any]) -> Select[Any]:
    counted = select(func.count()).select_from(members.subquery())
    with_accounts = select(func.count(func.distinct(_live(members).subquery().c.official_id)))
    return select(
        counted.scalar_subquery().label("members"),
        with_accounts.scalar_subquery().label("with_accounts"),
    )


def _silent(
    official: OfficialRow,
    accounts: list[AccountRow],
    times: dict[int, list[datetime]],
    now: datetime,
) -> SilentOfficial:
    last_post = max((a.last_post_at for a in accounts if a.last_post_at), default=None)
    first_seen = min((a.first_seen_at for a in accounts if a.first_seen_at), default=now)
    merged = [moment for a in accounts for moment in times.get(a.id, [])]
    return SilentOfficial(
        official=official,
        last_post_at=last_post,
        silent_for=now - (last_post or first_seen),
        usual_gap=median_gap(merged),
        platforms=tuple(sorted({a.platform for a in accounts})),
    )
