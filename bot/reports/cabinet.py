"""The cabinet report (``/report``): who is on a platform, who posts, who leads.

For a watchlist (all officials when none is named) and optionally one platform:
M = members; N = members with an account there; K = members with at least one post
within the period. Members with accounts but no post are "inactive" only when every one
of their accounts was read successfully within the period; otherwise they are "unknown"
(an account could not be read) or "never" (an account has not been polled yet).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.history import Baseline, followers_at, post_counts
from bot.reports.languages import GROUPS, LanguageMix, account_mixes, mix_of
from bot.reports.scope import AccountRow, OfficialRow, load_scope
from bot.reports.states import (
    ABSENT,
    NEVER,
    READ,
    UNREADABLE,
    account_state,
    failure_counts,
    official_state,
)
from bot.store.positions import period_days

DEFAULT_PERIOD = timedelta(days=7)
LEADERS = 5


@dataclass(frozen=True, slots=True)
class MemberLine:
    """One member's figures in the report."""

    official: OfficialRow
    #: active | inactive | unknown | never | absent
    state: str
    platforms: tuple[str, ...]
    handles: tuple[str, ...]
    followers: int | None
    growth: int | None
    growth_percent: float | None
    posts: int
    last_post_at: datetime | None
    #: Some follower figure or baseline is missing or only "since first seen".
    partial: bool


@dataclass(slots=True)
class CabinetReport:
    """Counts, leaders and lists of the cabinet report."""

    watchlist: str | None
    watchlist_title: str | None
    platform: str | None
    period: timedelta
    measured_at: datetime
    lines: list[MemberLine] = field(default_factory=list)
    #: Platforms the figures come from.
    sources: tuple[str, ...] = ()
    #: Accounts whose latest fetch failed.
    unknown_accounts: int = 0
    #: The accounts of ``unknown`` members not read within the period, by reason group.
    reasons: Counter[str] = field(default_factory=Counter)
    #: Accounts whose latest fetch failed, by reason group.
    failing_reasons: Counter[str] = field(default_factory=Counter)
    last_read_at: datetime | None = None
    #: Watchlist members not in office during the period (not counted in M, N or K).
    not_in_office: int = 0
    #: Each member's language mix of the period's posts (members without posts: absent).
    languages: dict[int, LanguageMix] = field(default_factory=dict)

    @property
    def language_mix(self) -> LanguageMix:
        """The language mix of all the members' posts in the period."""
        return mix_of(m.counts for m in self.languages.values())

    def _with(self, state: str) -> list[OfficialRow]:
        return [line.official for line in self.lines if line.state == state]

    @property
    def m(self) -> int:
        """Members of the watchlist."""
        return len(self.lines)

    @property
    def n(self) -> int:
        """Members with an account on the platform (any platform when none is named)."""
        return sum(1 for line in self.lines if line.state != "absent")

    @property
    def k(self) -> int:
        """Members with at least one post within the period."""
        return sum(1 for line in self.lines if line.state == "active")

    @property
    def inactive(self) -> list[OfficialRow]:
        """Members read successfully within the period who did not post."""
        return self._with("inactive")

    @property
    def unknown(self) -> list[OfficialRow]:
        """Members with accounts whose activity could not be measured."""
        return self._with("unknown")

    @property
    def never_polled(self) -> list[OfficialRow]:
        """Members with an account not polled yet and no post seen."""
        return self._with("never")

    @property
    def absent(self) -> list[OfficialRow]:
        """Members with no account on the platform."""
        return self._with("absent")

    def leaders(self, count: int = LEADERS) -> list[MemberLine]:
        """Members with the most followers (ties by name), with their growth."""
        known = [line for line in self.lines if line.followers is not None]
        known.sort(key=lambda line: (-(line.followers or 0), line.official.name))
        return known[:count]


def share_key(part: int, whole: int) -> str:
    """A catalog key describing ``part/whole`` in words ("fewer than a third"...)."""
    if whole <= 0:
        return "share.none"
    ratio = Fraction(part, whole)
    for bound, exact_key, under_key in _SHARES:
        if ratio == bound:
            return exact_key
        if ratio < bound:
            return under_key
    return "share.over_two_thirds"


_SHARES = (
    (Fraction(0), "share.none", "share.none"),
    (Fraction(1, 3), "share.third", "share.under_third"),
    (Fraction(1, 2), "share.half", "share.under_half"),
    (Fraction(2, 3), "share.two_thirds", "share.over_half"),
    (Fraction(1), "share.all", "share.over_two_thirds"),
)


