"""Report commands: /top (leaderboards), /report (the cabinet report), /silent.

Each handler parses its words (any order), asks a query function of ``bot.reports`` for
plain dataclasses, and lays the answer out as a platform-neutral :class:`Reply`. Outside
text (names, handles, post excerpts) only ever goes into plain spans and table cells.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.commands.context import CommandContext, CommandSpec
from bot.commands.report_common import (
    count_text,
    moment_text,
    names_line,
    percent_text,
    period_text,
    platform_name,
    report_now,
    scope_name,
    signed_text,
    unknown_watchlist,
    watchlist_from,
)
from bot.i18n import format_duration, format_number, t
from bot.reply import Attachment, Reply, ReplyBuilder, Span, Table
from bot.reports import charts
from bot.reports.cabinet import CabinetReport, cabinet_report, report_csv, share_key
from bot.reports.leaderboard import Entry, Leaderboard, top
from bot.reports.scope import UnknownWatchlist, parse_words, period_label
from bot.reports.silence import silent_officials

DEFAULT_TOP_LIMIT = 10


# --- /top ------------------------------------------------------------------------------


async def cmd_top(ctx: CommandContext) -> Reply:
    """Leaderboard by followers, growth or posts; per platform and watchlist."""
    words = parse_words(ctx.args)
    metric = words.metric or "followers"
    period = words.period or timedelta(days=7)
    now = report_now(ctx)
    async with ctx.db.sessions() as session:
        try:
            watchlist = await watchlist_from(session, words)
        except UnknownWatchlist as exc:
            return unknown_watchlist(ctx, exc)
        # A bare number is how many to show: "/top 20".
        limit = words.number or DEFAULT_TOP_LIMIT
        board = await top(
            session,
            metric=metric,
            platform=words.platform,
            period=period,
            watchlist=watchlist,
            limit=limit,
            now=now,
        )
    if board.empty:
        return Reply.text(t(ctx.locale, "reports.no_data"))
    reply = _top_reply(ctx, board)
    if "chart" in words.flags:
        png = await charts.in_thread(
            charts.render_bars_png,
            [e.official.display(ctx.locale) for e in board.entries],
            [e.value for e in board.entries],
            title=_top_title(ctx.locale, board),
            locale=ctx.locale,
            percent=metric == "percent",
            signed=metric in ("growth", "percent"),
        )
        attachment = Attachment(
            png, f"top-{metric}.png", "image/png", _top_title(ctx.locale, board)
        )
        return Reply(blocks=reply.blocks, attachment=attachment, summary=reply.summary)
    return reply


def _top_title(locale: str, board: Leaderboard) -> str:
    return t(
        locale,
        f"reports.top.title_{board.metric}",
        scope=scope_name(locale, board.watchlist),
        platform=platform_name(locale, board.platform),
        period=period_text(locale, board.period),
    )


def _top_row(locale: str, board: Leaderboard, entry: Entry) -> tuple[str, ...]:
    mark = ("*" if entry.partial else "") + ("~" if entry.stale else "")
    name = entry.official.display(locale) + (f" {mark}" if mark else "")
    rank = str(entry.rank)
    if board.metric in ("growth", "percent"):
        return (
            rank,
            name,
            signed_text(locale, entry.growth),
            percent_text(locale, entry.growth_percent),
            count_text(locale, entry.followers),
        )
    if board.metric == "posts":
        return (rank, name, count_text(locale, entry.posts))
    return (rank, name, count_text(locale, entry.followers))


def _top_reply(ctx: CommandContext, board: Leaderboard) -> Reply:
    loc = ctx.locale
    header: tuple[str, ...]
    if board.metric in ("growth", "percent"):
        header = (
            "#",
            t(loc, "reports.col.official"),
            t(loc, "reports.col.growth"),
            t(loc, "reports.col.percent"),
            t(loc, "reports.col.followers"),
        )
    elif board.metric == "posts":
        header = ("#", t(loc, "reports.col.official"), t(loc, "reports.col.posts"))
    else:
        header = ("#", t(loc, "reports.col.official"), t(loc, "reports.col.followers"))
    rows = tuple(_top_row(loc, board, e) for e in board.entries)
    builder = ReplyBuilder().line(Span(_top_title(loc, board), bold=True))
    builder.table(Table(header=header, rows=rows, align=("r", "l", *("r" * (len(header) - 2)))))
    builder.paragraph()
    if board.ranked > len(board.entries):
        builder.line(t(loc, "reports.top.shown", shown=len(board.entries), total=board.ranked))
    if any(e.partial for e in board.entries):
        builder.line(t(loc, "reports.top.note_partial"))
    if any(e.stale for e in board.entries):
        builder.line(t(loc, "reports.top.note_stale"))
    if board.missing:
        names = names_line(loc, board.missing, total=board.missing_count)
        builder.line(t(loc, "reports.top.missing", names=names))
    builder.line(Span(_methods(ctx, board.measured_at, board.unknown_accounts), italic=True))
    return builder.build(summary=_top_title(loc, board))


def _methods(ctx: CommandContext, measured: datetime, unknown: int) -> str:
    text = t(ctx.locale, "reports.measured", when=moment_text(ctx, measured))
    if unknown:
        text += " " + t(
            ctx.locale, "reports.unknown_sources", count=count_text(ctx.locale, unknown)
        )
    return text


# --- /report ---------------------------------------------------------------------------


async def cmd_report(ctx: CommandContext) -> Reply:
    """The cabinet report for a watchlist and platform; ``csv`` returns it as a file."""
    words = parse_words(ctx.args)
    period = words.period or timedelta(days=min(words.number or 7, 3660))
    async with ctx.db.sessions() as session:
        try:
            watchlist = await watchlist_from(session, words)
        except UnknownWatchlist as exc:
            return unknown_watchlist(ctx, exc)
        platform = words.platform.value if words.platform else None
        report = await cabinet_report(
            session, watchlist=watchlist, platform=platform, period=period, now=report_now(ctx)
        )
    if not report.lines or not report.has_data:
        return Reply.text(t(ctx.locale, "reports.no_data"))
    reply = _report_reply(ctx, report)
    if "csv" in words.flags:
        name = f"report-{report.watchlist or 'all'}-{platform or 'all'}-{period_label(period)}.csv"
        data = report_csv(report, locale=ctx.locale)
        attachment = Attachment(data, name, "text/csv", reply.summary)
        return Reply(blocks=reply.blocks, attachment=attachment, summary=reply.summary)
    return reply


def report_title(locale: str, report: CabinetReport) -> str:
    """The report's heading: scope, platform and period."""
    return t(
        locale,
        "reports.report.title",
        scope=scope_name(locale, report.watchlist_title or report.watchlist),
        platform=platform_name(locale, report.platform),
        period=period_text(locale, report.period),
    )


