"""/anomalies: the follower changes marked unusual in a period, largest first."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.context import CommandContext, CommandSpec
from bot.commands.report_common import (
    moment_text,
    period_text,
    platform_name,
    report_now,
    scope_name,
    unknown_watchlist,
)
from bot.i18n import format_number, t
from bot.names import localized_name
from bot.notify.unusual import ratio_text
from bot.reply import Reply, ReplyBuilder, Span, Table
from bot.reports.scope import UnknownWatchlist, parse_words, resolve_watchlist
from bot.store.anomalies import UnusualJump, unusual_jumps

DEFAULT_PERIOD = timedelta(days=30)
LISTED = 20


async def cmd_anomalies(ctx: CommandContext) -> Reply:
    """Unusual follower jumps of a period (default 30 days), per watchlist and platform."""
    loc = ctx.locale
    words = parse_words(ctx.args)
    period = words.period or (timedelta(days=words.number) if words.number else DEFAULT_PERIOD)
    now = report_now(ctx)
    async with ctx.db.sessions() as session:
        watchlist_id, watchlist = None, None
        if words.rest:
            try:
                found = await resolve_watchlist(session, " ".join(words.rest))
            except UnknownWatchlist as exc:
                return unknown_watchlist(ctx, exc)
            watchlist_id, watchlist = found.id, found.name
        platform = words.platform.value if words.platform else None
        result = await unusual_jumps(
            session,
            since=now - period,
            until=now,
            watchlist_id=watchlist_id,
            platform=platform,
            limit=LISTED,
        )
    params = {
        "scope": scope_name(loc, watchlist),
        "platform": platform_name(loc, platform),
        "period": period_text(loc, period),
    }
    title = t(loc, "anomalies.title", **params)
    builder = ReplyBuilder().line(Span(title, bold=True))
    if not result.jumps:
        builder.line(t(loc, "anomalies.none", **params))
    else:
        columns = ("official", "platform", "change", "ratio", "when")
        header = tuple(t(loc, f"anomalies.col.{c}") for c in columns)
        rows = tuple(_row(ctx, jump) for jump in result.jumps)
        builder.table(Table(header=header, rows=rows, align=("l", "l", "r", "r", "l")))
        builder.paragraph()
        if result.total > len(result.jumps):
            builder.line(t(loc, "anomalies.shown", shown=len(result.jumps), total=result.total))
    rules = ctx.settings.detect
    methods = t(
        loc,
        "anomalies.methods",
        ratio=ratio_text(rules.unusual_ratio, loc),
        days=format_number(rules.unusual_window.days, loc),
        min_days=format_number(rules.unusual_min_days, loc),
        when=moment_text(ctx, now),
    )
    builder.line(Span(methods, italic=True))
    return builder.build(summary=title)


def _row(ctx: CommandContext, jump: UnusualJump) -> tuple[str, ...]:
    loc = ctx.locale
    payload = jump.event.payload or {}
    recent = payload.get("recent_delta")
    delta = recent if isinstance(recent, int) else payload.get("delta")
    ratio = payload.get("ratio")
    return (
        localized_name(jump.official, loc),
        platform_name(loc, jump.account.platform),
        format_number(delta, loc, signed=True) if isinstance(delta, int) else "—",
        "×" + ratio_text(float(ratio), loc) if isinstance(ratio, int | float) else "—",
        moment_text(ctx, jump.event.occurred_at),
    )


COMMANDS = (CommandSpec("anomalies", cmd_anomalies),)
