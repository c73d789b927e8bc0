"""What a chat hears about: /subscribe, /unsubscribe, /subscriptions, /mute, /unmute, and
the chat's own settings and greeting: /lang, /start, /help.

``/subscribe <target> words: тариф, "цены на газ", -реклама`` is a keyword subscription:
a row of its own beside any plain subscription to the same target, receiving only the
new posts and edits whose text matches (``bot.store.fanout`` decides, at write time).
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import command_action, mute_action, unmute_action, unsubscribe_action
from bot.commands.auth import audit, editor_key
from bot.commands.context import CommandContext, CommandSpec, usage
from bot.commands.keywords import (
    WORDS_BARE,
    query_error,
    shown_words,
    split_words_clause,
    words_summary,
)
from bot.commands.menu import command_menu, describe, editor_commands, example, syntax
from bot.commands.parsing import ALL_WORDS, kind_words, modes_in, ordered_kinds, parse_kinds
from bot.commands.targets import (
    Target,
    choice_label,
    names_something,
    pick_official,
    resolve_target,
)
from bot.detect.keywords import Query, QueryError, parse_words
from bot.i18n import t
from bot.names import collation_key, localized_name, sorted_by_name
from bot.reply import Button, Reply, ReplyBuilder, Span
from bot.store.chats import hinted_locale, set_chat_locale
from bot.store.fanout import KEYWORD_KINDS
from bot.store.models import KeywordSubscription, Official, Subscription
from bot.store.officials import find_officials
from bot.store.subscriptions import (
    add_mute,
    chat_keyword_subscription,
    chat_subscription,
    chat_subscriptions,
    count_keyword_subscriptions,
    delete_subscription,
    find_subscription,
    keyword_subscriptions,
    muted_officials,
    remove_mute,
    save_keyword_subscription,
    save_subscription,
    target_name,
)
from bot.store.watchlists import find_watchlist

#: Keyword subscriptions one chat may have.
MAX_KEYWORD_SUBSCRIPTIONS = 50

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
        builder.line(t(loc, "keywords.help.words"))
    if name == "watchlist":
        builder.line(t(loc, "keywords.help.watchwords"))
    if name in ("report", "top"):
        builder.line(t(loc, "help.tenure.members"))
    if name == "official":
        builder.line(t(loc, "help.tenure.former"))
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
    """Subscribe this chat to an official, a watchlist or everything (or to their posts
    that have some words: ``words: тариф, "цены на газ", -реклама``)."""
    clause = split_words_clause(ctx.args)
    if clause is not None:
        return await _subscribe_words(ctx, *clause)
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


async def _subscribe_words(ctx: CommandContext, before: list[str], after: list[str]) -> Reply:
    """``/subscribe <target> [new_post|post_edited] [digest] words: ...``."""
    try:
        query = parse_words(after)
    except QueryError as exc:
        return query_error(ctx.locale, exc)
    words, kinds, mode = parse_kinds(before)
    if not words:
        return usage(ctx, "subscribe")
    tail = before[len(words) :]
    if len(set(modes_in(tail))) > 1:
        return Reply.text(t(ctx.locale, "help.two_modes"))
    # "posts" means every post kind; only the deletions (which have no new text) drop out
    implied = {"post_deleted"} if "posts" in (w.lower() for w in tail) else set()
    if set(kinds) - KEYWORD_KINDS - implied:
        return Reply.text(t(ctx.locale, "keywords.subscribe.only_posts"))
    kinds = [k for k in kinds if k in KEYWORD_KINDS] or ordered_kinds(KEYWORD_KINDS)
    async with ctx.db.sessions() as session:
        mistyped = await _unknown_kind(session, ctx, words)
        if mistyped is not None:
            return mistyped
        target = await _words_target(session, ctx, words, tail, query)
        if isinstance(target, Reply):
            return target
        if await count_keyword_subscriptions(session, ctx.chat.id) >= MAX_KEYWORD_SUBSCRIPTIONS:
            limit = MAX_KEYWORD_SUBSCRIPTIONS
            return Reply.text(t(ctx.locale, "keywords.subscribe.limit", limit=limit))
        sub, new = await save_keyword_subscription(
            session, ctx.chat.id, (target.type, target.id), words=query.stored(), kinds=kinds,
            mode=mode, created_by=editor_key(ctx.caller),
        )  # fmt: skip
        details = {"words": query.stored(), "kinds": kinds, "mode": sub.mode}
        audit(session, ctx.caller, "subscribe_words", target=f"{target.type}:{target.id}",
              details=details)  # fmt: skip
        await session.commit()
    return _words_done(ctx.locale, target, query, kinds, sub.mode, new=new)


def _words_done(
    locale: str, target: Target, query: Query, kinds: Sequence[str], mode: str, *, new: bool
) -> Reply:
    wanted, excluded = shown_words(locale, query)
    lines = [t(locale, f"keywords.subscribe.{'done' if new else 'updated'}", target=target.label)]
    lines.append(t(locale, "keywords.subscribe.words", words=wanted))
    if excluded:
        lines.append(t(locale, "keywords.subscribe.except", words=excluded))
    names = ", ".join(t(locale, f"alert.kind.{k}") for k in ordered_kinds(kinds))
    lines.append(t(locale, "keywords.subscribe.kinds", kinds=names))
    if mode == "digest":
        lines.append(t(locale, "chat.subscribe.digest_mode"))
    return Reply.text(*lines, *([target.note] if target.note else []))


async def _words_target(
    session: AsyncSession, ctx: CommandContext, words: list[str], tail: list[str], query: Query
) -> Target | Reply:
    """The target of a keyword subscription; choices whose buttons keep the words."""
    again = " ".join([*tail, "words:", ", ".join(query.stored())])
    retry = f"/subscribe {{id}} {again}"
    if len(command_action(retry.format(id="#9999999")).encode()) <= 64:
        return await resolve_target(session, ctx, words, retry=retry)
    # Too long for a button (it would drop the words): the choices say what to type.
    name = " ".join(words)
    if name.lower() not in ALL_WORDS and await find_watchlist(session, name) is None:
        found = await find_officials(session, name)
        if len(found) > 1:
            builder = ReplyBuilder().line(t(ctx.locale, "chat.choose"))
            ordered = sorted_by_name(found, ctx.locale)
            for official in ordered[:10]:
                label = choice_label(localized_name(official, ctx.locale), official.position)
                builder.line(f"• {label} — ", Span(f"#{official.id}", code=True))
            example = retry.format(id=f"#{ordered[0].id}")
            builder.line(t(ctx.locale, "keywords.subscribe.choose_by_id"), Span(example, code=True))
            return builder.build()
    return await resolve_target(session, ctx, words, retry=retry)


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
    """Remove one of this chat's subscriptions (``=ID`` names a subscription row;
    ``words =ID`` a keyword subscription; ``<target> words`` its keyword subscriptions)."""
    if not ctx.args:
        return usage(ctx, "unsubscribe")
    if len(ctx.args) >= 2 and ctx.args[-1].lower().rstrip(":") in WORDS_BARE:
        return await _unsubscribe_words(ctx, ctx.args[:-1])
    if len(ctx.args) == 2 and ctx.args[0].lower().rstrip(":") in WORDS_BARE:
        return await _unsubscribe_words(ctx, ctx.args[1:])
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
            by_words = await keyword_subscriptions(session, ctx.chat.id, (target.type, target.id))
            if found is None and by_words:
                # Nothing but keyword alerts: "/unsubscribe X" means those.
                return await _drop_words(session, ctx, by_words, target.label)
            if found is None:
                return _not_subscribed(ctx, target)
            sub, label = found, target.label
        audit(session, ctx.caller, "unsubscribe", target=f"{sub.target_type}:{sub.target_id}")
        await delete_subscription(session, sub)
        target_key = (sub.target_type, sub.target_id)
        remaining = await keyword_subscriptions(session, ctx.chat.id, target_key)
        ref = await _target_ref(session, sub)
        await session.commit()
    lines = [t(ctx.locale, "chat.unsubscribe.done", target=label)]
    if remaining:
        words = "; ".join(words_summary(ctx.locale, k.words, label=False) for k in remaining)
        lines.append(t(ctx.locale, "keywords.unsubscribe.remaining", target=label, words=words,
                       ref=ref))  # fmt: skip
    return Reply.text(*lines)


async def _target_ref(session: AsyncSession, sub: Subscription) -> str:
    """How a command names ``sub``'s target: ``all``, a watchlist's name or ``#id``."""
    if sub.target_type == "watchlist":
        return await target_name(session, sub) or f"#{sub.target_id}"
    return "all" if sub.target_type == "all" else f"#{sub.target_id}"


