"""The command layer: every chat command, written once and platform-neutral.

``CommandService.handle`` turns "/subscribe Dana new_post" into a :class:`Reply`. It
creates the chat row on first contact, works out the chat's language, checks
authorization before a handler looks at its arguments, and writes edits to the audit log.
The report commands (/top, /report, /official, /silent, /chart, /digest) live in
``bot.chat.report_commands`` and register through the same ``command()`` registry.
"""

from __future__ import annotations

import importlib
import logging
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat.auth import audit, decide, editor_key, is_editor
from bot.chat.context import COMMANDS, CommandContext, CommandSpec, command
from bot.chat.lookup import find_officials
from bot.config import Settings, parse_duration
from bot.domain import OPERATOR_EVENTS, EventKind, Platform
from bot.errors import FetchError, InvalidHandle, UserInputError
from bot.handles import canonical_url, normalize_handle, parse_platform
from bot.i18n import format_duration, format_number, normalize_locale, t
from bot.names import matches, query_tokens, search_key
from bot.net.guard import check_url
from bot.reply import Button, Caller, Reply, ReplyBuilder, Span, Table
from bot.roster import make_slug
from bot.store.chats import chat_locale, ensure_chat, hinted_locale
from bot.store.engine import Database
from bot.store.models import (
    Account,
    Chat,
    Editor,
    Mute,
    Official,
    Subscription,
    Watchlist,
    WatchlistMember,
    utcnow,
)

log = logging.getLogger(__name__)

#: The report commands helper E registers; listed in /help in this order after ours.
REPORT_COMMANDS = ("top", "silent", "official", "report", "chart", "digest")
_MENU_ORDER = (
    "start", "help", *REPORT_COMMANDS, "subscribe", "unsubscribe", "subscriptions", "lang",
    "watch", "watchlist", "settings", "editor",
)  # fmt: skip
_ALL_WORDS = frozenset({"all", "все", "всё", "барлығы", "барлыгы", "бәрі"})
KIND_ALIASES: Mapping[str, tuple[str, ...]] = {
    "posts": (EventKind.NEW_POST, EventKind.POST_EDITED, EventKind.POST_DELETED),
    "followers": (
        EventKind.FOLLOWERS_UP,
        EventKind.FOLLOWERS_DOWN,
        EventKind.FOLLOWERS_MILESTONE,
    ),
    "silence": (EventKind.WENT_SILENT, EventKind.BACK_FROM_SILENCE),
    "account": (EventKind.PROFILE_CHANGED, EventKind.ACCOUNT_MISSING, EventKind.ACCOUNT_RESTORED),
    "sources": tuple(OPERATOR_EVENTS),
}
_MODES = frozenset({"immediate", "digest"})
_KINDS = frozenset(k.value for k in EventKind)
_PAST = {"add": "added", "remove": "removed"}
_QUOTES = str.maketrans("«»“”„", '"""""')
#: Detection thresholds an editor may override per watchlist (column, kind of value).
WATCHLIST_SETTINGS: Mapping[str, str] = {
    "silent_after": "duration",
    "follower_change_percent": "float",
    "follower_change_min": "int",
}


# --- parsing -----------------------------------------------------------------------------


#: Telegram's message limit; Slack's slash commands are shorter still.
MAX_COMMAND_CHARS = 4096


def split_command(text: str) -> tuple[str, list[str]]:
    """The command name (lower case, no slash or @bot suffix) and its arguments."""
    text = text.strip().translate(_QUOTES)
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.replace('"', " ").split()
    if not words:
        return "", []
    name = words[0].removeprefix("/").split("@", 1)[0].lower()
    return name, words[1:]


