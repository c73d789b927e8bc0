"""/same: groups of officials who published near-identical text, newest first.

``/same [period] [watchlist]`` (default 7 days, all officials). Each group shows its
officials with their platforms, times and links, and an excerpt of the text; a
watchlist narrows the list to groups with at least one of its members.
"""

from __future__ import annotations

from datetime import timedelta

from bot.commands.context import CommandContext, CommandSpec
from bot.commands.report_common import (
    chat_zone,
    moment_text,
    period_text,
    report_now,
    scope_name,
    unknown_watchlist,
    watchlist_from,
)
from bot.i18n import format_duration, format_number, format_percent, t
from bot.notify.same import LIST_CHARS, post_lines, quote_lines, title
from bot.reply import Reply, ReplyBuilder, Span
from bot.reports.scope import UnknownWatchlist, parse_words
from bot.store.same_groups import recent_groups

#: Groups shown in one answer.
SHOWN = 10
DEFAULT_PERIOD = timedelta(days=7)


async def cmd_same(ctx: CommandContext) -> Reply:
    """Groups of officials who published the same text in the period, newest first."""
    words = parse_words(ctx.args)
    if words.platform is not None or words.metric or words.number is not None:
        return Reply.text(f"{t(ctx.locale, 'chat.usage_prefix')} {t(ctx.locale, 'same.usage')}")
    period = words.period or DEFAULT_PERIOD
    async with ctx.db.sessions() as session:
        try:
            watchlist = await watchlist_from(session, words)
        except UnknownWatchlist as exc:
            return unknown_watchlist(ctx, exc)
        groups = await recent_groups(session, since=report_now(ctx) - period, watchlist=watchlist)
    loc, tz = ctx.locale, chat_zone(ctx)
    scope, span = scope_name(loc, watchlist), period_text(loc, period)
    if not groups:
        return Reply.text(t(loc, "same.list.none", period=span, scope=scope))
    builder = ReplyBuilder().line(
        Span(t(loc, "same.list.title", scope=scope, period=span), bold=True)
    )
    for group in groups[:SHOWN]:
        builder.paragraph()
        builder.line(
            Span(title(group.payload, loc), bold=True), f" · {moment_text(ctx, group.occurred_at)}"
        )
        for line in post_lines(group.payload, loc, tz):
            builder.line(*line)
        for line in quote_lines(group.payload.get("text"), LIST_CHARS):
            builder.line(*line)
    if len(groups) > SHOWN:
        builder.paragraph().line(
            t(loc, "same.list.more", count=format_number(len(groups) - SHOWN, loc))
        )
    d = ctx.settings.detect
    methods = t(
        loc,
        "same.list.methods",
        officials=format_number(d.same_text_officials, loc),
        share=format_percent(d.same_text_similarity * 100, loc),
        window=format_duration(d.same_text_window, loc),
        words=format_number(d.same_text_min_words, loc),
    )
    builder.paragraph().line(Span(methods, italic=True))
    return builder.build()


COMMANDS = (CommandSpec("same", cmd_same),)
