"""What a chat hears about: /subscribe, /unsubscribe, /subscriptions, /mute, /unmute, and
the chat's own settings and greeting: /lang, /start, /help."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import mute_action, unmute_action, unsubscribe_action
from bot.commands.auth import audit, editor_key
from bot.commands.context import CommandContext, CommandSpec, usage
from bot.commands.menu import command_menu, describe, editor_commands, example, syntax
from bot.commands.parsing import kind_words, modes_in, ordered_kinds, parse_kinds
from bot.commands.targets import Target, names_something, pick_official, resolve_target
from bot.i18n import t
from bot.names import collation_key, localized_name
from bot.reply import Button, Reply, ReplyBuilder, Span
from bot.store.chats import hinted_locale, set_chat_locale
from bot.store.models import Official, Subscription
from bot.store.subscriptions import (
    add_mute,
    chat_subscription,
    chat_subscriptions,
    delete_subscription,
    find_subscription,
    muted_officials,
    remove_mute,
    save_subscription,
    target_name,
)

# --- /start, /help ---------------------------------------------------------------------


async def cmd_start(ctx: CommandContext) -> Reply:
    """Greet the user and list what the bot can do."""
    builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.start.title"), bold=True))
    builder.line(t(ctx.locale, "chat.start.body")).paragraph()
    return _with_menu(builder, ctx)


async def cmd_help(ctx: CommandContext) -> Reply:
    """List every command with a one-line description, or explain one: ``/help top``."""
    if ctx.args:
        return command_help(ctx, ctx.args[0].removeprefix("/").split("@", 1)[0].lower())
    builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.help.title"), bold=True))
    return _with_menu(builder, ctx, more=True)


def command_help(ctx: CommandContext, name: str) -> Reply:
    """The description, syntax and an example of ``/name``."""
    if name not in ctx.commands:
        return Reply.text(t(ctx.locale, "help.unknown_topic", name=name))
    loc = ctx.locale
    builder = ReplyBuilder().line(Span(f"/{name}", code=True), f" — {describe(loc, name)}")
    for label, text in (
        ("help.syntax_label", syntax(loc, name)),
        ("help.example_label", example(loc, name)),
    ):
        if text:
            builder.line(f"{t(loc, label)} ", Span(text, code=True))
    if name == "subscribe":
        builder.line(t(loc, "help.kinds", kinds=", ".join(kind_words())))
    if ctx.commands[name].editor_only:
        builder.line(t(loc, "help.editors_only"))
    return builder.build()


def _with_menu(builder: ReplyBuilder, ctx: CommandContext, *, more: bool = False) -> Reply:
    for name, description in command_menu(ctx.commands, ctx.locale, editor=ctx.is_editor):
        builder.line(Span(f"/{name}", code=True), f" — {description}")
    hidden = [] if ctx.is_editor else editor_commands(ctx.commands)
    if more and hidden:
        # Readers see that these exist (and may ask /help about them), marked as not theirs.
        names = ", ".join(f"/{name}" for name in hidden)
        builder.paragraph().line(t(ctx.locale, "help.editors_also", commands=names))
    builder.paragraph().line(t(ctx.locale, "chat.help.footer"))
    if more:
        builder.line(t(ctx.locale, "help.more"))
    return builder.build()


# --- /lang -------------------------------------------------------------------------------


async def cmd_lang(ctx: CommandContext) -> Reply:
    """Set the chat's language."""
    code = hinted_locale(ctx.args[0]) if len(ctx.args) == 1 else None
    if code is None:
        return usage(ctx, "lang")
    async with ctx.db.sessions() as session:
        found, old = await set_chat_locale(session, ctx.chat.id, code)
        if not found:
            return Reply.text(t(ctx.locale, "chat.error"))
        audit(session, ctx.caller, "lang", target=code, details={"old": old})
        await session.commit()
    return Reply.text(t(code, "chat.lang.done"))


# --- subscriptions -----------------------------------------------------------------------


