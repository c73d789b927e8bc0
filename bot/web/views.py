"""The reports' figures in the words of a page's language: what the templates lay out.

Counting is the reports' (``bot.reports``); this module only formats their results, with
the bot's catalogs and number formats, so the page says what ``/report`` says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.commands.report_common import (
    activity_line,
    count_text,
    percent_text,
    period_text,
    platform_name,
    reasons_text,
    scope_name,
    signed_text,
)
from bot.i18n import format_datetime, format_duration, format_multiplier, t
from bot.names import sorted_by_name
from bot.reports.cabinet import CabinetReport, MemberLine
from bot.reports.card import AccountCard
from bot.reports.scope import OfficialRow, period_label
from bot.reports.silence import SilenceReport
from bot.reports.states import reason_group

PERIODS = ("7d", "30d", "90d", "1y")
LEADERS_SHOWN = 10
#: Names listed under each heading (and silent rows) before "and N more": a page about
#: thousands of members stays small.
LISTED = 100


@dataclass(frozen=True, slots=True)
class Person:
    """An official as a link."""

    name: str
    slug: str | None


@dataclass(frozen=True, slots=True)
class Leader:
    """One row of a leaders table."""

    person: Person
    followers: str
    growth: str
    percent: str
    partial: bool


@dataclass(slots=True)
class ReportView:
    """The report page's words and rows."""

    title: str
    presence: str
    activity: str | None
    leaders: list[Leader]
    growth_leaders: list[Leader]
    silent: list[tuple[Person, str, str, str]]
    silent_title: str
    silent_more: str | None = None
    #: (heading, the first people, "and N more" or None)
    lists: list[tuple[str, list[Person], str | None]] = field(default_factory=list)
    methods: str = ""
    note_partial: bool = False


def when(moment: datetime | None, loc: str, tz: str) -> str:
    """A moment in the page's language and zone, or a dash."""
    return "—" if moment is None else format_datetime(moment, loc, tz=tz)


def person(official: OfficialRow, slugs: Mapping[int, str], loc: str) -> Person:
    """The official's name in ``loc`` and the slug of their page."""
    return Person(official.display(loc), slugs.get(official.id))


def _leader(line: MemberLine, slugs: Mapping[int, str], loc: str) -> Leader:
    return Leader(
        person(line.official, slugs, loc),
        count_text(loc, line.followers),
        signed_text(loc, line.growth),
        percent_text(loc, line.growth_percent),
        line.partial,
    )


def growth_leaders(report: CabinetReport, count: int = LEADERS_SHOWN) -> list[MemberLine]:
    """The report's members with the largest growth over its period (ties by name)."""
    known = [line for line in report.lines if line.growth is not None]
    known.sort(key=lambda line: (-(line.growth or 0), line.official.name))
    return known[:count]


def activity(loc: str, report: CabinetReport) -> str | None:
    """The "K of the M members posted" sentence, as ``/report`` says it."""
    return activity_line(loc, report) if report.n else None