def _report_reply(ctx: CommandContext, report: CabinetReport) -> Reply:
    loc = ctx.locale
    builder = ReplyBuilder().line(Span(report_title(loc, report), bold=True))
    presence_key = "reports.report.presence" if report.platform else "reports.report.presence_any"
    builder.line(
        t(
            loc,
            presence_key,
            n=count_text(loc, report.n),
            m=count_text(loc, report.m),
            platform=platform_name(loc, report.platform),
        )
    )
    if report.n:
        builder.line(
            # The share is of all members, as the newspaper counted ("fewer than a third").
            t(
                loc,
                "reports.report.activity",
                k=count_text(loc, report.k),
                m=count_text(loc, report.m),
                period=period_text(loc, report.period),
                share=t(loc, f"reports.{share_key(report.k, report.m)}"),
            )
        )
    leaders = report.leaders()
    if leaders:
        builder.paragraph().line(Span(t(loc, "reports.report.leaders"), bold=True))
        rows = tuple(
            (
                line.official.display(loc) + (" *" if line.partial else ""),
                count_text(loc, line.followers),
                signed_text(loc, line.growth),
                percent_text(loc, line.growth_percent),
            )
            for line in leaders
        )
        header = (
            t(loc, "reports.col.official"),
            t(loc, "reports.col.followers"),
            t(loc, "reports.col.growth"),
            t(loc, "reports.col.percent"),
        )
        builder.table(Table(header=header, rows=rows, align=("l", "r", "r", "r")))
    builder.paragraph()
    for key, members in (
        ("reports.report.inactive", report.inactive),
        ("reports.report.unknown", report.unknown),
        ("reports.report.absent", report.absent),
    ):
        if members:
            builder.line(
                t(
                    loc,
                    key,
                    count=count_text(loc, len(members)),
                    names=names_line(loc, members),
                    platform=platform_name(loc, report.platform),
                )
            )
    if any(line.partial for line in leaders):
        builder.line(t(loc, "reports.top.note_partial"))
    sources = ", ".join(platform_name(loc, p) for p in report.sources) or "—"
    methods = t(
        loc, "reports.report.methods", when=moment_text(ctx, report.measured_at), sources=sources
    )
    if report.unknown_accounts:
        methods += " " + t(
            loc, "reports.unknown_sources", count=count_text(loc, report.unknown_accounts)
        )
    builder.line(Span(methods, italic=True))
    return builder.build(summary=report_title(loc, report))


