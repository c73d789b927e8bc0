"""/evidence: the evidence file of one post, for anyone in any chat.

``/evidence <post link>``, ``/evidence <official> [platform] <post id or link>``, or
``/evidence =<event id>`` (the ``ev:`` button under a post alert) answer with one ZIP
attachment holding ``evidence-<platform>-<post id>.json`` and ``.html``: a reply carries
one attachment, and Telegram's sendDocument and Slack's files.upload both take a ZIP,
so one archive is the one answer that works alike everywhere. ``/evidence post:<row>`` is
what a choice button runs when several stored posts match.

Anyone may ask: the file holds only what the official published and what govwatch
saw of it (versions, fragments, times, the alerts' payloads), never which chats were
alerted or anything else about a chat, so a chat that did not get the alert learns
nothing private by asking.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import command_action
from bot.commands.context import CommandContext, CommandSpec
from bot.commands.report_common import chat_zone, moment_text, platform_name, report_now, web_link
from bot.commands.targets import pick_official
from bot.errors import InvalidHandle
from bot.handles import parse_platform
from bot.i18n import format_number, t
from bot.names import localized_name
from bot.reply import Attachment, Button, Reply, ReplyBuilder, Span
from bot.reports.evidence import (
    Choices,
    EvidenceFiles,
    Found,
    NoEvent,
    NoPost,
    NotWatched,
    Resolution,
    find_by_event,
    find_by_id,
    find_by_link,
    find_by_row,
    load_evidence,
    parse_time,
)
from bot.reports.post_links import InvalidLink, looks_like_link
from bot.store.evidence import PostRef, official_accounts
from bot.store.models import Official

#: Characters of a typed link repeated in an answer.
LINK_SHOWN = 200
_ROW = "post:"


def _usage(ctx: CommandContext) -> Reply:
    prefix = t(ctx.locale, "chat.usage_prefix")
    return Reply.text(f"{prefix} {t(ctx.locale, 'help.syntax.evidence')}")


def _bad_link(ctx: CommandContext, text: str) -> Reply:
    return Reply.text(
        t(ctx.locale, "evidence.bad_link", text=text[:LINK_SHOWN]),
        f"{t(ctx.locale, 'chat.usage_prefix')} {t(ctx.locale, 'help.syntax.evidence')}",
    )


def _split_platform(words: Sequence[str]) -> tuple[list[str], str | None]:
    """The official's words and a platform named last among them (``Musin telegram``)."""
    rest = list(words)
    if len(rest) > 1:
        try:
            return rest[:-1], parse_platform(rest[-1]).value
        except InvalidHandle:
            pass
    return rest, None


async def _resolve(
    session: AsyncSession, ctx: CommandContext, args: Sequence[str]
) -> tuple[Resolution, Official | None] | Reply:
    """What the words name: a post, choices, or why none; or a reply (usage, choices)."""
    if len(args) == 1:
        word = args[0]
        if word.startswith("=") and len(word) > 1:
            return await find_by_event(session, word[1:]), None
        if word.startswith(_ROW):
            return await find_by_row(session, word.removeprefix(_ROW)), None
        if not looks_like_link(word):
            return _bad_link(ctx, word)
        return await find_by_link(session, word), None
    words, platform = _split_platform(args[:-1])
    query = " ".join(words)
    rest = f"{platform + ' ' if platform else ''}{args[-1]}".replace("{", "{{").replace("}", "}}")
    retry = "/evidence {id} " + rest
    official = await pick_official(session, ctx, query, retry=retry)
    if isinstance(official, Reply):
        return official
    return await find_by_id(session, official.id, args[-1], platform=platform), official


async def cmd_evidence(ctx: CommandContext) -> Reply:
    """The evidence file (JSON + HTML in one ZIP) of the post the words name."""
    if not ctx.args:
        return _usage(ctx)
    async with ctx.db.sessions() as session:
        try:
            resolved = await _resolve(session, ctx, ctx.args)
        except InvalidLink:
            return _bad_link(ctx, ctx.args[-1])
        if isinstance(resolved, Reply):
            return resolved
        found, official = resolved
        if isinstance(found, Choices):
            return _choices(ctx, found.posts)
        if not isinstance(found, Found):
            return await _miss(session, ctx, found, official)
        files = await load_evidence(
            session, found.post, generated_at=report_now(ctx), locale=ctx.locale,
            tz=chat_zone(ctx),
        )  # fmt: skip
    if files is None:
        return Reply.text(t(ctx.locale, "evidence.gone"))
    return files_reply(ctx, files)


def _choices(ctx: CommandContext, posts: Sequence[PostRef]) -> Reply:
    builder = ReplyBuilder().line(t(ctx.locale, "evidence.choose"))
    buttons = []
    for post in posts[:10]:
        platform = platform_name(ctx.locale, post.platform)
        label = f"{platform} · {post.handle} · {post.platform_post_id}"
        builder.line(Span("• "), Span(label, link=web_link(post.url)))
        buttons.append((Button(label[:60], command_action(f"/evidence {_ROW}{post.id}")),))
    return builder.build(buttons=tuple(buttons))


