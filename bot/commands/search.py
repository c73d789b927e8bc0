"""/search: every stored post version found by its words, counted per official, paged.

``/search <words or "a phrase"> [-word] [period] [watchlist | official] [platform]``. The
words are matched in any form by ``bot.store.search`` (the same answer on SQLite and
PostgreSQL); edited posts are found in every version they had, deleted ones too, and
each is marked. Newest first, or ``by:relevance`` (a score computed the same way for both
databases, ``bot.store.search.relevance``; the engines' own ranks differ). An answer
counts at most ``COUNT_CAP`` matches, the ones stored last, and says "more than" when
there are more. A period (``30d``) and a platform name are always
read as filters; ``#12``, a watchlist's name, or an official's name at the end (whole
words of one official's name: ``/search тариф Мусин``) narrow the search to them; a name
alone or first is searched for (``/search Мусин``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.actions import command_action, evidence_action
from bot.commands.context import CommandContext, CommandSpec
from bot.commands.parsing import split_command
from bot.commands.report_common import (
    moment_text,
    period_text,
    platform_name,
    report_now,
    web_link,
)
from bot.commands.targets import choices_reply
from bot.domain import Platform
from bot.i18n import format_number, plural, t
from bot.names import localized_name, query_tokens
from bot.reply import Button, Line, Reply, ReplyBuilder, Span
from bot.reports.scope import parse_period, period_label
from bot.store.models import Official, Watchlist
from bot.store.officials import find_officials
from bot.store.search import (
    COUNT_CAP,
    Filters,
    Hit,
    Query,
    SearchPage,
    Tally,
    evidence_events,
    load_hits,
    occurrences,
    official_names,
    parse_query,
    save_search,
    saved_search,
    search_page,
)
from bot.store.watchlists import find_watchlist

PAGE_SIZE = 10
#: Characters of a post shown around its first match.
SNIPPET = 240
#: Officials named in the counts line; the rest are counted.
TOP_OFFICIALS = 5
#: Evidence buttons per row.
BUTTONS_PER_ROW = 5
#: An official's name at the end of a search is at most this many words.
_NAME_WORDS = 3
_PAGE = re.compile(r"^page:(\d{1,6})$")
#: ``by:relevance`` or ``by:newest`` (the default) anywhere in a search.
_ORDER = re.compile(r"^by:(newest|relevance)$")
_SAVED = re.compile(r"^=(\d{1,9})$")
_OFFICIAL_ID = re.compile(r"^#\d{1,10}$")
_PLATFORMS = frozenset(p.value for p in Platform)
_SPACE = re.compile(r"\s+")


@dataclass(slots=True)
class SearchRequest:
    """A /search's arguments sorted: query parts, filters and the page asked for."""

    parts: list[str] = field(default_factory=list)
    period: timedelta | None = None
    platform: str | None = None
    official: Official | None = None
    watchlist: Watchlist | None = None
    page: int = 1
    order: str = "newest"

    def command(self) -> str:
        """The arguments as a command line (without the page), filters in a fixed order."""
        words = [quoted(p) for p in self.parts]
        if self.period is not None:
            words.append(period_label(self.period))
        if self.official is not None:
            words.append(f"#{self.official.id}")
        elif self.watchlist is not None:
            words.append(quoted(self.watchlist.name))
        if self.platform is not None:
            words.append(self.platform)
        if self.order != "newest":
            words.append(f"by:{self.order}")
        return " ".join(words)

    def filters(self, ctx: CommandContext) -> Filters:
        """What narrows the search besides its words."""
        return Filters(
            since=report_now(ctx) - self.period if self.period else None,
            official_ids=(self.official.id,) if self.official else None,
            watchlist_id=self.watchlist.id if self.watchlist else None,
            platform=self.platform,
        )


def quoted(part: str) -> str:
    """``part`` as one argument of a command line (quoted when it has spaces or quotes)."""
    if not re.search(r"[\s\"'«»“”„]", part):
        return part
    return f'"{part}"' if '"' not in part else shlex.quote(part)


