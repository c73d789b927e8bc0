"""/digest: this chat's daily or weekly summary, at a time of the chat's choosing."""

from __future__ import annotations

from bot.clock import parse_time
from bot.commands.context import CommandContext, CommandSpec
from bot.commands.leaderboard_digest import WORDS as LEADERBOARD_WORDS
from bot.commands.leaderboard_digest import cmd_digest_top
from bot.commands.report_common import (
    chat_zone,
    report_now,
)
from bot.i18n import t
from bot.reply import Reply
from bot.store.chats import set_chat_digest


async def cmd_digest(ctx: CommandContext) -> Reply:
    """Set this chat's digest: daily or weekly at HH:MM (chat time zone), or off."""
    loc = ctx.locale
    if ctx.args and ctx.args[0].lower() in LEADERBOARD_WORDS:
        return await cmd_digest_top(ctx, ctx.args[1:])
    words = [w.lower() for w in ctx.args]
    mode = next((w for w in words if w in ("daily", "weekly", "off")), None)
    times = [w for w in words if ":" in w]
    at = parse_time(times[0]) if times else None
    if mode is None or (times and at is None) or len(words) > 2:
        return _digest_status(ctx)
    async with ctx.db.sessions() as session, session.begin():
        hhmm = at.strftime("%H:%M") if at else None
        chat = await set_chat_digest(session, ctx.chat.id, mode, hhmm, report_now(ctx))
        if chat is None:
            return Reply.text(t(loc, "chat.error"))
        ctx.chat.digest, ctx.chat.digest_time = chat.digest, chat.digest_time
    if mode == "off":
        return Reply.text(t(loc, "reports.digest.off"))
    return Reply.text(
        t(loc, f"reports.digest.set_{mode}", time=ctx.chat.digest_time, tz=chat_zone(ctx))
    )


def _digest_status(ctx: CommandContext) -> Reply:
    loc, chat = ctx.locale, ctx.chat
    if chat.digest in ("daily", "weekly"):
        current = t(loc, f"reports.digest.set_{chat.digest}", time=chat.digest_time or "09:00",
                    tz=chat_zone(ctx))  # fmt: skip
    else:
        current = t(loc, "reports.digest.off")
    prefix = t(loc, "chat.usage_prefix")
    return Reply.text(current, f"{prefix} {t(loc, 'reports.usage.digest')}")


COMMANDS = (CommandSpec("digest", cmd_digest, changes_chat=True),)