async def _unsubscribe_words(ctx: CommandContext, args: Sequence[str]) -> Reply:
    """Drop one keyword subscription (``=ID``) or all of them for a target."""
    async with ctx.db.sessions() as session:
        if len(args) == 1 and args[0].startswith("=") and args[0][1:].isdigit():
            found = await chat_keyword_subscription(session, ctx.chat.id, int(args[0][1:]))
            if found is None:
                return Reply.text(t(ctx.locale, "chat.unsubscribe.none"))
            return await _drop_words(
                session, ctx, [found], await _target_label(session, ctx.locale, found)
            )
        target = await resolve_target(session, ctx, args, retry="/unsubscribe {id} words")
        if isinstance(target, Reply):
            return target
        subs = await keyword_subscriptions(session, ctx.chat.id, (target.type, target.id))
        if not subs:
            return Reply.text(t(ctx.locale, "keywords.unsubscribe.none", target=target.label))
        return await _drop_words(session, ctx, subs, target.label)


async def _drop_words(
    session: AsyncSession, ctx: CommandContext, subs: Sequence[KeywordSubscription], label: str
) -> Reply:
    """Delete keyword subscriptions (audited, committed) and say which words went."""
    for sub in subs:
        target = f"{sub.target_type}:{sub.target_id}"
        audit(session, ctx.caller, "unsubscribe_words", target=target, details={"words": sub.words})
        await delete_subscription(session, sub)
    await session.commit()
    words = "; ".join(words_summary(ctx.locale, s.words, label=False) for s in subs)
    return Reply.text(t(ctx.locale, "keywords.unsubscribe.done", target=label, words=words))


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


async def _target_label(
    session: AsyncSession, locale: str, sub: Subscription | KeywordSubscription
) -> str:
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
        by_words = await keyword_subscriptions(session, ctx.chat.id)
        muted = await muted_officials(session, ctx.chat.id)
        if not subs and not by_words and not muted:
            return Reply.text(t(ctx.locale, "chat.subscriptions.empty"))
        builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.subscriptions.title"), bold=True))
        buttons = []
        for sub in subs:
            label = await _target_label(session, ctx.locale, sub)
            builder.line(f"• {label} — ", _kinds_summary(ctx.locale, sub.event_kinds, sub.mode))
            text = t(ctx.locale, "chat.subscriptions.drop", target=label)
            buttons.append((Button(text[:60], unsubscribe_action(sub.id)),))
        for ksub in by_words:
            label = await _target_label(session, ctx.locale, ksub)
            summary = _kinds_summary(ctx.locale, ksub.event_kinds, ksub.mode)
            builder.line(f"• {label} — {words_summary(ctx.locale, ksub.words)} — {summary}")
            text = t(ctx.locale, "keywords.list.drop", target=label)
            action = command_action(f"/unsubscribe words ={ksub.id}")
            buttons.append((Button(text[:60], action),))
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
