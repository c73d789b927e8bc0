"""/digest top: this chat's weekly leaderboard (``/top`` with rank moves, every Monday)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.clock import parse_time
from bot.commands.context import CommandContext
from bot.commands.report_common import chat_zone, platform_name, report_now, scope_name
from bot.i18n import t
from bot.reply import Reply
from bot.reports.scope import UnknownWatchlist, parse_words, resolve_watchlist
from bot.store.leaderboard_digests import (
    leaderboard_plan,
    remove_leaderboard_digest,
    set_leaderboard_digest,
)

#: The words that name the weekly leaderboard after /digest.
WORDS = ("top", "leaderboard")


async def cmd_digest_top(ctx: CommandContext, args: Sequence[str]) -> Reply:
    """Turn the weekly leaderboard on (scope, metric, time), off, or show it."""
    loc = ctx.locale
    lowered = [a.lower() for a in args]
    if "off" in lowered:
        async with ctx.db.sessions() as session, session.begin():
            await remove_leaderboard_digest(session, ctx.chat.id)
        return Reply.text(t(loc, "ranks.digest.off"))
    times = [a for a in args if ":" in a]
    at = parse_time(times[0]) if times else None
    if times and at is None:
        return _usage(ctx)
    words = parse_words([a for a in args if ":" not in a])
    if not args:
        return await _status(ctx)
    async with ctx.db.sessions() as session, session.begin():
        watchlist_id, watchlist = None, None
        if words.rest:
            try:
                found = await resolve_watchlist(session, " ".join(words.rest))
            except UnknownWatchlist:
                return Reply.text(t(loc, "reports.unknown_watchlist", name=" ".join(words.rest)))
            watchlist_id, watchlist = found.id, found.name
        row = await set_leaderboard_digest(
            session,
            ctx.chat.id,
            watchlist_id=watchlist_id,
            platform=words.platform.value if words.platform else None,
            metric=words.metric or "followers",
            at=at.strftime("%H:%M") if at else None,
            now=report_now(ctx),
        )
        return Reply.text(_set_text(ctx, row.digest_time, watchlist, row.platform, row.metric))


def _set_text(
    ctx: CommandContext, at: str, watchlist: str | None, platform: str | None, metric: str
) -> str:
    loc = ctx.locale
    return t(
        loc,
        "ranks.digest.set",
        time=at,
        tz=chat_zone(ctx),
        scope=scope_name(loc, watchlist),
        platform=platform_name(loc, platform),
        metric=t(loc, f"ranks.metric.{metric}"),
    )


async def _status(ctx: CommandContext) -> Reply:
    async with ctx.db.sessions() as session:
        plan = await leaderboard_plan(session, ctx.chat.id)
    if plan is None:
        return Reply.text(t(ctx.locale, "ranks.digest.none"))
    d = plan.digest
    return Reply.text(_set_text(ctx, d.digest_time, plan.watchlist, d.platform, d.metric))


def _usage(ctx: CommandContext) -> Reply:
    prefix = t(ctx.locale, "chat.usage_prefix")
    return Reply.text(f"{prefix} {t(ctx.locale, 'reports.usage.digest')}")