async def cabinet_report(
    session: AsyncSession,
    *,
    watchlist: str | None = None,
    platform: str | None = None,
    period: timedelta = DEFAULT_PERIOD,
    now: datetime | None = None,
) -> CabinetReport:
    """Measure the watchlist's presence, activity and reach on ``platform`` (or all)."""
    now = now or datetime.now(UTC)
    since = now - period
    # A watchlist's members are those in office during the period (positions held).
    days = period_days(since, now)
    scope = await load_scope(session, watchlist=watchlist, platform=platform, in_office=days)
    live = [a for a in scope.accounts if a.exists]
    counts = await post_counts(session, [a.id for a in live], since)
    with_followers = [a.id for a in live if a.known_followers is not None]
    baselines = await followers_at(session, with_followers, since, until=now)
    report = CabinetReport(
        watchlist=scope.watchlist,
        watchlist_title=scope.watchlist_title,
        platform=platform,
        period=period,
        measured_at=now,
        sources=tuple(sorted({a.platform for a in live})),
        unknown_accounts=sum(1 for a in live if account_state(a) == UNREADABLE),
        failing_reasons=failure_counts(live),
        last_read_at=max((a.last_ok_at for a in live if a.last_ok_at), default=None),
        not_in_office=scope.not_in_office,
    )
    by_official: dict[int, list[AccountRow]] = {}
    for account in live:
        by_official.setdefault(account.official_id, []).append(account)
    mixes = await account_mixes(session, [a.id for a in live], since, now)
    for official_id, accounts in by_official.items():
        found = [mixes[a.id].counts for a in accounts if a.id in mixes]
        if found and official_id in scope.officials:
            report.languages[official_id] = mix_of(found)
    for official in scope.officials.values():
        accounts = by_official.get(official.id, [])
        line = _line(official, accounts, counts, baselines, since)
        report.lines.append(line)
        if line.state == "unknown":
            report.reasons.update(failure_counts(accounts, since))
    return report


def _line(
    official: OfficialRow,
    accounts: list[AccountRow],
    counts: dict[int, int],
    baselines: dict[int, Baseline],
    since: datetime,
) -> MemberLine:
    posts = sum(counts.get(a.id, 0) for a in accounts)
    last_post = max((a.last_post_at for a in accounts if a.last_post_at), default=None)
    followers = growth = base = 0
    has_followers = has_growth = partial = False
    for account in accounts:
        value = account.known_followers
        baseline = baselines.get(account.id)
        if value is None:
            partial = True
            continue
        followers += value
        has_followers = True
        if baseline is not None:
            growth += value - baseline.followers
            base += baseline.followers
            has_growth = True
            partial |= baseline.late
        else:
            partial = True
    state = _STATES[official_state(accounts, since)]
    if accounts and (posts > 0 or (last_post is not None and last_post >= since)):
        state = "active"
    return MemberLine(
        official=official,
        state=state,
        platforms=tuple(sorted({a.platform for a in accounts})),
        handles=tuple(f"{a.platform}:{a.handle}" for a in accounts),
        followers=followers if has_followers else None,
        growth=growth if has_growth else None,
        growth_percent=growth * 100.0 / base if has_growth and base > 0 else None,
        posts=posts,
        last_post_at=last_post,
        partial=partial,
    )


#: A member's line state from ``states.official_state`` (when no post was seen).
_STATES = {READ: "inactive", UNREADABLE: "unknown", NEVER: "never", ABSENT: "absent"}

CSV_COLUMNS = (
    "official",
    "state",
    "platforms",
    "accounts",
    "followers",
    "growth",
    "growth_percent",
    "posts_in_period",
    "last_post_at",
    "partial",
    *(f"posts_lang_{g}" for g in GROUPS),
)


def report_csv(report: CabinetReport, *, locale: str) -> bytes:
    """The report's member lines as UTF-8 CSV (with BOM, so spreadsheets read Cyrillic)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in report.lines:
        mix = report.languages.get(line.official.id, LanguageMix())
        writer.writerow(
            (
                _safe_cell(line.official.display(locale)),
                line.state,
                " ".join(line.platforms),
                _safe_cell(" ".join(line.handles)),
                "" if line.followers is None else line.followers,
                "" if line.growth is None else line.growth,
                "" if line.growth_percent is None else f"{line.growth_percent:.2f}",
                line.posts,
                line.last_post_at.isoformat() if line.last_post_at else "",
                "yes" if line.partial else "no",
                *(mix.count(g) for g in GROUPS),
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _safe_cell(text: str) -> str:
    # Outside text starting with =, +, - or @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