async def cmd_subscribe(ctx: CommandContext) -> Reply:
    """Subscribe this chat to an official, a watchlist or everything."""
    words, kinds, mode = parse_kinds(ctx.args)
    if not words:
        return usage(ctx, "subscribe")
    if len(set(modes_in(ctx.args[len(words) :]))) > 1:
        return Reply.text(t(ctx.locale, "help.two_modes"))
    async with ctx.db.sessions() as session:
        mistyped = await _unknown_kind(session, ctx, words)
        if mistyped is not None:
            return mistyped
        tail = " ".join([*kinds, *([mode] if mode else [])])
        target = await resolve_target(
            session, ctx, words, retry=f"/subscribe {{id}} {tail}".strip()
        )
        if isinstance(target, Reply):
            return target
        sub = await save_subscription(session, ctx.chat.id, target.type, target.id, kinds=kinds,
                                      mode=mode, created_by=editor_key(ctx.caller))  # fmt: skip
        details = {"kinds": kinds, "mode": sub.mode}
        audit(
            session, ctx.caller, "subscribe", target=f"{target.type}:{target.id}", details=details
        )
        await session.commit()
    lines = [t(ctx.locale, "chat.subscribe.done", target=target.label)]
    lines.append(_kinds_line(ctx.locale, kinds, sub.mode))
    return Reply.text(*lines, *([target.note] if target.note else []))


async def _unknown_kind(
    session: AsyncSession, ctx: CommandContext, words: Sequence[str]
) -> Reply | None:
    """When ``words`` name nothing but a shorter start of them does, the rest was meant as
    event kinds ("/subscribe Musin deleted"): say which word is not a kind, and the kinds."""
    if len(words) < 2 or await names_something(session, words):
        return None
    for cut in range(len(words) - 1, 0, -1):
        if await names_something(session, words[:cut]):
            return unknown_kind_reply(ctx.locale, words[cut], " ".join(words[:cut]))
    return None


def unknown_kind_reply(locale: str, word: str, target: str) -> Reply:
    """ "I don't know the event kind ...", a likely meaning, and every kind word."""
    lines = [t(locale, "help.unknown_kind", word=word, target=target)]
    suggestion = suggest_kind(word)
    if suggestion:
        lines.append(t(locale, "help.suggest", suggestion=suggestion))
    lines.append(t(locale, "help.kinds", kinds=", ".join(kind_words())))
    return Reply.text(*lines)


def suggest_kind(word: str) -> str | None:
    """The kind word ``word`` most likely meant ("deleted" -> "post_deleted")."""
    folded = word.lower().replace("-", "_")
    for candidate in kind_words():
        if len(folded) >= 3 and folded in candidate:
            return candidate
    close = get_close_matches(folded, kind_words(), n=1, cutoff=0.6)
    return close[0] if close else None


def _kinds_line(locale: str, kinds: Sequence[str], mode: str) -> str:
    kinds = ordered_kinds(kinds)
    names = ", ".join(t(locale, f"alert.kind.{k}") for k in kinds) if kinds else None
    text = (
        t(locale, "chat.subscribe.kinds", kinds=names)
        if names
        else t(locale, "chat.subscribe.all_kinds")
    )
    return text + (" " + t(locale, "chat.subscribe.digest_mode") if mode == "digest" else "")


async def cmd_unsubscribe(ctx: CommandContext) -> Reply:
    """Remove one of this chat's subscriptions (``=ID`` names a subscription row)."""
    if not ctx.args:
        return usage(ctx, "unsubscribe")
    async with ctx.db.sessions() as session:
        if len(ctx.args) == 1 and ctx.args[0].startswith("=") and ctx.args[0][1:].isdigit():
            sub = await chat_subscription(session, ctx.chat.id, int(ctx.args[0][1:]))
            if sub is None:
                return Reply.text(t(ctx.locale, "chat.unsubscribe.none"))
            label = await _target_label(session, ctx.locale, sub)
        else:
            target = await resolve_target(session, ctx, ctx.args, retry="/unsubscribe {id}")
            if isinstance(target, Reply):
                return target
            found = await find_subscription(session, ctx.chat.id, target.type, target.id)
            if found is None:
                return _not_subscribed(ctx, target)
            sub, label = found, target.label
        audit(session, ctx.caller, "unsubscribe", target=f"{sub.target_type}:{sub.target_id}")
        await delete_subscription(session, sub)
        await session.commit()
    return Reply.text(t(ctx.locale, "chat.unsubscribe.done", target=label))


def _not_subscribed(ctx: CommandContext, target: Target) -> Reply:
    """Explain that there is no such subscription; offer muting when it comes via another."""
    builder = ReplyBuilder().line(
        t(ctx.locale, "chat.unsubscribe.not_subscribed", target=target.label)
    )
    buttons: tuple[tuple[Button, ...], ...] = ()
    if target.type == "official":
        builder.line(t(ctx.locale, "chat.unsubscribe.offer_mute"))
        buttons = ((Button(t(ctx.locale, "alert.button.mute"), mute_action(target.id)),),)
    return builder.build(buttons=buttons)


