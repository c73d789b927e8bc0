"""/tz: this chat's own time zone, used by alerts, reports and digests in the chat."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from bot.commands.auth import audit
from bot.commands.context import CommandContext, CommandSpec
from bot.commands.report_common import chat_zone, report_now
from bot.config import known_zone
from bot.i18n import format_datetime, t
from bot.reply import Reply
from bot.store.chats import set_chat_timezone

#: Words that give the chat back the bot's configured zone.
_DEFAULT_WORDS = frozenset({"default", "reset", "off"})


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def zone_named(text: str) -> str | None:
    """The IANA zone ``text`` names ("asia/almaty" -> "Asia/Almaty"), or None when none."""
    name = _zones_by_folded_name().get(text.strip().casefold(), text.strip())
    try:
        return known_zone(name)
    except ValueError:
        return None


async def cmd_tz(ctx: CommandContext) -> Reply:
    """Show this chat's time zone, or set it: ``/tz Asia/Almaty``, ``/tz default``."""
    if not ctx.args:
        return _current(ctx)
    if len(ctx.args) != 1:
        return Reply.text(_usage_line(ctx))
    word = ctx.args[0]
    if word.casefold() in _DEFAULT_WORDS:
        return await _store(ctx, None)
    zone = zone_named(word)
    if zone is None:
        return Reply.text(t(ctx.locale, "tz.unknown", name=word[:64]), _usage_line(ctx))
    return await _store(ctx, zone)


async def _store(ctx: CommandContext, zone: str | None) -> Reply:
    async with ctx.db.sessions() as session:
        chat = await set_chat_timezone(session, ctx.chat.id, zone)
        if chat is None:
            return Reply.text(t(ctx.locale, "chat.error"))
        old, ctx.chat.timezone = ctx.chat.timezone, zone
        audit(session, ctx.caller, "tz", target=zone or "default", details={"old": old})
        await session.commit()
    if zone is None:
        return Reply.text(t(ctx.locale, "tz.reset", zone=chat_zone(ctx)))
    return Reply.text(t(ctx.locale, "tz.done", zone=zone, now=_now(ctx)))


def _current(ctx: CommandContext) -> Reply:
    key = "tz.current" if ctx.chat.timezone else "tz.current_default"
    return Reply.text(t(ctx.locale, key, zone=chat_zone(ctx), now=_now(ctx)), _usage_line(ctx))


def _now(ctx: CommandContext) -> str:
    return format_datetime(report_now(ctx), ctx.locale, tz=chat_zone(ctx))


def _usage_line(ctx: CommandContext) -> str:
    return f"{t(ctx.locale, 'chat.usage_prefix')} {t(ctx.locale, 'tz.usage')}"


COMMANDS = (CommandSpec("tz", cmd_tz, changes_chat=True),)