def report_view(
    report: CabinetReport,
    silence: SilenceReport,
    slugs: Mapping[int, str],
    *,
    loc: str,
    tz: str,
) -> ReportView:
    """Everything the report page and its embed say."""
    platform = platform_name(loc, report.platform)
    key = "reports.report.presence" if report.platform else "reports.report.presence_any"
    leaders = report.leaders(LEADERS_SHOWN)
    view = ReportView(
        title=t(
            loc,
            "reports.report.title",
            scope=scope_name(loc, report.watchlist_title or report.watchlist),
            platform=platform,
            period=period_text(loc, report.period),
        ),
        presence=t(
            loc, key, n=count_text(loc, report.n), m=count_text(loc, report.m), platform=platform
        ),
        activity=activity(loc, report),
        leaders=[_leader(line, slugs, loc) for line in leaders],
        growth_leaders=[_leader(line, slugs, loc) for line in growth_leaders(report)],
        silent=_silent_rows(silence, slugs, loc, tz),
        silent_title=t(
            loc, "web.silent", period=format_duration(timedelta(days=silence.days), loc)
        ),
        note_partial=any(line.partial for line in leaders),
        silent_more=_more(loc, len(silence.silent)),
    )
    absent = "web.list.absent" if report.platform else "web.list.no_accounts"
    for list_key, members in (
        ("web.list.inactive", report.inactive),
        ("web.list.unknown", report.unknown),
        ("web.list.never", report.never_polled),
        (absent, report.absent),
    ):
        if members:
            heading = t(
                loc,
                list_key,
                count=count_text(loc, len(members)),
                platform=platform,
                reasons=reasons_text(loc, report.reasons),
            )
            view.lists.append((heading, _people(members, slugs, loc), _more(loc, len(members))))
    sources = ", ".join(platform_name(loc, p) for p in report.sources) or "—"
    view.methods = t(
        loc, "reports.report.methods", when=when(report.measured_at, loc, tz), sources=sources
    )
    if report.unknown_accounts:
        view.methods += " " + t(
            loc,
            "reports.unknown_sources",
            count=count_text(loc, report.unknown_accounts),
            reasons=reasons_text(loc, report.failing_reasons),
        )
    return view


def _people(members: Sequence[OfficialRow], slugs: Mapping[int, str], loc: str) -> list[Person]:
    return [person(o, slugs, loc) for o in sorted_by_name(members, loc)[:LISTED]]


def _more(loc: str, count: int) -> str | None:
    rest = count - LISTED
    return t(loc, "reports.and_more", count=count_text(loc, rest)) if rest > 0 else None


def _silent_rows(
    silence: SilenceReport, slugs: Mapping[int, str], loc: str, tz: str
) -> list[tuple[Person, str, str, str]]:
    rows = []
    for item in silence.silent[:LISTED]:
        last = (
            when(item.last_post_at, loc, tz)
            if item.last_post_at
            else t(loc, "reports.silent.never")
        )
        ratio = item.times_usual
        rows.append(
            (
                person(item.official, slugs, loc),
                format_duration(item.silent_for, loc),
                last,
                "—" if ratio is None else format_multiplier(ratio, loc),
            )
        )
    return rows


def period_links(current: timedelta) -> list[tuple[str, bool]]:
    """The period choices and which one is shown."""
    label = period_label(current)
    return [(p, p == label) for p in PERIODS]


def account_state(card: AccountCard, loc: str, tz: str) -> str:
    """How an account was read, in words (never a raw reason code)."""
    account = card.account
    reason = t(loc, f"states.reason.{reason_group(account.reason)}")
    if not account.exists:
        return t(loc, "web.state_gone", reason=reason)
    if account.status is None:
        return t(loc, "web.state_never")
    if account.healthy:
        return t(loc, "web.state_ok", when=when(account.last_ok_at, loc, tz))
    if account.last_ok_at is None:
        return t(loc, "web.state_failing_never", reason=reason)
    return t(loc, "web.state_failing", reason=reason, when=when(account.last_ok_at, loc, tz))


def account_row(card: AccountCard, loc: str, tz: str) -> dict[str, Any]:
    """One account's line on the official's page."""
    account = card.account
    return {
        "platform": platform_name(loc, account.platform),
        "handle": account.handle,
        "url": account.url,
        "followers": count_text(loc, account.known_followers),
        "growth_7d": signed_text(loc, card.growth(card.growth_7d)),
        "growth_30d": signed_text(loc, card.growth(card.growth_30d)),
        "posts_30d": count_text(loc, card.posts_30d),
        "state": account_state(card, loc, tz),
    }


def presence(loc: str, report: CabinetReport) -> str:
    """The "N of M members have an account" sentence."""
    key = "reports.report.presence" if report.platform else "reports.report.presence_any"
    n, m = count_text(loc, report.n), count_text(loc, report.m)
    return t(loc, key, n=n, m=m, platform=platform_name(loc, report.platform))
