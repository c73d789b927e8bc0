"""Report commands: /top (leaderboards), /report (the cabinet report), /silent.

Each handler parses its words (any order), asks a query function of ``bot.reports`` for
plain dataclasses, and lays the answer out as a platform-neutral :class:`Reply`. Outside
text (names, handles, post excerpts) only ever goes into plain spans and table cells.
Officials whose accounts could not be read, who have no account there, or who were not
polled yet are named apart (with the reasons in words), never counted as quiet or active.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from bot.commands.context import CommandContext, CommandSpec
from bot.commands.languages import mix_line
from bot.commands.report_common import (
    activity_line,
    chat_zone,
    count_text,
    moment_text,
    names_line,
    percent_text,
    period_text,
    platform_name,
    reasons_text,
    report_now,
    scope_name,
    signed_text,
    unknown_watchlist,
    watchlist_from,
)
from bot.i18n import format_duration, format_multiplier, t
from bot.reply import Attachment, Reply, ReplyBuilder, Span, Table
from bot.reports import charts
from bot.reports.cabinet import CabinetReport, cabinet_report, report_csv
from bot.reports.leaderboard import MISSING_KINDS, NO_VALUE, Entry, Leaderboard, top
from bot.reports.movement import Move, rank_moves
from bot.reports.movement_text import move_note, move_text
from bot.reports.scope import UnknownWatchlist, parse_words, period_label
from bot.reports.silence import SilenceReport, silent_officials
from bot.reports.states import ABSENT

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
        moves = await rank_moves(session, board)
    if board.members == 0:
        return Reply.text(t(ctx.locale, "reports.no_data"))
    reply = _top_reply(ctx, board, moves)
    if "chart" in words.flags and not board.empty:
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


def _top_row(
    locale: str, board: Leaderboard, entry: Entry, moves: dict[int, Move]
) -> tuple[str, ...]:
    mark = ("*" if entry.partial else "") + ("~" if entry.stale else "")
    name = entry.official.display(locale) + (f" {mark}" if mark else "")
    move = moves.get(entry.official.id)
    rank = str(entry.rank)
    moved = move_text(locale, move) if move else "?"
    if board.metric in ("growth", "percent"):
        return (
            rank,
            name,
            signed_text(locale, entry.growth),
            percent_text(locale, entry.growth_percent),
            count_text(locale, entry.followers),
            moved,
        )
    if board.metric == "posts":
        return (rank, name, count_text(locale, entry.posts), moved)
    return (rank, name, count_text(locale, entry.followers), moved)


def _top_reply(ctx: CommandContext, board: Leaderboard, moves: dict[int, Move]) -> Reply:
    loc = ctx.locale
    header: tuple[str, ...]
    move = t(loc, "ranks.col.move")
    if board.metric in ("growth", "percent"):
        header = (
            "#",
            t(loc, "reports.col.official"),
            t(loc, "reports.col.growth"),
            t(loc, "reports.col.percent"),
            t(loc, "reports.col.followers"),
            move,
        )
    elif board.metric == "posts":
        header = ("#", t(loc, "reports.col.official"), t(loc, "reports.col.posts"), move)
    else:
        header = ("#", t(loc, "reports.col.official"), t(loc, "reports.col.followers"), move)
    builder = ReplyBuilder().line(Span(_top_title(loc, board), bold=True))
    if board.entries:
        rows = tuple(_top_row(loc, board, e, moves) for e in board.entries)
        align = ("r", "l", *("r" * (len(header) - 2)))
        builder.table(Table(header=header, rows=rows, align=align))
        builder.paragraph()
        builder.line(move_note(loc, board, moves, zone=chat_zone(ctx)))
    if board.ranked > len(board.entries):
        builder.line(t(loc, "reports.top.shown", shown=len(board.entries), total=board.ranked))
    if any(e.partial for e in board.entries):
        builder.line(t(loc, "reports.top.note_partial"))
    if any(e.stale for e in board.entries):
        builder.line(t(loc, "reports.top.note_stale"))
    for line in _missing_lines(loc, board):
        builder.line(line)
    methods = _methods(ctx, board.measured_at, board.unknown_accounts, board.reasons)
    if board.watchlist:
        methods += " " + tenure_note(loc, board.not_in_office)
    builder.line(Span(methods, italic=True))
    return builder.build(summary=_top_title(loc, board))


def tenure_note(loc: str, not_in_office: int) -> str:
    """The methods line's words on who counts as a member (those in office)."""
    text = t(loc, "tenure.methods")
    if not_in_office:
        text += " " + t(loc, "tenure.left_out", count=count_text(loc, not_in_office))
    return text


