"""What the report commands share: the clock, the chat's time zone, names and numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import zone
from bot.commands.context import CommandContext
from bot.i18n import format_datetime, format_duration, format_number, format_percent, t
from bot.names import sorted_by_name
from bot.reply import Reply
from bot.reports.cabinet import CabinetReport, share_key
from bot.reports.scope import OfficialRow, UnknownWatchlist, Words
from bot.store.watchlists import find_watchlist

#: Names listed before "and N more".
NAMES_LISTED = 25


def report_now(ctx: CommandContext) -> datetime:
    """The time reports are "as of" (the injected clock in tests and the demo)."""
    clock = ctx.services.get("clock")
    if callable(clock):
        value = clock()
        if isinstance(value, datetime):
            return value
    return datetime.now(UTC)


def chat_zone(ctx: CommandContext) -> str:
    """The chat's time zone name."""
    return str(zone(ctx.chat.timezone, ctx.settings.i18n.timezone))


def moment_text(ctx: CommandContext, moment: datetime) -> str:
    """``moment`` in the chat's language and time zone."""
    return format_datetime(moment, ctx.locale, tz=chat_zone(ctx))


def period_text(locale: str, period: timedelta) -> str:
    """A period such as "7 days" in ``locale``."""
    return format_duration(period, locale)


def names_line(locale: str, officials: Sequence[OfficialRow], *, total: int | None = None) -> str:
    """The first names of ``officials`` and how many more there are."""
    # ``total`` is how many there are when ``officials`` holds only the first ones.
    shown = [o.display(locale) for o in sorted_by_name(officials, locale)[:NAMES_LISTED]]
    text = ", ".join(shown)
    rest = max(len(officials) if total is None else total, len(officials)) - len(shown)
    if rest > 0:
        text += " " + t(locale, "reports.and_more", count=format_number(rest, locale))
    return text


def platform_name(locale: str, platform: str | None) -> str:
    """A platform's display name (None: all platforms)."""
    if platform is None:
        return t(locale, "reports.all_platforms")
    try:
        return t(locale, f"reports.platform.{platform}")
    except KeyError:
        return platform


def scope_name(locale: str, watchlist: str | None) -> str:
    """The watchlist a report covers, or "all officials"."""
    return watchlist if watchlist else t(locale, "reports.all_officials")


async def watchlist_from(session: AsyncSession, words: Words) -> str | None:
    """The watchlist the leftover words name (UnknownWatchlist when none does)."""
    if not words.rest:
        return None
    name = " ".join(words.rest)
    found = await find_watchlist(session, name)
    if found is None:
        raise UnknownWatchlist(name)
    return found.name


def unknown_watchlist(ctx: CommandContext, exc: UnknownWatchlist) -> Reply:
    """The answer to a watchlist name that names none."""
    return Reply.text(t(ctx.locale, "reports.unknown_watchlist", name=exc.name))


def web_link(url: str | None) -> str | None:
    """``url`` when it is a web link, else None."""
    # Links come from outside (roster, platforms): only web links become clickable.
    return url if url and url.lower().startswith(("https://", "http://")) else None


def signed_text(locale: str, value: int | None) -> str:
    """A signed number, or a dash when unknown."""
    return "—" if value is None else format_number(value, locale, signed=True)


def percent_text(locale: str, value: float | None) -> str:
    """A signed percentage, or a dash when unknown."""
    return "—" if value is None else format_percent(value, locale, signed=True)


def count_text(locale: str, value: int | None) -> str:
    """A count, or a dash when unknown."""
    return "—" if value is None else format_number(value, locale)


def reasons_text(locale: str, counts: Mapping[str, int]) -> str:
    """Why accounts could not be read, in words: "platform server error: 3, ..."."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(
        t(
            locale,
            "states.reason_count",
            reason=t(locale, f"states.reason.{group}"),
            count=format_number(n, locale),
        )
        for group, n in ordered
        if n > 0
    )


def activity_line(loc: str, report: CabinetReport) -> str:
    """The "K of the M members posted" sentence of ``/report`` (and the web report)."""
    # Only members whose accounts were read count as posting or not posting.
    period = period_text(loc, report.period)
    if report.k == 0 and not report.inactive:
        return t(loc, "states.report.activity_unknown", period=period)
    # The share is of all members, as the newspaper counted ("fewer than a third").
    text = t(
        loc,
        "reports.report.activity",
        k=count_text(loc, report.k),
        m=count_text(loc, report.m),
        period=period,
        share=t(loc, f"reports.{share_key(report.k, report.m)}"),
    )
    unchecked = len(report.unknown) + len(report.never_polled)
    if unchecked:
        text += " " + t(loc, "states.report.unchecked", count=count_text(loc, unchecked))
    return text