async def _target_label(session: AsyncSession, locale: str, sub: Subscription) -> str:
    if sub.target_type not in ("official", "watchlist"):
        return t(locale, "chat.target.all")
    name = await target_name(session, sub) or f"#{sub.target_id}"
    if sub.target_type == "watchlist":
        return t(locale, "chat.target.watchlist", name=name)
    return name


async def cmd_subscriptions(ctx: CommandContext) -> Reply:
    """List this chat's subscriptions and mutes, with a button to drop each."""
    async with ctx.db.sessions() as session:
        subs = await chat_subscriptions(session, ctx.chat.id)
        muted = await muted_officials(session, ctx.chat.id)
        if not subs and not muted:
            return Reply.text(t(ctx.locale, "chat.subscriptions.empty"))
        builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.subscriptions.title"), bold=True))
        buttons = []
        for sub in subs:
            label = await _target_label(session, ctx.locale, sub)
            builder.line(f"• {label} — ", _kinds_summary(ctx.locale, sub.event_kinds, sub.mode))
            text = t(ctx.locale, "chat.subscriptions.drop", target=label)
            buttons.append((Button(text[:60], unsubscribe_action(sub.id)),))
    if muted:
        builder.paragraph().line(Span(t(ctx.locale, "chat.subscriptions.muted"), bold=True))
        for official_id, name in sorted(muted, key=lambda m: collation_key(m[1], ctx.locale)):
            builder.line(f"• {name}")
            buttons.append((_unmute_button(ctx.locale, official_id, name),))
    return builder.build(buttons=tuple(buttons))


def _kinds_summary(locale: str, kinds: Sequence[str], mode: str) -> str:
    """What one subscription delivers, without the "Alerts:" label each line would repeat."""
    kinds = ordered_kinds(kinds)
    text = (
        ", ".join(t(locale, f"alert.kind.{k}") for k in kinds)
        if kinds
        else t(locale, "help.subscriptions.all_kinds")
    )
    return text + (" " + t(locale, "help.subscriptions.digest") if mode == "digest" else "")


def _unmute_button(locale: str, official_id: int, name: str) -> Button:
    return Button(t(locale, "chat.unmute.button", name=name)[:60], unmute_action(official_id))


async def cmd_mute(ctx: CommandContext) -> Reply:
    """Stop alerts about one official in this chat (the alert's "mute" button)."""
    official = await _toggle_mute(ctx, "mute")
    if isinstance(official, Reply):
        return official
    name = localized_name(official, ctx.locale)
    return Reply(
        blocks=Reply.text(t(ctx.locale, "chat.mute.done", name=name)).blocks,
        buttons=((_unmute_button(ctx.locale, official.id, name),),),
    )


async def cmd_unmute(ctx: CommandContext) -> Reply:
    """Hear about a muted official again."""
    official = await _toggle_mute(ctx, "unmute")
    if isinstance(official, Reply):
        return official
    return Reply.text(t(ctx.locale, "chat.unmute.done", name=localized_name(official, ctx.locale)))


async def _toggle_mute(ctx: CommandContext, verb: str) -> Official | Reply:
    """Mute or unmute the official ``ctx.args`` names (audited); a Reply when that fails."""
    if not ctx.args:
        return usage(ctx, verb)
    async with ctx.db.sessions() as session:
        official = await pick_official(session, ctx, " ".join(ctx.args), retry=f"/{verb} {{id}}")
        if isinstance(official, Reply):
            return official
        change = add_mute if verb == "mute" else remove_mute
        await change(session, ctx.chat.id, official.id)
        audit(session, ctx.caller, verb, target=f"official:{official.id}")
        await session.commit()
    return official


COMMANDS = (
    CommandSpec("start", cmd_start),
    CommandSpec("help", cmd_help),
    CommandSpec("lang", cmd_lang, changes_chat=True),
    CommandSpec("subscribe", cmd_subscribe, changes_chat=True),
    CommandSpec("unsubscribe", cmd_unsubscribe, changes_chat=True),
    CommandSpec("subscriptions", cmd_subscriptions),
    CommandSpec("mute", cmd_mute, changes_chat=True),
    CommandSpec("unmute", cmd_unmute, changes_chat=True),
)