def _missing_lines(loc: str, board: Leaderboard) -> list[str]:
    # Nobody in scope with an account on the platform: one sentence, not everyone's name.
    if board.platform and board.empty and set(board.missing_by) == {ABSENT}:
        key = "states.top.nobody_has_in" if board.watchlist else "states.top.nobody_has"
        platform = platform_name(loc, board.platform)
        return [t(loc, key, platform=platform, scope=scope_name(loc, board.watchlist))]
    lines = []
    for kind in MISSING_KINDS:
        officials = board.missing_by.get(kind)
        if not officials:
            continue
        total = board.missing_counts[kind]
        lines.append(
            t(
                loc,
                _missing_key(board, kind),
                count=count_text(loc, total),
                names=names_line(loc, officials, total=total),
                platform=platform_name(loc, board.platform),
            )
        )
    return lines


def _missing_key(board: Leaderboard, kind: str) -> str:
    if kind == ABSENT:
        return "states.top.absent" if board.platform else "states.top.absent_any"
    if kind == NO_VALUE:
        metric = "growth" if board.metric == "percent" else board.metric
        return f"states.top.no_value_{metric}"
    return f"states.top.{kind}"


def _methods(ctx: CommandContext, measured: datetime, unknown: int, reasons: Counter[str]) -> str:
    text = t(ctx.locale, "reports.measured", when=moment_text(ctx, measured))
    if unknown:
        text += " " + _unknown_sources(ctx.locale, unknown, reasons)
    return text


def _unknown_sources(loc: str, count: int, reasons: Counter[str]) -> str:
    return t(
        loc,
        "reports.unknown_sources",
        count=count_text(loc, count),
        reasons=reasons_text(loc, reasons),
    )


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
    if not report.lines:
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
        builder.line(activity_line(loc, report))
    mix = report.language_mix
    languages = mix_line(loc, "lang.report", mix)
    if languages:
        builder.line(languages)
        if mix.count("mixed") or mix.count("unknown"):
            builder.line(Span(t(loc, "lang.note"), italic=True))
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
    absent = "reports.report.absent" if report.platform else "states.report.no_accounts"
    for key, members in (
        ("reports.report.inactive", report.inactive),
        ("reports.report.unknown", report.unknown),
        ("states.report.never", report.never_polled),
        (absent, report.absent),
    ):
        if members:
            builder.line(
                t(
                    loc,
                    key,
                    count=count_text(loc, len(members)),
                    names=names_line(loc, members),
                    platform=platform_name(loc, report.platform),
                    reasons=reasons_text(loc, report.reasons),
                )
            )
    if any(line.partial for line in leaders):
        builder.line(t(loc, "reports.top.note_partial"))
    sources = ", ".join(platform_name(loc, p) for p in report.sources) or "—"
    methods = t(
        loc, "reports.report.methods", when=moment_text(ctx, report.measured_at), sources=sources
    )
    if report.unknown_accounts:
        methods += " " + _unknown_sources(loc, report.unknown_accounts, report.failing_reasons)
    if report.watchlist:
        methods += " " + tenure_note(loc, report.not_in_office)
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
    if report.members == 0:
        return Reply.text(t(loc, "reports.no_data"))
    span = format_duration(timedelta(days=report.days), loc)
    title = t(loc, "reports.silent.title", period=span, scope=scope_name(loc, report.watchlist))
    builder = ReplyBuilder().line(Span(title, bold=True))
    if report.silent:
        rows = []
        for item in report.silent:
            last = (
                moment_text(ctx, item.last_post_at)
                if item.last_post_at
                else t(loc, "reports.silent.never")
            )
            usual = format_duration(item.usual_gap, loc) if item.usual_gap else "—"
            ratio = item.times_usual
            times = "—" if ratio is None else format_multiplier(ratio, loc)
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
    for line in _silent_apart(loc, report, span):
        builder.line(line)
    builder.line(
        Span(
            t(loc, "reports.silent.methods", when=moment_text(ctx, report.measured_at)), italic=True
        )
    )
    return builder.build(summary=title)


def _silent_apart(loc: str, report: SilenceReport, span: str) -> list[str]:
    # Who posted is only counted; who could not be checked is named, with the reason.
    lines = []
    everyone = report.posted == report.with_accounts and not report.no_accounts
    if everyone and report.posted:
        lines.append(t(loc, "reports.silent.none", period=span))
    elif report.posted:
        total = count_text(loc, report.with_accounts)
        count = count_text(loc, report.posted)
        lines.append(t(loc, "states.silent.posted", count=count, total=total, period=span))
    for key, officials in (
        ("reports.silent.unknown", report.unknown),
        ("states.silent.never", report.never_polled),
        ("states.silent.no_accounts", report.no_accounts),
        ("visibility.silent.hidden", report.hidden),
    ):
        if officials:
            lines.append(
                t(
                    loc,
                    key,
                    count=count_text(loc, len(officials)),
                    names=names_line(loc, officials),
                    reasons=reasons_text(loc, report.reasons),
                )
            )
    return lines


COMMANDS = (
    CommandSpec("top", cmd_top),
    CommandSpec("silent", cmd_silent),
    CommandSpec("report", cmd_report),
)
