"""What editors keep: /watch (accounts), /watchlist, /settings (thresholds), /editor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.commands.auth import audit, editor_key
from bot.commands.context import CommandContext, CommandSpec, usage
from bot.commands.keywords import cmd_watchlist_words, watchwords_line
from bot.commands.parsing import subcommand
from bot.commands.targets import choices_reply, pick_official
from bot.config import parse_duration
from bot.domain import Platform
from bot.errors import FetchError, InvalidHandle
from bot.handles import account_url, normalize_handle, parse_platform
from bot.i18n import format_duration, format_number, t
from bot.names import localized_name, matches, query_tokens
from bot.net.guard import check_url
from bot.reply import Reply, ReplyBuilder, Span, Table
from bot.roster import make_slug
from bot.store.editors import editor_ids, set_editor
from bot.store.models import Official
from bot.store.officials import (
    add_official,
    disable_account,
    find_account,
    find_officials,
    get_official,
    watch_account,
)
from bot.store.watchlists import (
    all_watchlists,
    create_watchlist,
    delete_watchlist,
    find_watchlist,
    member_counts,
    member_names,
    set_member,
    set_threshold,
)

_PAST = {"add": "added", "remove": "removed"}
#: Detection thresholds an editor may override per watchlist (column, kind of value).
WATCHLIST_SETTINGS: Mapping[str, str] = {
    "silent_after": "duration",
    "follower_change_percent": "float",
    "follower_change_min": "int",
}

# --- /watch ------------------------------------------------------------------------------


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
        official = found[0] if found else await add_official(session, name, make_slug(name))
        account = await find_account(session, platform.value, handle)
        if account is not None and account.official_id != official.id:
            owner = await get_official(session, account.official_id)
            return Reply.text(
                t(ctx.locale, "chat.watch.taken", handle=handle, name=owner.name if owner else "?")
            )
        watch_account(session, account, official_id=official.id, platform=platform.value,
                      handle=handle, url=account_url(platform, raw, handle))  # fmt: skip
        details = {"official": official.id, "created_official": not found}
        audit(
            session, ctx.caller, "watch_add", target=f"{platform.value}:{handle}", details=details
        )
        await session.commit()
    key = "chat.watch.added" if found else "chat.watch.added_new"
    return Reply.text(
        t(
            ctx.locale,
            key,
            name=localized_name(official, ctx.locale),
            platform=platform.value,
            handle=handle,
        )
    )


def _refuse_private_url(ctx: CommandContext, url: str) -> None:
    """Refuse a feed on a private, loopback or metadata address before it is stored."""
    try:
        check_url(url, allow_private=ctx.settings.http.allow_private_networks)
    except FetchError as exc:  # the poller would refuse it too, but silently
        raise InvalidHandle(f"{url!r} cannot be watched: {exc}") from exc


async def _watch_remove(
    ctx: CommandContext, name: str | None, platform_name: str, raw: str
) -> Reply:
    platform = parse_platform(platform_name)
    handle = normalize_handle(platform, raw)
    async with ctx.db.sessions() as session:
        account = await find_account(session, platform.value, handle)
        official = await get_official(session, account.official_id) if account else None
        if account is None or official is None or (name and not _names(official, name)):
            return Reply.text(
                t(ctx.locale, "chat.watch.no_account", platform=platform.value, handle=handle)
            )
        # Disabled, not deleted: its history stays in reports and can be re-enabled.
        disable_account(account)
        audit(session, ctx.caller, "watch_remove", target=f"{platform.value}:{handle}")
        await session.commit()
    return Reply.text(t(ctx.locale, "chat.watch.removed", name=localized_name(official, ctx.locale),
                        platform=platform.value, handle=handle))  # fmt: skip


def _names(official: Official, query: str) -> bool:
    return query == f"#{official.id}" or matches(official.search_key, query_tokens(query))


# --- /watchlist --------------------------------------------------------------------------

_WATCHLIST_EDITS = frozenset({"create", "add", "remove", "delete"})


async def cmd_watchlist(ctx: CommandContext) -> Reply:
    """Create watchlists and change their members (editors); list them (everyone)."""
    sub = subcommand(ctx.args, "list")
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
        case "words" if args:
            return await cmd_watchlist_words(ctx, args[0], args[1:])
    return usage(ctx, "watchlist")


async def _watchlist_list(ctx: CommandContext, name: str) -> Reply:
    async with ctx.db.sessions() as session:
        if name:
            watchlist = await find_watchlist(session, name)
            if watchlist is None:
                return Reply.text(t(ctx.locale, "chat.watchlist.unknown", name=name))
            rows = await member_names(session, watchlist.id)
            builder = ReplyBuilder().line(Span(watchlist.title or watchlist.name, bold=True))
            for member in rows:
                builder.line(f"• {member}")
            if not rows:
                builder.line(t(ctx.locale, "chat.watchlist.no_members"))
            marked = await watchwords_line(session, ctx.locale, watchlist.id)
            if marked:
                builder.paragraph().line(marked)
            return builder.build()
        counts = await member_counts(session)
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
        create_watchlist(session, name, title)
        audit(session, ctx.caller, "watchlist_create", target=name)
        await session.commit()
    return Reply.text(t(ctx.locale, "chat.watchlist.created", name=name))


async def _watchlist_delete(ctx: CommandContext, name: str) -> Reply:
    async with ctx.db.sessions() as session:
        watchlist = await find_watchlist(session, name)
        if watchlist is None:
            return Reply.text(t(ctx.locale, "chat.watchlist.unknown", name=name))
        await delete_watchlist(session, watchlist)
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
        await set_member(session, watchlist.id, official.id, present=sub == "add")
        audit(
            session, ctx.caller, f"watchlist_{sub}", target=name, details={"official": official.id}
        )
        await session.commit()
    return Reply.text(
        t(
            ctx.locale,
            f"chat.watchlist.{_PAST[sub]}",
            name=name,
            official=localized_name(official, ctx.locale),
        )
    )


# --- /settings ---------------------------------------------------------------------------


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
        old = set_threshold(watchlist, column, value)
        audit(session, ctx.caller, "settings", target=f"{name}.{key}",
              details={"old": old, "new": value})  # fmt: skip
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
    detect, loc = ctx.settings.detect, ctx.locale
    builder = ReplyBuilder().line(Span(t(loc, "chat.settings.title"), bold=True))
    builder.line(t(loc, "chat.settings.global"))
    builder.line(f"silent_after = {format_duration(detect.silent_after, loc)}")
    builder.line(f"follower_change_percent = {format_number(detect.follower_change_percent, loc)}")
    builder.line(f"follower_change_min = {format_number(detect.follower_change_min, loc)}")
    async with ctx.db.sessions() as session:
        lists = await all_watchlists(session)
    for wl in lists:
        overrides = []
        if wl.silent_after_s is not None:
            silent = format_duration(timedelta(seconds=wl.silent_after_s), loc)
            overrides.append(f"silent_after = {silent}")
        if wl.follower_change_percent is not None:
            percent = format_number(wl.follower_change_percent, loc)
            overrides.append(f"follower_change_percent = {percent}")
        if wl.follower_change_min is not None:
            overrides.append(f"follower_change_min = {format_number(wl.follower_change_min, loc)}")
        if overrides:
            builder.paragraph().line(Span(wl.name, bold=True))
            for item in overrides:
                builder.line(item)
    builder.paragraph().line(t(loc, "chat.usage_prefix") + " " + t(loc, "chat.usage.settings"))
    return builder.build()


# --- /editor -----------------------------------------------------------------------------


async def cmd_editor(ctx: CommandContext) -> Reply:
    """Add, remove or list editors (those added in chat; config editors stay)."""
    sub = subcommand(ctx.args)
    if sub == "list" and len(ctx.args) == 1:
        return await _editor_list(ctx)
    if sub not in ("add", "remove") or len(ctx.args) != 2:
        return usage(ctx, "editor")
    user = ctx.args[1].removeprefix("@")
    async with ctx.db.sessions() as session:
        await set_editor(session, ctx.caller.backend, user, present=sub == "add",
                         added_by=editor_key(ctx.caller))  # fmt: skip
        audit(session, ctx.caller, f"editor_{sub}", target=user)
        await session.commit()
    return Reply.text(t(ctx.locale, f"chat.editor.{_PAST[sub]}", user=user))


def _configured_editors(ctx: CommandContext) -> list[str]:
    if ctx.caller.backend == "telegram":
        return [str(u) for u in ctx.settings.telegram.editors]
    if ctx.caller.backend == "slack":
        return list(ctx.settings.slack.editors)
    return []


async def _editor_list(ctx: CommandContext) -> Reply:
    async with ctx.db.sessions() as session:
        rows = await editor_ids(session, ctx.caller.backend)
    configured = _configured_editors(ctx)
    builder = ReplyBuilder().line(Span(t(ctx.locale, "chat.editor.title"), bold=True))
    for user in configured:
        builder.line(f"• {user} ", Span(t(ctx.locale, "chat.editor.from_config"), italic=True))
    for user in rows:
        builder.line(f"• {user}")
    if not configured and not rows:
        builder.line(t(ctx.locale, "chat.editor.none"))
    return builder.build()


COMMANDS = (
    CommandSpec("watch", cmd_watch, editor_only=True),
    CommandSpec("watchlist", cmd_watchlist),
    CommandSpec("settings", cmd_settings, editor_only=True),
    CommandSpec("editor", cmd_editor, editor_only=True),
)