async def _miss(
    session: AsyncSession, ctx: CommandContext, miss: Resolution, official: Official | None
) -> Reply:
    loc = ctx.locale
    typed = ctx.args[-1][:LINK_SHOWN]
    if isinstance(miss, NoEvent):
        return Reply.text(t(loc, "evidence.no_event", event=miss.event_id[:40]))
    if official is not None and not looks_like_link(ctx.args[-1]):
        return await _official_miss(session, ctx, miss, official)
    if isinstance(miss, NotWatched):
        if miss.handle:
            platform = platform_name(loc, miss.platform)
            text = t(loc, "evidence.not_watched_account", link=typed, handle=miss.handle,
                     platform=platform)  # fmt: skip
        elif miss.platform:
            text = t(loc, "evidence.not_watched_platform", link=typed,
                     platform=platform_name(loc, miss.platform))  # fmt: skip
        else:
            text = t(loc, "evidence.not_watched_site", link=typed, host=miss.host or "?")
        return Reply.text(text)
    assert isinstance(miss, NoPost)
    if miss.account is not None:
        return Reply.text(t(loc, "evidence.no_post_account", link=typed,
                            handle=miss.account.handle,
                            platform=platform_name(loc, miss.account.platform)))  # fmt: skip
    where = platform_name(loc, miss.platform) if miss.platform else _host(typed)
    return Reply.text(t(loc, "evidence.no_post_platform", link=typed, platform=where))


def _host(link: str) -> str:
    head = link.split("://", 1)[-1]
    return head.split("/", 1)[0] or link


def _official_not_watched(ctx: CommandContext, miss: NotWatched, official: Official) -> Reply:
    name = localized_name(official, ctx.locale)
    if miss.platform:
        platform = platform_name(ctx.locale, miss.platform)
        return Reply.text(t(ctx.locale, "evidence.not_watched_official_on", name=name,
                            platform=platform))  # fmt: skip
    return Reply.text(t(ctx.locale, "evidence.not_watched_official", name=name))


async def _official_miss(
    session: AsyncSession, ctx: CommandContext, miss: Resolution, official: Official
) -> Reply:
    if isinstance(miss, NotWatched):
        return _official_not_watched(ctx, miss, official)
    accounts = await official_accounts(session, official.id)
    listed = ", ".join(f"{platform_name(ctx.locale, a.platform)} {a.handle}" for a in accounts)
    return Reply.text(
        t(ctx.locale, "evidence.no_post_id", name=localized_name(official, ctx.locale),
          post_id=ctx.args[-1][:LINK_SHOWN], accounts=listed or "—")
    )  # fmt: skip


def files_reply(ctx: CommandContext, files: EvidenceFiles) -> Reply:
    """The answer carrying the evidence archive, with what it says in a few lines."""
    loc, doc = ctx.locale, files.document
    post = doc["post"]
    name = doc["official"]["names"].get(loc) or doc["official"]["name"]
    platform = platform_name(loc, doc["account"]["platform"])
    caption = t(loc, "evidence.caption", name=name, platform=platform, post_id=post["post_id"])
    builder = ReplyBuilder().line(Span(caption, bold=True))
    if post["url"]:
        url = str(post["url"])
        builder.line(Span(t(loc, "evidence.link_label") + " "), Span(url, link=web_link(url)))
    builder.line(
        t(loc, "evidence.versions_line", count=format_number(post["versions"], loc),
          published=_moment(ctx, post["published_at"]))
    )  # fmt: skip
    if post["deleted"]:
        last = _moment(ctx, post["last_seen_at"])
        if post["first_missed_at"]:
            missed = _moment(ctx, post["first_missed_at"])
            builder.line(t(loc, "evidence.deleted_line", last=last, missed=missed))
        else:
            builder.line(t(loc, "evidence.deleted_line_unknown", last=last))
    builder.line(_check_line(loc, files))
    builder.line(t(loc, "evidence.files", json=files.json_name, html=files.html_name))
    attachment = Attachment(files.zip(), files.zip_name, "application/zip", caption)
    return builder.build(attachment=attachment, summary=caption)


def _check_line(loc: str, files: EvidenceFiles) -> str:
    failed = files.failed_versions
    if failed:
        return t(loc, "evidence.check_failed", versions=", ".join(str(v) for v in failed))
    if files.document["integrity"]["status"] == "ok":
        return t(loc, "evidence.check_ok")
    return t(loc, "evidence.check_unverified")


def _moment(ctx: CommandContext, value: object) -> str:
    parsed = parse_time(value)
    return moment_text(ctx, parsed) if parsed else t(ctx.locale, "evidence.html.unknown")


COMMANDS = (CommandSpec("evidence", cmd_evidence),)
