"""What a command names: an official (asking which one when several match), a watchlist
or everything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import command_action
from bot.commands.context import CommandContext
from bot.commands.parsing import ALL_WORDS
from bot.i18n import t
from bot.names import exact, localized_name, query_tokens, sorted_by_name
from bot.reply import Button, Reply, ReplyBuilder
from bot.store.models import Official
from bot.store.officials import find_officials
from bot.store.watchlists import find_watchlist

#: Choices shown as buttons; more are counted, not listed.
MAX_CHOICES = 10


@dataclass(frozen=True, slots=True)
class Target:
    """What a subscription points at, with a label to show."""

    type: str
    id: int
    label: str
    #: Said with the answer when the words could have meant something else.
    note: str | None = None


async def resolve_target(
    session: AsyncSession, ctx: CommandContext, words: Sequence[str], *, retry: str
) -> Target | Reply:
    """The official, watchlist or "all" that ``words`` name, or a reply offering choices."""
    query = " ".join(words).strip()
    if query.lower() in ALL_WORDS:
        return Target("all", 0, t(ctx.locale, "chat.target.all"))
    watchlist = await find_watchlist(session, query)
    if watchlist is not None:
        label = t(ctx.locale, "chat.target.watchlist", name=watchlist.name)
        return Target("watchlist", watchlist.id, label, await _also_official(session, ctx, query))
    official = await pick_official(session, ctx, query, retry=retry)
    if isinstance(official, Reply):
        return official
    return Target("official", official.id, localized_name(official, ctx.locale))


async def _also_official(session: AsyncSession, ctx: CommandContext, query: str) -> str | None:
    """When a watchlist's name is also exactly an official's: how to mean the official."""
    tokens = query_tokens(query)
    same = [o for o in await find_officials(session, query) if exact(o.search_key, tokens)]
    if len(same) != 1:
        return None
    name = localized_name(same[0], ctx.locale)
    return t(ctx.locale, "help.also_official", query=query, name=name, ref=f"#{same[0].id}")


async def names_something(session: AsyncSession, words: Sequence[str]) -> bool:
    """True when ``words`` name "all", a watchlist or at least one official."""
    query = " ".join(words).strip()
    if not query:
        return False
    if query.lower() in ALL_WORDS or await find_watchlist(session, query) is not None:
        return True
    return bool(await find_officials(session, query))


async def pick_official(
    session: AsyncSession, ctx: CommandContext, query: str, *, retry: str
) -> Official | Reply:
    """The one official ``query`` names, or a reply: not found, or choices as buttons.

    ``retry`` is the command to run with the chosen official, "{id}" marking where it goes.
    """
    found = await find_officials(session, query)
    if len(found) == 1:
        return found[0]
    if not found:
        return Reply.text(t(ctx.locale, "chat.not_found", query=query))
    return choices_reply(ctx.locale, found, retry=retry)


def choices_reply(locale: str, officials: Sequence[Official], *, retry: str) -> Reply:
    """ "Which one did you mean?" with one button per official."""
    builder = ReplyBuilder().line(t(locale, "chat.choose"))
    buttons = []
    for official in sorted_by_name(officials, locale)[:MAX_CHOICES]:
        name = localized_name(official, locale)
        builder.line(f"• {choice_label(name, official.position)}")
        action = command_action(retry.format(id=f"#{official.id}"))
        if len(action.encode()) > 64:
            action = command_action(retry.split(" ", 1)[0] + f" #{official.id}")
        buttons.append((Button(name[:60], action),))
    if len(officials) > MAX_CHOICES:
        builder.line(t(locale, "chat.more_choices", count=len(officials) - MAX_CHOICES))
    return builder.build(buttons=tuple(buttons))


def choice_label(name: str, position: str | None) -> str:
    """ "Name (position)", without repeating a position the name already says."""
    if not position or position.casefold() in name.casefold():
        return name
    return f"{name} ({position})"