def sort_words(args: Sequence[str]) -> tuple[SearchRequest, str | None]:
    """Page, period, platform and ``#id`` taken out of ``args``; the rest kept in order."""
    request, official_ref = SearchRequest(), None
    for raw in args:
        word = raw.strip()
        low = word.lower()
        if not word:
            continue
        if page := _PAGE.match(low):
            request.page = max(1, int(page.group(1)))
        elif order := _ORDER.match(low):
            request.order = order.group(1)
        elif request.period is None and (period := parse_period(low)) is not None:
            request.period = period
        elif request.platform is None and low in _PLATFORMS:
            request.platform = low
        elif official_ref is None and _OFFICIAL_ID.match(word):
            official_ref = word
        else:
            request.parts.append(word)
    return request, official_ref


async def _expand(session: AsyncSession, args: list[str]) -> list[str] | None:
    """``=12 page:2`` (a saved search) as the arguments it stands for; None when gone."""
    if not args or not _SAVED.match(args[0]):
        return args
    saved = await saved_search(await session.connection(), int(args[0][1:]))
    if saved is None:
        return None
    return split_command(f"/search {saved}")[1] + args[1:]


def _whole_name(official: Official, tokens: list[str]) -> bool:
    """Every token is a whole word of one of the official's names."""
    return any(
        all(tok in name.split() for tok in tokens) for name in official.search_key.split("|")
    )