# --- /silent -----------------------------------------------------------------------------


async def cmd_silent(ctx: CommandContext) -> Reply:
    """Officials without a post for N days (default 7), longest silence first."""
    words = parse_words(ctx.args)
    days = words.number or (max(1, words.period.days) if words.period else 7)
    async with ctx.db.sessions() as session:
        try:
            watchlist = await watchlist_from(session, words)
        except UnknownWatchlist as exc:
            return unknown_watchlist(ctx, exc)
        report = await silent_officials(
            session, days=days, watchlist=watchlist, now=report_now(ctx)
        )
    loc = ctx.locale
    if report.with_accounts == 0:
        return Reply.text(t(loc, "reports.no_data"))
    span = format_duration(timedelta(days=report.days), loc)
    title = t(loc, "reports.silent.title", period=span, scope=scope_name(loc, report.watchlist))
    builder = ReplyBuilder().line(Span(title, bold=True))
    if not report.silent:
        builder.line(t(loc, "reports.silent.none", period=span))
    else:
        rows = []
        for item in report.silent:
            last = (
                moment_text(ctx, item.last_post_at)
                if item.last_post_at
                else t(loc, "reports.silent.never")
            )
            usual = format_duration(item.usual_gap, loc) if item.usual_gap else "—"
            ratio = item.times_usual
            times = "—" if ratio is None else "×" + format_number(round(ratio, 1), loc)
            rows.append(
                (
                    item.official.display(loc),
                    format_duration(item.silent_for, loc),
                    last,
                    usual,
                    times,
                )
            )
        header = (
            t(loc, "reports.col.official"),
            t(loc, "reports.col.silent_for"),
            t(loc, "reports.col.last_post"),
            t(loc, "reports.col.usual_gap"),
            t(loc, "reports.col.vs_usual"),
        )
        builder.table(Table(header=header, rows=tuple(rows), align=("l", "r", "l", "r", "r")))
        builder.paragraph()
    if report.unknown:
        builder.line(t(loc, "reports.silent.unknown", names=names_line(loc, report.unknown)))
    builder.line(
        Span(
            t(loc, "reports.silent.methods", when=moment_text(ctx, report.measured_at)), italic=True
        )
    )
    return builder.build(summary=title)


COMMANDS = (
    CommandSpec("top", cmd_top),
    CommandSpec("silent", cmd_silent),
    CommandSpec("report", cmd_report),
)