def parse_kinds(words: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """Split trailing event kinds (and a mode word) off ``words``: (rest, kinds, mode)."""
    rest, kinds, mode = list(words), list[str](), None
    while rest:
        word = rest[-1].lower().replace("-", "_")
        if word in _MODES:
            mode = word
        elif word in KIND_ALIASES:
            kinds[:0] = [str(k) for k in KIND_ALIASES[word]]
        elif word in _KINDS:
            kinds.insert(0, word)
        else:
            break
        rest.pop()
    return rest, list(dict.fromkeys(kinds)), mode


# --- the service -------------------------------------------------------------------------


def _load_report_commands() -> None:
    try:
        importlib.import_module("bot.chat.report_commands")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.chat.report_commands":
            raise
        log.warning("report commands are not installed; /top, /report... are unavailable")


class CommandService:
    """Runs chat commands for every backend and returns platform-neutral replies."""

    def __init__(
        self, *, db: Database, settings: Settings, services: Mapping[str, object] | None = None
    ) -> None:
        _load_report_commands()
        self.db = db
        self.settings = settings
        self.services = dict(services or {})

    def spec_for(self, text: str) -> CommandSpec | None:
        """The registered command ``text`` would run (lets backends check group admins)."""
        name, _ = split_command(text)
        return COMMANDS.get(name)

    def command_menu(self, locale: str) -> list[tuple[str, str]]:
        """(name, short description) of every listed command, for /help and menus."""
        names = [n for n in _MENU_ORDER if n in COMMANDS and COMMANDS[n].listed]
        names += sorted(n for n, s in COMMANDS.items() if s.listed and n not in _MENU_ORDER)
        return [(n, _describe(locale, n)) for n in names]

    async def handle(self, caller: Caller, text: str, *, locale: str | None = None) -> Reply:
        """Run one command typed by ``caller`` and return the answer (``locale`` overrides)."""
        name, args = split_command(text)
        async with self.db.sessions() as session:
            chat = await ensure_chat(session, caller)
            locale = normalize_locale(locale) if locale else chat_locale(chat, self.settings)
            spec = COMMANDS.get(name)
            if spec is None:
                await session.commit()
                return Reply.text(t(locale, "chat.unknown_command", name=name or "?"))
            editor = await is_editor(session, self.settings, caller)
            decision = decide(spec, caller, editor=editor)
            if not decision.allowed:
                audit(session, caller, "denied", target=f"/{name}")
                await session.commit()
                return Reply.text(t(locale, decision.reason or "chat.auth.editors_only"))
            await session.commit()
        if len(text) > MAX_COMMAND_CHARS:
            # Longer than any chat message can be: refused, never echoed back.
            detail = f"the command is longer than {MAX_COMMAND_CHARS} characters"
            return Reply.text(t(locale, "chat.bad_input", detail=detail))
        ctx = CommandContext(
            caller=caller,
            chat=chat,
            locale=locale,
            args=args,
            db=self.db,
            settings=self.settings,
            is_editor=editor,
            services={**self.services, "commands": self},
        )
        return await self._run(spec, ctx)

    async def handle_action(self, caller: Caller, action: str) -> Reply:
        """Run a button's callback data (``mute:12``, ``chart:12``, ``cmd:/official #12``...)."""
        verb, _, rest = action.partition(":")
        match verb:
            case "cmd":
                return await self.handle(caller, rest)
            case "mute":
                return await self.handle(caller, f"/mute #{rest}")
            case "unmute":
                return await self.handle(caller, f"/unmute #{rest}")
            case "chart":
                return await self.handle(caller, f"/chart #{rest}")
            case "unsub":
                kind, _, ident = rest.partition(":")
                arg = f"#{ident}" if kind == "o" else f"={ident}"
                return await self.handle(caller, f"/unsubscribe {arg}")
        return await self.handle(caller, "/help")

    async def _run(self, spec: CommandSpec, ctx: CommandContext) -> Reply:
        try:
            return await spec.handler(ctx)
        except UserInputError as exc:
            return Reply.text(t(ctx.locale, "chat.bad_input", detail=str(exc)))
        except Exception:
            log.exception("command /%s failed", spec.name)
            return Reply.text(t(ctx.locale, "chat.error"))


def _describe(locale: str, name: str) -> str:
    try:
        return t(locale, f"chat.menu.{name}")
    except KeyError:
        return f"/{name}"


def usage(ctx: CommandContext, name: str) -> Reply:
    """The short usage line of ``/name`` in the caller's language."""
    return Reply.text(
        t(ctx.locale, "chat.usage_prefix") + " " + t(ctx.locale, f"chat.usage.{name}")
    )


# --- targets: an official, a watchlist or everything -----------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What a subscription points at, with a label to show."""

    type: str
    id: int
    label: str


async def resolve_target(
    session: AsyncSession, ctx: CommandContext, words: Sequence[str], *, retry: str
) -> Target | Reply:
    """The official, watchlist or "all" that ``words`` name, or a reply offering choices."""
    query = " ".join(words).strip()
    if query.lower() in _ALL_WORDS:
        return Target("all", 0, t(ctx.locale, "chat.target.all"))
    watchlist = await find_watchlist(session, query)
    if watchlist is not None:
        label = t(ctx.locale, "chat.target.watchlist", name=watchlist.name)
        return Target("watchlist", watchlist.id, label)
    official = await pick_official(session, ctx, query, retry=retry)
    if isinstance(official, Reply):
        return official
    return Target("official", official.id, official.name)


async def find_watchlist(session: AsyncSession, name: str) -> Watchlist | None:
    """The watchlist called ``name`` (case-insensitive)."""
    if not name:
        return None
    stmt = select(Watchlist).where(func.lower(Watchlist.name) == name.lower())
    return (await session.scalars(stmt.limit(1))).first()


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
    for official in officials[:10]:
        label = official.name + (f" ({official.position})" if official.position else "")
        builder.line(f"• {label}")
        action = "cmd:" + retry.format(id=f"#{official.id}")
        if len(action.encode()) > 64:
            action = "cmd:" + retry.split(" ", 1)[0] + f" #{official.id}"
        buttons.append((Button(official.name[:60], action),))
    if len(officials) > 10:
        builder.line(t(locale, "chat.more_choices", count=len(officials) - 10))
    return builder.build(buttons=tuple(buttons))


# --- /start, /help ---------------------------------------------------------------------


@command("start")
async def cmd_start(ctx: CommandContext) -> Reply:
    """Greet the user and list what the bot can do."""
    builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.start.title"), bold=True))
    builder.line(t(ctx.locale, "chat.start.body")).paragraph()
    return _with_menu(builder, ctx)


@command("help")
async def cmd_help(ctx: CommandContext) -> Reply:
    """List every command with a one-line description."""
    builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.help.title"), bold=True))
    return _with_menu(builder, ctx)


def _with_menu(builder: ReplyBuilder, ctx: CommandContext) -> Reply:
    service = ctx.services.get("commands")
    menu = service.command_menu(ctx.locale) if isinstance(service, CommandService) else []
    for name, description in menu:
        spec = COMMANDS[name]
        if spec.editor_only and not ctx.is_editor:
            continue
        builder.line(Span(f"/{name}", code=True), f" — {description}")
    builder.paragraph().line(t(ctx.locale, "chat.help.footer"))
    return builder.build()


# --- /lang -------------------------------------------------------------------------------


@command("lang", changes_chat=True)
async def cmd_lang(ctx: CommandContext) -> Reply:
    """Set the chat's language."""
    code = hinted_locale(ctx.args[0]) if len(ctx.args) == 1 else None
    if code is None:
        return usage(ctx, "lang")
    async with ctx.db.sessions() as session:
        chat = await session.get(Chat, ctx.chat.id)
        if chat is None:
            return Reply.text(t(ctx.locale, "chat.error"))
        old, chat.locale = chat.locale, code
        audit(session, ctx.caller, "lang", target=code, details={"old": old})
        await session.commit()
    return Reply.text(t(code, "chat.lang.done"))


# --- subscriptions -----------------------------------------------------------------------


@command("subscribe", changes_chat=True)
async def cmd_subscribe(ctx: CommandContext) -> Reply:
    """Subscribe this chat to an official, a watchlist or everything."""
    words, kinds, mode = parse_kinds(ctx.args)
    if not words:
        return usage(ctx, "subscribe")
    async with ctx.db.sessions() as session:
        tail = " ".join([*kinds, *([mode] if mode else [])])
        target = await resolve_target(
            session, ctx, words, retry=f"/subscribe {{id}} {tail}".strip()
        )
        if isinstance(target, Reply):
            return target
        sub = await _subscription(session, ctx.chat.id, target)
        if sub is None:
            sub = Subscription(chat_id=ctx.chat.id, target_type=target.type, target_id=target.id)
            session.add(sub)
        sub.event_kinds = kinds
        sub.mode = mode or sub.mode or "immediate"
        sub.created_by = editor_key(ctx.caller)
        details = {"kinds": kinds, "mode": sub.mode}
        audit(
            session, ctx.caller, "subscribe", target=f"{target.type}:{target.id}", details=details
        )
        await session.commit()
    return Reply.text(
        t(ctx.locale, "chat.subscribe.done", target=target.label),
        _kinds_line(ctx.locale, kinds, sub.mode),
    )


def _kinds_line(locale: str, kinds: Sequence[str], mode: str) -> str:
    names = ", ".join(t(locale, f"alert.kind.{k}") for k in kinds) if kinds else None
    text = (
        t(locale, "chat.subscribe.kinds", kinds=names)
        if names
        else t(locale, "chat.subscribe.all_kinds")
    )
    return text + (" " + t(locale, "chat.subscribe.digest_mode") if mode == "digest" else "")


async def _subscription(session: AsyncSession, chat_id: int, target: Target) -> Subscription | None:
    stmt = select(Subscription).where(
        Subscription.chat_id == chat_id,
        Subscription.target_type == target.type,
        Subscription.target_id == target.id,
    )
    return (await session.scalars(stmt)).first()


@command("unsubscribe", changes_chat=True)
async def cmd_unsubscribe(ctx: CommandContext) -> Reply:
    """Remove one of this chat's subscriptions (``=ID`` names a subscription row)."""
    if not ctx.args:
        return usage(ctx, "unsubscribe")
    async with ctx.db.sessions() as session:
        if len(ctx.args) == 1 and ctx.args[0].startswith("=") and ctx.args[0][1:].isdigit():
            sub = await session.get(Subscription, int(ctx.args[0][1:]))
            if sub is None or sub.chat_id != ctx.chat.id:
                return Reply.text(t(ctx.locale, "chat.unsubscribe.none"))
            label = await _target_label(session, ctx.locale, sub)
        else:
            target = await resolve_target(session, ctx, ctx.args, retry="/unsubscribe {id}")
            if isinstance(target, Reply):
                return target
            found = await _subscription(session, ctx.chat.id, target)
            if found is None:
                return await _not_subscribed(session, ctx, target)
            sub, label = found, target.label
        audit(session, ctx.caller, "unsubscribe", target=f"{sub.target_type}:{sub.target_id}")
        await session.delete(sub)
        await session.commit()
    return Reply.text(t(ctx.locale, "chat.unsubscribe.done", target=label))


async def _not_subscribed(session: AsyncSession, ctx: CommandContext, target: Target) -> Reply:
    """Explain that there is no such subscription; offer muting when it comes via another."""
    builder = ReplyBuilder().line(
        t(ctx.locale, "chat.unsubscribe.not_subscribed", target=target.label)
    )
    buttons: tuple[tuple[Button, ...], ...] = ()
    if target.type == "official":
        builder.line(t(ctx.locale, "chat.unsubscribe.offer_mute"))
        buttons = ((Button(t(ctx.locale, "alert.button.mute"), f"mute:{target.id}"),),)
    return builder.build(buttons=buttons)


async def _target_label(session: AsyncSession, locale: str, sub: Subscription) -> str:
    if sub.target_type == "official":
        official = await session.get(Official, sub.target_id)
        return official.name if official else f"#{sub.target_id}"
    if sub.target_type == "watchlist":
        watchlist = await session.get(Watchlist, sub.target_id)
        name = watchlist.name if watchlist else f"#{sub.target_id}"
        return t(locale, "chat.target.watchlist", name=name)
    return t(locale, "chat.target.all")


@command("subscriptions")
async def cmd_subscriptions(ctx: CommandContext) -> Reply:
    """List this chat's subscriptions and mutes, with a button to drop each."""
    async with ctx.db.sessions() as session:
        subs = (
            await session.scalars(
                select(Subscription)
                .where(Subscription.chat_id == ctx.chat.id)
                .order_by(Subscription.id)
            )
        ).all()
        muted = (
            await session.execute(
                select(Official.id, Official.name)
                .join(Mute, Mute.official_id == Official.id)
                .where(Mute.chat_id == ctx.chat.id)
                .order_by(Official.name)
            )
        ).all()
        if not subs and not muted:
            return Reply.text(t(ctx.locale, "chat.subscriptions.empty"))
        builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.subscriptions.title"), bold=True))
        buttons = []
        for sub in subs:
            label = await _target_label(session, ctx.locale, sub)
            builder.line(f"• {label}: ", _kinds_line(ctx.locale, sub.event_kinds, sub.mode))
            text = t(ctx.locale, "chat.subscriptions.drop", target=label)
            buttons.append((Button(text[:60], f"unsub:s:{sub.id}"),))
    if muted:
        builder.paragraph().line(Span(t(ctx.locale, "chat.subscriptions.muted"), bold=True))
        for official_id, name in muted:
            builder.line(f"• {name}")
            buttons.append(
                (
                    Button(
                        t(ctx.locale, "chat.unmute.button", name=name)[:60], f"unmute:{official_id}"
                    ),
                )
            )
    return builder.build(buttons=tuple(buttons))


@command("mute", changes_chat=True, listed=False)
async def cmd_mute(ctx: CommandContext) -> Reply:
    """Stop alerts about one official in this chat (the alert's "mute" button)."""
    if not ctx.args:
        return usage(ctx, "mute")
    async with ctx.db.sessions() as session:
        official = await pick_official(session, ctx, " ".join(ctx.args), retry="/mute {id}")
        if isinstance(official, Reply):
            return official
        if await session.get(Mute, (ctx.chat.id, official.id)) is None:
            session.add(Mute(chat_id=ctx.chat.id, official_id=official.id))
        audit(session, ctx.caller, "mute", target=f"official:{official.id}")
        await session.commit()
    button = Button(
        t(ctx.locale, "chat.unmute.button", name=official.name)[:60], f"unmute:{official.id}"
    )
    return Reply(
        blocks=Reply.text(t(ctx.locale, "chat.mute.done", name=official.name)).blocks,
        buttons=((button,),),
    )


@command("unmute", changes_chat=True, listed=False)
async def cmd_unmute(ctx: CommandContext) -> Reply:
    """Hear about a muted official again."""
    if not ctx.args:
        return usage(ctx, "unmute")
    async with ctx.db.sessions() as session:
        official = await pick_official(session, ctx, " ".join(ctx.args), retry="/unmute {id}")
        if isinstance(official, Reply):
            return official
        await session.execute(
            delete(Mute).where(Mute.chat_id == ctx.chat.id, Mute.official_id == official.id)
        )
        audit(session, ctx.caller, "unmute", target=f"official:{official.id}")
        await session.commit()
    return Reply.text(t(ctx.locale, "chat.unmute.done", name=official.name))


# --- /watch (editors) --------------------------------------------------------------------


@command("watch", editor_only=True)
async def cmd_watch(ctx: CommandContext) -> Reply:
    """Add or remove an official's account: ``/watch add <official> <platform> <handle>``."""
    if len(ctx.args) < 3 or ctx.args[0].lower() not in ("add", "remove"):
        return usage(ctx, "watch")
    sub, *name_words, platform_name, raw = ctx.args
    if sub.lower() == "remove" and not name_words:
        # "/watch remove telegram handle": the account alone identifies it.
        return await _watch_remove(ctx, None, platform_name, raw)
    if not name_words:
        return usage(ctx, "watch")
    if sub.lower() == "remove":
        return await _watch_remove(ctx, " ".join(name_words), platform_name, raw)
    return await _watch_add(ctx, " ".join(name_words), platform_name, raw)


async def _watch_add(ctx: CommandContext, name: str, platform_name: str, raw: str) -> Reply:
    platform = parse_platform(platform_name)
    if platform is Platform.HTML:
        return Reply.text(t(ctx.locale, "chat.watch.html_needs_roster"))
    handle = normalize_handle(platform, raw)
    if platform is Platform.RSS:
        _refuse_private_url(ctx, handle)
    async with ctx.db.sessions() as session:
        found = await find_officials(session, name)
        if len(found) > 1:
            return choices_reply(ctx.locale, found, retry=f"/watch add {{id}} {platform} {handle}")
        official = found[0] if found else await _new_official(session, name)
        stmt = select(Account).where(Account.platform == platform.value, Account.handle == handle)
        account = (await session.scalars(stmt)).first()
        if account is not None and account.official_id != official.id:
            owner = await session.get(Official, account.official_id)
            return Reply.text(
                t(ctx.locale, "chat.watch.taken", handle=handle, name=owner.name if owner else "?")
            )
        if account is None:
            url = canonical_url(platform, handle)
            account = Account(
                official_id=official.id, platform=platform.value, handle=handle, url=url
            )
            session.add(account)
        account.enabled, account.next_poll_at = True, utcnow()
        details = {"official": official.id, "created_official": not found}
        audit(
            session, ctx.caller, "watch_add", target=f"{platform.value}:{handle}", details=details
        )
        await session.commit()
    key = "chat.watch.added" if found else "chat.watch.added_new"
    return Reply.text(
        t(ctx.locale, key, name=official.name, platform=platform.value, handle=handle)
    )


def _refuse_private_url(ctx: CommandContext, url: str) -> None:
    """Refuse a feed on a private, loopback or metadata address before it is stored."""
    try:
        check_url(url, allow_private=ctx.settings.http.allow_private_networks)
    except FetchError as exc:  # the poller would refuse it too, but silently
        raise InvalidHandle(f"{url!r} cannot be watched: {exc}") from exc


async def _new_official(session: AsyncSession, name: str) -> Official:
    slug, n = make_slug(name), 1
    while (await session.scalar(select(Official.id).where(Official.slug == slug))) is not None:
        n += 1
        slug = f"{make_slug(name)[:190]}-{n}"
    official = Official(slug=slug, name=name, search_key=search_key([name]))
    session.add(official)
    await session.flush()
    return official


async def _watch_remove(
    ctx: CommandContext, name: str | None, platform_name: str, raw: str
) -> Reply:
    platform = parse_platform(platform_name)
    handle = normalize_handle(platform, raw)
    async with ctx.db.sessions() as session:
        stmt = select(Account).where(Account.platform == platform.value, Account.handle == handle)
        account = (await session.scalars(stmt)).first()
        official = await session.get(Official, account.official_id) if account else None
        if account is None or official is None or (name and not _names(official, name)):
            return Reply.text(
                t(ctx.locale, "chat.watch.no_account", platform=platform.value, handle=handle)
            )
        # Disabled, not deleted: its history stays in reports and can be re-enabled.
        account.enabled = False
        audit(session, ctx.caller, "watch_remove", target=f"{platform.value}:{handle}")
        await session.commit()
    return Reply.text(
        t(
            ctx.locale,
            "chat.watch.removed",
            name=official.name,
            platform=platform.value,
            handle=handle,
        )
    )


def _names(official: Official, query: str) -> bool:
    return query == f"#{official.id}" or matches(official.search_key, query_tokens(query))


# --- /watchlist --------------------------------------------------------------------------

_WATCHLIST_EDITS = frozenset({"create", "add", "remove", "delete"})


@command("watchlist")
async def cmd_watchlist(ctx: CommandContext) -> Reply:
    """Create watchlists and change their members (editors); list them (everyone)."""
    sub = ctx.args[0].lower() if ctx.args else "list"
    if sub in _WATCHLIST_EDITS and not ctx.is_editor:
        async with ctx.db.sessions() as session:
            audit(session, ctx.caller, "denied", target=f"/watchlist {sub}")
            await session.commit()
        return Reply.text(t(ctx.locale, "chat.auth.editors_only"))
    args = ctx.args[1:]
    match sub:
        case "list":
            return await _watchlist_list(ctx, " ".join(args))
        case "create" if args:
            return await _watchlist_create(ctx, args[0], " ".join(args[1:]) or None)
        case "delete" if len(args) == 1:
            return await _watchlist_delete(ctx, args[0])
        case "add" | "remove" if len(args) >= 2:
            return await _watchlist_member(ctx, sub, args[0], " ".join(args[1:]))
    return usage(ctx, "watchlist")


async def _watchlist_list(ctx: CommandContext, name: str) -> Reply:
    async with ctx.db.sessions() as session:
        if name:
            watchlist = await find_watchlist(session, name)
            if watchlist is None:
                return Reply.text(t(ctx.locale, "chat.watchlist.unknown", name=name))
            rows = (
                await session.scalars(
                    select(Official.name)
                    .join(WatchlistMember, WatchlistMember.official_id == Official.id)
                    .where(WatchlistMember.watchlist_id == watchlist.id)
                    .order_by(Official.name)
                )
            ).all()
            builder = ReplyBuilder().line(Span(watchlist.title or watchlist.name, bold=True))
            for member in rows:
                builder.line(f"• {member}")
            if not rows:
                builder.line(t(ctx.locale, "chat.watchlist.no_members"))
            return builder.build()
        counts = (
            await session.execute(
                select(Watchlist.name, Watchlist.title, func.count(WatchlistMember.official_id))
                .outerjoin(WatchlistMember, WatchlistMember.watchlist_id == Watchlist.id)
                .group_by(Watchlist.id, Watchlist.name, Watchlist.title)
                .order_by(Watchlist.name)
            )
        ).all()
    if not counts:
        return Reply.text(t(ctx.locale, "chat.watchlist.none"))
    header = (t(ctx.locale, "chat.watchlist.col_name"), t(ctx.locale, "chat.watchlist.col_members"))
    rows_out = tuple((wl_name, format_number(n, ctx.locale)) for wl_name, _title, n in counts)
    table = Table(
        header=header, rows=rows_out, align=("l", "r"), title=t(ctx.locale, "chat.watchlist.title")
    )
    return ReplyBuilder().table(table).build()


async def _watchlist_create(ctx: CommandContext, name: str, title: str | None) -> Reply:
    if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 100:
        return usage(ctx, "watchlist")
    async with ctx.db.sessions() as session:
        if await find_watchlist(session, name) is not None:
            return Reply.text(t(ctx.locale, "chat.watchlist.exists", name=name))
        session.add(Watchlist(name=name, title=title))
        audit(session, ctx.caller, "watchlist_create", target=name)
        await session.commit()
    return Reply.text(t(ctx.locale, "chat.watchlist.created", name=name))


async def _watchlist_delete(ctx: CommandContext, name: str) -> Reply:
    async with ctx.db.sessions() as session:
        watchlist = await find_watchlist(session, name)
        if watchlist is None:
            return Reply.text(t(ctx.locale, "chat.watchlist.unknown", name=name))
        await session.execute(
            delete(Subscription).where(
                Subscription.target_type == "watchlist", Subscription.target_id == watchlist.id
            )
        )
        await session.delete(watchlist)
        audit(session, ctx.caller, "watchlist_delete", target=name)
        await session.commit()
    return Reply.text(t(ctx.locale, "chat.watchlist.deleted", name=name))


async def _watchlist_member(ctx: CommandContext, sub: str, name: str, who: str) -> Reply:
    async with ctx.db.sessions() as session:
        watchlist = await find_watchlist(session, name)
        if watchlist is None:
            return Reply.text(t(ctx.locale, "chat.watchlist.unknown", name=name))
        official = await pick_official(session, ctx, who, retry=f"/watchlist {sub} {name} {{id}}")
        if isinstance(official, Reply):
            return official
        member = await session.get(WatchlistMember, (watchlist.id, official.id))
        if sub == "add" and member is None:
            session.add(WatchlistMember(watchlist_id=watchlist.id, official_id=official.id))
        elif sub == "remove" and member is not None:
            await session.delete(member)
        audit(
            session, ctx.caller, f"watchlist_{sub}", target=name, details={"official": official.id}
        )
        await session.commit()
    return Reply.text(
        t(ctx.locale, f"chat.watchlist.{_PAST[sub]}", name=name, official=official.name)
    )


# --- /settings (editors) -----------------------------------------------------------------


@command("settings", editor_only=True)
async def cmd_settings(ctx: CommandContext) -> Reply:
    """Show detection thresholds, or change one for a watchlist."""
    if not ctx.args:
        return await _settings_show(ctx)
    if len(ctx.args) != 3 or ctx.args[1] not in WATCHLIST_SETTINGS:
        return usage(ctx, "settings")
    name, key, raw = ctx.args
    try:
        value = _setting_value(key, raw)
    except ValueError:
        return usage(ctx, "settings")
    async with ctx.db.sessions() as session:
        watchlist = await find_watchlist(session, name)
        if watchlist is None:
            return Reply.text(t(ctx.locale, "chat.watchlist.unknown", name=name))
        column = "silent_after_s" if key == "silent_after" else key
        old = getattr(watchlist, column)
        setattr(watchlist, column, value)
        audit(
            session,
            ctx.caller,
            "settings",
            target=f"{name}.{key}",
            details={"old": old, "new": value},
        )
        await session.commit()
    shown = t(ctx.locale, "chat.settings.default") if value is None else raw
    return Reply.text(t(ctx.locale, "chat.settings.done", watchlist=name, key=key, value=shown))


def _setting_value(key: str, raw: str) -> int | float | None:
    if raw.lower() in ("default", "reset", "-"):
        return None
    kind = WATCHLIST_SETTINGS[key]
    if kind == "duration":
        seconds = int(parse_duration(raw).total_seconds())
        if seconds <= 0:
            raise ValueError(raw)
        return seconds
    number = float(raw.replace(",", ".")) if kind == "float" else int(raw)
    if number < 0:
        raise ValueError(raw)
    return number


async def _settings_show(ctx: CommandContext) -> Reply:
    detect = ctx.settings.detect
    loc = ctx.locale
    builder = ReplyBuilder().line(Span(t(loc, "chat.settings.title"), bold=True))
    builder.line(t(loc, "chat.settings.global"))
    builder.line(f"silent_after = {format_duration(detect.silent_after, loc)}")
    builder.line(f"follower_change_percent = {format_number(detect.follower_change_percent, loc)}")
    builder.line(f"follower_change_min = {format_number(detect.follower_change_min, loc)}")
    async with ctx.db.sessions() as session:
        lists = (await session.scalars(select(Watchlist).order_by(Watchlist.name))).all()
    for wl in lists:
        overrides = []
        if wl.silent_after_s is not None:
            overrides.append(
                f"silent_after = {format_duration(timedelta(seconds=wl.silent_after_s), loc)}"
            )
        if wl.follower_change_percent is not None:
            overrides.append(
                f"follower_change_percent = {format_number(wl.follower_change_percent, loc)}"
            )
        if wl.follower_change_min is not None:
            overrides.append(f"follower_change_min = {format_number(wl.follower_change_min, loc)}")
        if overrides:
            builder.paragraph().line(Span(wl.name, bold=True))
            for item in overrides:
                builder.line(item)
    builder.paragraph().line(t(loc, "chat.usage_prefix") + " " + t(loc, "chat.usage.settings"))
    return builder.build()


# --- /editor (editors) -------------------------------------------------------------------


@command("editor", editor_only=True)
async def cmd_editor(ctx: CommandContext) -> Reply:
    """Add, remove or list editors (those added in chat; config editors stay)."""
    sub = ctx.args[0].lower() if ctx.args else ""
    if sub == "list" and len(ctx.args) == 1:
        return await _editor_list(ctx)
    if sub not in ("add", "remove") or len(ctx.args) != 2:
        return usage(ctx, "editor")
    user = ctx.args[1].removeprefix("@")
    async with ctx.db.sessions() as session:
        stmt = select(Editor).where(Editor.backend == ctx.caller.backend, Editor.user_id == user)
        row = (await session.scalars(stmt)).first()
        if sub == "add" and row is None:
            session.add(
                Editor(backend=ctx.caller.backend, user_id=user, added_by=editor_key(ctx.caller))
            )
        elif sub == "remove" and row is not None:
            await session.delete(row)
        audit(session, ctx.caller, f"editor_{sub}", target=user)
        await session.commit()
    return Reply.text(t(ctx.locale, f"chat.editor.{_PAST[sub]}", user=user))


async def _editor_list(ctx: CommandContext) -> Reply:
    async with ctx.db.sessions() as session:
        rows = (
            await session.scalars(
                select(Editor.user_id)
                .where(Editor.backend == ctx.caller.backend)
                .order_by(Editor.user_id)
            )
        ).all()
    configured = (
        [str(u) for u in ctx.settings.telegram.editors]
        if ctx.caller.backend == "telegram"
        else list(ctx.settings.slack.editors)
        if ctx.caller.backend == "slack"
        else []
    )
    builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.editor.title"), bold=True))
    for user in configured:
        builder.line(f"• {user} ", Span(t(ctx.locale, "chat.editor.from_config"), italic=True))
    for user in rows:
        builder.line(f"• {user}")
    if not configured and not rows:
        builder.line(t(ctx.locale, "chat.editor.none"))
    return builder.build()