async def _scope(
    session: AsyncSession, ctx: CommandContext, request: SearchRequest, official_ref: str | None
) -> Reply | None:
    """Take the watchlist or official out of the parts (or ask which official was meant)."""
    if official_ref is not None:
        found = await find_officials(session, official_ref)
        if not found:
            return Reply.text(t(ctx.locale, "chat.not_found", query=official_ref))
        request.official = found[0]
        return None
    for index, part in enumerate(request.parts):
        if len(request.parts) > 1 and (wl := await find_watchlist(session, part)) is not None:
            request.watchlist = wl
            del request.parts[index]
            return None
    for size in range(min(_NAME_WORDS, len(request.parts) - 1), 0, -1):
        name = " ".join(request.parts[-size:])
        tokens = query_tokens(name)
        found = await find_officials(session, name)
        whole = [o for o in found if tokens and _whole_name(o, tokens)]
        if not whole:
            continue
        del request.parts[-size:]
        if len(whole) == 1:
            request.official = whole[0]
            return None
        # choices_reply fills "{id}" in with str.format: braces typed by the user stay.
        typed = request.command().replace("{", "{{").replace("}", "}}")
        return choices_reply(ctx.locale, whole, retry=f"/search {typed} {{id}}")
    return None


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of an answer: the counts, the hits shown and what their buttons need."""

    result: SearchPage
    hits: list[Hit]
    events: dict[int, int]
    names: dict[int, str]
    paging: str
    #: The same search in the other order, as a button's arguments.
    reorder: str


async def cmd_search(ctx: CommandContext) -> Reply:
    """Every stored post version with these words, newest first (or by relevance), counted."""
    if not ctx.args:
        return Reply.text(_usage(ctx))
    async with ctx.db.sessions() as session:
        args = await _expand(session, ctx.args)
        if args is None:
            return Reply.text(t(ctx.locale, "search.gone"))
        request, official_ref = sort_words(args)
        asked = await _scope(session, ctx, request, official_ref)
        if asked is not None:
            return asked
        query = parse_query(request.parts)
        if not query.include:
            return Reply.text(t(ctx.locale, "search.need_words"), _usage(ctx))
        conn = await session.connection()
        page = await _page(ctx, conn, request, query)
        await session.commit()
    if not page.result.tallies:
        scope = _scope_text(ctx, request)
        none = t(ctx.locale, "search.none", query=_query_text(request), scope=scope)
        return Reply.text(none, t(ctx.locale, "search.hint"))
    return _answer(ctx, request, query, page)


async def _page(
    ctx: CommandContext, conn: AsyncConnection, request: SearchRequest, query: Query
) -> _Page:
    result = await search_page(
        conn, query, request.filters(ctx), page=request.page, size=PAGE_SIZE,
        order=request.order, cap=COUNT_CAP,
    )  # fmt: skip
    hits = await load_hits(conn, result.version_ids)
    events = await evidence_events(conn, hits)
    top = [tally.official_id for tally in result.tallies[:TOP_OFFICIALS]]
    names = {i: localized_name(o, ctx.locale) for i, o in (await official_names(conn, top)).items()}
    paging = request.command()
    last = command_action(f"/search {paging} page:{result.pages}")
    if result.pages > 1 and len(last.encode()) > 64:
        paging = f"={await save_search(conn, paging)}"
    reorder = ""  # no order button for a single match
    if result.versions > 1:
        other = replace(request, order="newest" if request.order == "relevance" else "relevance")
        reorder = other.command()
        if len(command_action(f"/search {reorder}").encode()) > 64:
            reorder = f"={await save_search(conn, reorder)}"
    return _Page(result, hits, events, names, paging, reorder)


def _usage(ctx: CommandContext) -> str:
    return f"{t(ctx.locale, 'chat.usage_prefix')} {t(ctx.locale, 'search.usage')}"


def _query_text(request: SearchRequest) -> str:
    return " ".join(quoted(p) for p in request.parts)


def _scope_text(ctx: CommandContext, request: SearchRequest) -> str:
    loc = ctx.locale
    parts = []
    if request.official is not None:
        parts.append(localized_name(request.official, loc))
    elif request.watchlist is not None:
        parts.append(request.watchlist.name)
    if request.platform is not None:
        parts.append(platform_name(loc, request.platform))
    period = request.period
    parts.append(t(loc, "search.last", period=period_text(loc, period)) if period else
                 t(loc, "search.all_time"))  # fmt: skip
    return " · ".join(parts)


def _counted(locale: str, n: int, key: str) -> str:
    return f"{format_number(n, locale)}\u00a0{plural(locale, n, t(locale, key))}"


def _answer(ctx: CommandContext, request: SearchRequest, query: Query, page: _Page) -> Reply:
    loc = ctx.locale
    result = page.result
    builder = ReplyBuilder().line(
        f"{t(loc, 'search.title')} ", Span(_query_text(request), bold=True),
        f" · {_scope_text(ctx, request)}",
    )  # fmt: skip
    found = t(loc, "search.found" if result.complete else "search.found_more",
              posts=_counted(loc, result.posts, "search.posts"),
              officials=_counted(loc, len(result.tallies), "search.officials"),
              count=format_number(COUNT_CAP, loc))  # fmt: skip
    builder.line(Span(found, bold=True))
    if result.complete and result.versions > result.posts:
        builder.line(t(loc, "search.versions", count=format_number(result.versions, loc)))
    builder.line(_top_line(loc, result.tallies, page.names))
    first = (result.page - 1) * PAGE_SIZE + 1
    for number, hit in enumerate(page.hits, start=first):
        builder.paragraph()
        _hit_lines(ctx, builder, number, hit, query)
    builder.paragraph()
    if result.pages > 1:
        key = "search.page" if request.order == "newest" else "search.page_relevance"
        builder.line(Span(t(loc, key, page=result.page, pages=result.pages), italic=True))
    if not result.complete:
        capped = t(loc, "search.capped", count=format_number(COUNT_CAP, loc))
        builder.line(Span(capped, italic=True))
    evidence = _evidence_buttons(loc, page, first)
    if evidence:
        builder.line(Span(t(loc, "search.evidence_note"), italic=True))
    rows = [evidence[i : i + BUTTONS_PER_ROW] for i in range(0, len(evidence), BUTTONS_PER_ROW)]
    nav = _nav_buttons(loc, page, request.order)
    return builder.build(buttons=tuple(tuple(r) for r in (*rows, nav) if r), summary=found)


def _top_line(loc: str, tallies: Sequence[Tally], names: dict[int, str]) -> str:
    top = tallies[:TOP_OFFICIALS]
    text = " · ".join(
        t(loc, "search.by_official", name=names.get(x.official_id, f"#{x.official_id}"),
          count=format_number(x.posts, loc))
        for x in top
    )  # fmt: skip
    rest = len(tallies) - len(top)
    if rest > 0:
        text += " " + t(loc, "reports.and_more", count=format_number(rest, loc))
    return text


def _hit_lines(
    ctx: CommandContext, builder: ReplyBuilder, number: int, hit: Hit, query: Query
) -> None:
    loc = ctx.locale
    head: list[Span | str] = [f"{number}. ", Span(localized_name(hit, loc), bold=True)]
    head.append(f" · {platform_name(loc, hit.platform)} · {moment_text(ctx, hit.at)}")
    for mark in _marks(loc, hit):
        head.append(" · ")
        head.append(Span(mark, italic=True))
    builder.line(*head)
    builder.line(*snippet(hit.text, highlights(hit.text, query)))
    link = web_link(hit.url)
    if link:
        builder.line(Span(t(loc, "search.open"), link=link))


def _marks(loc: str, hit: Hit) -> list[str]:
    marks = []
    if hit.deleted:
        marks.append(t(loc, "search.deleted"))
    if hit.versions > 1:
        key = "search.edited" if hit.version == hit.versions else "search.earlier"
        marks.append(t(loc, key, version=hit.version, versions=hit.versions))
    return marks


def highlights(text: str, query: Query) -> list[tuple[int, int]]:
    """The character spans of ``text`` where the query's words and phrases occur, merged."""
    spans = sorted(s for clause in query.include for s in occurrences(text, clause))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, spans: Sequence[tuple[int, int]], width: int = SNIPPET) -> Line:
    """About ``width`` characters of ``text`` around its first match, matches in bold."""
    start = max(0, spans[0][0] - width // 4) if spans else 0
    if start > 0:
        space = text.find(" ", start, spans[0][0])
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", max(spans[0][1] if spans else start, start), end)
        end = space if space > start else end
    out: list[Span] = [Span("…")] if start > 0 else []
    cursor = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        if s > cursor:
            out.append(Span(_flat(text[cursor:s])))
        out.append(Span(_flat(text[s:e]), bold=True))
        cursor = e
    if cursor < end:
        out.append(Span(_flat(text[cursor:end])))
    if end < len(text):
        out.append(Span("…"))
    return tuple(out) or (Span(""),)


def _flat(piece: str) -> str:
    """One line: newlines and runs of spaces as single spaces."""
    return _SPACE.sub(" ", piece)


def _evidence_buttons(loc: str, page: _Page, first: int) -> list[Button]:
    buttons = []
    for number, hit in enumerate(page.hits, start=first):
        action = _evidence(hit, page.events.get(hit.version_id))
        if action is not None:
            buttons.append(Button(t(loc, "search.evidence", number=number), action))
    return buttons


def _nav_buttons(loc: str, page: _Page, order: str) -> list[Button]:
    nav, number = [], page.result.page
    newest = order == "newest"
    back, on = ("search.newer", "search.older") if newest else ("search.back", "search.on")
    if number > 1:
        nav.append(Button(t(loc, back), _page_action(page.paging, number - 1)))
    if number < page.result.pages:
        nav.append(Button(t(loc, on), _page_action(page.paging, number + 1)))
    if page.reorder:
        key = "search.by_relevance" if order == "newest" else "search.by_newest"
        nav.append(Button(t(loc, key), command_action(f"/search {page.reorder}")))
    return nav


def _page_action(paging: str, number: int) -> str:
    return command_action(f"/search {paging} page:{number}")


def _evidence(hit: Hit, event_id: int | None) -> str | None:
    """The evidence button of a hit: its event's, else ``/evidence <url>`` when it fits."""
    if event_id is not None:
        return evidence_action(event_id)
    if hit.url:
        action = command_action(f"/evidence {hit.url}")
        if len(action.encode()) <= 64:
            return action
    return None


COMMANDS = (CommandSpec("search", cmd_search),)
