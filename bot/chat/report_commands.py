"""Report commands: /top, /report, /official, /silent, /chart, /digest.

Each handler parses its words (any order), asks a query function of ``bot.reports`` for
plain dataclasses, and lays the answer out as a platform-neutral :class:`Reply`. Outside
text (names, handles, post excerpts) only ever goes into plain spans and table cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat.commands import choices_reply, find_watchlist
from bot.chat.context import CommandContext, command
from bot.chat.lookup import find_officials
from bot.clock import parse_time, zone
from bot.i18n import (
    format_datetime,
    format_duration,
    format_number,
    format_percent,
    t,
)
from bot.reply import Attachment, Reply, ReplyBuilder, Span, Table
from bot.reports import charts
from bot.reports.cabinet import CabinetReport, cabinet_report, report_csv, share_key
from bot.reports.card import AccountCard, OfficialCard, official_card
from bot.reports.leaderboard import Entry, Leaderboard, top
from bot.reports.scope import (
    AccountRow,
    OfficialRow,
    UnknownWatchlist,
    Words,
    load_scope,
    parse_words,
    period_label,
)
from bot.reports.silence import silent_officials
from bot.store.models import Chat

DEFAULT_TOP_LIMIT = 10
NAMES_LISTED = 25
EXCERPT = 120
_CACHE_KEY = "chart_cache"
#: Used when the app injects no cache: one per process is enough for a single bot.
_DEFAULT_CACHE = charts.ChartCache()


def _now(ctx: CommandContext) -> datetime:
    clock = ctx.services.get("clock")
    if callable(clock):
        value = clock()
        if isinstance(value, datetime):
            return value
    return datetime.now(UTC)


def _tz(ctx: CommandContext) -> str:
    return str(zone(ctx.chat.timezone, ctx.settings.i18n.timezone))


def _when(ctx: CommandContext, moment: datetime) -> str:
    return format_datetime(moment, ctx.locale, tz=_tz(ctx))


def _period_text(locale: str, period: timedelta) -> str:
    return format_duration(period, locale)


def _names(locale: str, officials: Sequence[OfficialRow], *, total: int | None = None) -> str:
    # ``total`` is how many there are when ``officials`` holds only the first ones.
    shown = [o.display(locale) for o in officials[:NAMES_LISTED]]
    text = ", ".join(shown)
    rest = max(len(officials) if total is None else total, len(officials)) - len(shown)
    if rest > 0:
        text += " " + t(locale, "reports.and_more", count=format_number(rest, locale))
    return text


def _platform_name(locale: str, platform: str | None) -> str:
    if platform is None:
        return t(locale, "reports.all_platforms")
    try:
        return t(locale, f"reports.platform.{platform}")
    except KeyError:
        return platform


def _scope_name(locale: str, watchlist: str | None) -> str:
    return watchlist if watchlist else t(locale, "reports.all_officials")


async def _watchlist_from(session: AsyncSession, words: Words) -> str | None:
    if not words.rest:
        return None
    name = " ".join(words.rest)
    found = await find_watchlist(session, name)
    if found is None:
        raise UnknownWatchlist(name)
    return found.name


def _unknown_watchlist(ctx: CommandContext, exc: UnknownWatchlist) -> Reply:
    return Reply.text(t(ctx.locale, "reports.unknown_watchlist", name=exc.name))


def _link(url: str | None) -> str | None:
    # Links come from outside (roster, platforms): only web links become clickable.
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _usage(ctx: CommandContext, name: str) -> Reply:
    prefix = t(ctx.locale, "chat.usage_prefix")
    return Reply.text(f"{prefix} {t(ctx.locale, f'reports.usage.{name}')}")


def _signed(locale: str, value: int | None) -> str:
    return "—" if value is None else format_number(value, locale, signed=True)


def _pct(locale: str, value: float | None) -> str:
    return "—" if value is None else format_percent(value, locale, signed=True)


def _count(locale: str, value: int | None) -> str:
    return "—" if value is None else format_number(value, locale)


# --- /top ------------------------------------------------------------------------------


@command("top")
async def cmd_top(ctx: CommandContext) -> Reply:
    """Leaderboard by followers, growth or posts; per platform and watchlist."""
    words = parse_words(ctx.args)
    metric = words.metric or "followers"
    period = words.period or timedelta(days=7)
    now = _now(ctx)
    async with ctx.db.sessions() as session:
        try:
            watchlist = await _watchlist_from(session, words)
        except UnknownWatchlist as exc:
            return _unknown_watchlist(ctx, exc)
        # A bare number is how many to show: "/top 20".
        limit = words.number or DEFAULT_TOP_LIMIT
        board = await top(session, metric=metric, platform=words.platform, period=period,
                          watchlist=watchlist, limit=limit, now=now)  # fmt: skip
    if board.empty:
        return Reply.text(t(ctx.locale, "reports.no_data"))
    reply = _top_reply(ctx, board)
    if "chart" in words.flags:
        png = await charts.in_thread(
            charts.render_bars_png,
            [e.official.display(ctx.locale) for e in board.entries],
            [e.value for e in board.entries],
            title=_top_title(ctx.locale, board),
            locale=ctx.locale,
            percent=metric == "percent",
            signed=metric in ("growth", "percent"),
        )
        attachment = Attachment(
            png, f"top-{metric}.png", "image/png", _top_title(ctx.locale, board)
        )
        return Reply(blocks=reply.blocks, attachment=attachment, summary=reply.summary)
    return reply


def _top_title(locale: str, board: Leaderboard) -> str:
    return t(
        locale,
        f"reports.top.title_{board.metric}",
        scope=_scope_name(locale, board.watchlist),
        platform=_platform_name(locale, board.platform),
        period=_period_text(locale, board.period),
    )


def _top_row(locale: str, board: Leaderboard, entry: Entry) -> tuple[str, ...]:
    mark = ("*" if entry.partial else "") + ("~" if entry.stale else "")
    name = entry.official.display(locale) + (f" {mark}" if mark else "")
    rank = str(entry.rank)
    if board.metric in ("growth", "percent"):
        return (rank, name, _signed(locale, entry.growth), _pct(locale, entry.growth_percent),
                _count(locale, entry.followers))  # fmt: skip
    if board.metric == "posts":
        return (rank, name, _count(locale, entry.posts))
    return (rank, name, _count(locale, entry.followers))


def _top_reply(ctx: CommandContext, board: Leaderboard) -> Reply:
    loc = ctx.locale
    header: tuple[str, ...]
    if board.metric in ("growth", "percent"):
        header = ("#", t(loc, "reports.col.official"), t(loc, "reports.col.growth"),
                  t(loc, "reports.col.percent"), t(loc, "reports.col.followers"))  # fmt: skip
    elif board.metric == "posts":
        header = ("#", t(loc, "reports.col.official"), t(loc, "reports.col.posts"))
    else:
        header = ("#", t(loc, "reports.col.official"), t(loc, "reports.col.followers"))
    rows = tuple(_top_row(loc, board, e) for e in board.entries)
    builder = ReplyBuilder().line(Span(_top_title(loc, board), bold=True))
    builder.table(Table(header=header, rows=rows, align=("r", "l", *("r" * (len(header) - 2)))))
    builder.paragraph()
    if board.ranked > len(board.entries):
        builder.line(t(loc, "reports.top.shown", shown=len(board.entries), total=board.ranked))
    if any(e.partial for e in board.entries):
        builder.line(t(loc, "reports.top.note_partial"))
    if any(e.stale for e in board.entries):
        builder.line(t(loc, "reports.top.note_stale"))
    if board.missing:
        names = _names(loc, board.missing, total=board.missing_count)
        builder.line(t(loc, "reports.top.missing", names=names))
    builder.line(Span(_methods(ctx, board.measured_at, board.unknown_accounts), italic=True))
    return builder.build(summary=_top_title(loc, board))


def _methods(ctx: CommandContext, measured: datetime, unknown: int) -> str:
    text = t(ctx.locale, "reports.measured", when=_when(ctx, measured))
    if unknown:
        text += " " + t(ctx.locale, "reports.unknown_sources", count=_count(ctx.locale, unknown))
    return text


# --- /report ---------------------------------------------------------------------------


@command("report")
async def cmd_report(ctx: CommandContext) -> Reply:
    """The cabinet report for a watchlist and platform; ``csv`` returns it as a file."""
    words = parse_words(ctx.args)
    period = words.period or timedelta(days=min(words.number or 7, 3660))
    async with ctx.db.sessions() as session:
        try:
            watchlist = await _watchlist_from(session, words)
        except UnknownWatchlist as exc:
            return _unknown_watchlist(ctx, exc)
        platform = words.platform.value if words.platform else None
        report = await cabinet_report(session, watchlist=watchlist, platform=platform,
                                      period=period, now=_now(ctx))  # fmt: skip
    if not report.lines or not report.has_data:
        return Reply.text(t(ctx.locale, "reports.no_data"))
    reply = _report_reply(ctx, report)
    if "csv" in words.flags:
        name = f"report-{report.watchlist or 'all'}-{platform or 'all'}-{period_label(period)}.csv"
        data = report_csv(report, locale=ctx.locale)
        attachment = Attachment(data, name, "text/csv", reply.summary)
        return Reply(blocks=reply.blocks, attachment=attachment, summary=reply.summary)
    return reply


def report_title(locale: str, report: CabinetReport) -> str:
    """The report's heading: scope, platform and period."""
    return t(
        locale,
        "reports.report.title",
        scope=_scope_name(locale, report.watchlist_title or report.watchlist),
        platform=_platform_name(locale, report.platform),
        period=_period_text(locale, report.period),
    )


def _report_reply(ctx: CommandContext, report: CabinetReport) -> Reply:
    loc = ctx.locale
    builder = ReplyBuilder().line(Span(report_title(loc, report), bold=True))
    presence_key = "reports.report.presence" if report.platform else "reports.report.presence_any"
    builder.line(t(loc, presence_key, n=_count(loc, report.n), m=_count(loc, report.m),
                   platform=_platform_name(loc, report.platform)))  # fmt: skip
    if report.n:
        builder.line(
            # The share is of all members, as the newspaper counted ("fewer than a third").
            t(loc, "reports.report.activity", k=_count(loc, report.k), m=_count(loc, report.m),
              period=_period_text(loc, report.period),
              share=t(loc, f"reports.{share_key(report.k, report.m)}"))
        )  # fmt: skip
    leaders = report.leaders()
    if leaders:
        builder.paragraph().line(Span(t(loc, "reports.report.leaders"), bold=True))
        rows = tuple(
            (line.official.display(loc) + (" *" if line.partial else ""),
             _count(loc, line.followers), _signed(loc, line.growth),
             _pct(loc, line.growth_percent))
            for line in leaders
        )  # fmt: skip
        header = (t(loc, "reports.col.official"), t(loc, "reports.col.followers"),
                  t(loc, "reports.col.growth"), t(loc, "reports.col.percent"))  # fmt: skip
        builder.table(Table(header=header, rows=rows, align=("l", "r", "r", "r")))
    builder.paragraph()
    for key, members in (
        ("reports.report.inactive", report.inactive),
        ("reports.report.unknown", report.unknown),
        ("reports.report.absent", report.absent),
    ):
        if members:
            builder.line(t(loc, key, count=_count(loc, len(members)), names=_names(loc, members),
                           platform=_platform_name(loc, report.platform)))  # fmt: skip
    if any(line.partial for line in leaders):
        builder.line(t(loc, "reports.top.note_partial"))
    sources = ", ".join(_platform_name(loc, p) for p in report.sources) or "—"
    methods = t(loc, "reports.report.methods", when=_when(ctx, report.measured_at),
                sources=sources)  # fmt: skip
    if report.unknown_accounts:
        methods += " " + t(
            loc, "reports.unknown_sources", count=_count(loc, report.unknown_accounts)
        )
    builder.line(Span(methods, italic=True))
    return builder.build(summary=report_title(loc, report))


# --- /official ---------------------------------------------------------------------------


@command("official")
async def cmd_official(ctx: CommandContext) -> Reply:
    """An official's card: accounts, followers, growth, last post, rhythm, source health."""
    query = " ".join(ctx.args).strip()
    if not query:
        return _usage(ctx, "official")
    async with ctx.db.sessions() as session:
        found = await find_officials(session, query)
        if not found:
            return Reply.text(t(ctx.locale, "chat.not_found", query=query))
        if len(found) > 1:
            return choices_reply(ctx.locale, found, retry="/official {id}")
        card = await official_card(session, found[0].id, now=_now(ctx))
    if card is None:
        return Reply.text(t(ctx.locale, "chat.not_found", query=query))
    return _card_reply(ctx, card)


def _card_reply(ctx: CommandContext, card: OfficialCard) -> Reply:
    loc = ctx.locale
    name = card.official.display(loc)
    builder = ReplyBuilder().line(Span(name, bold=True))
    role = ", ".join(x for x in (card.position, card.organisation) if x)
    if role:
        builder.line(role)
    if card.watchlists:
        builder.line(t(loc, "reports.card.watchlists", names=", ".join(card.watchlists)))
    if not card.accounts:
        builder.line(t(loc, "reports.card.no_accounts"))
    for account in card.accounts:
        builder.paragraph()
        _account_lines(ctx, builder, account)
    builder.paragraph().line(Span(t(loc, "reports.measured", when=_when(ctx, card.measured_at)),
                                  italic=True))  # fmt: skip
    return builder.build(summary=name)


def _account_lines(ctx: CommandContext, builder: ReplyBuilder, card: AccountCard) -> None:
    loc, acc = ctx.locale, card.account
    builder.line(Span(_platform_name(loc, acc.platform) + ": ", bold=True),
                 Span(acc.handle, link=_link(acc.url)))  # fmt: skip
    followers = acc.known_followers
    if followers is None:
        builder.line(t(loc, "reports.card.followers_unknown"))
    else:
        approx = "" if acc.followers_exact is not False else "≈"
        parts = [t(loc, "reports.card.followers", count=approx + format_number(followers, loc))]
        for label, base in (("7d", card.growth_7d), ("30d", card.growth_30d)):
            growth = card.growth(base)
            if growth is not None and base is not None:
                pct = growth * 100.0 / base.followers if base.followers else None
                since = "" if not base.late else " " + t(loc, "reports.card.since_first_seen")
                parts.append(f"{label}: {_signed(loc, growth)} ({_pct(loc, pct)}){since}")
        builder.line(" · ".join(parts))
    if card.last_post is not None and card.last_post.published_at is not None:
        excerpt = " ".join(card.last_post.text.split())[:EXCERPT]
        when = _when(ctx, card.last_post.published_at)
        label = t(loc, "reports.card.last_post", when=when)
        if card.last_post.deleted:
            label += " " + t(loc, "reports.card.deleted")
        link = _link(card.last_post.url)
        body = excerpt or link
        if body:
            builder.line(Span(label + ": "), Span(body, link=link))
        else:
            builder.line(label)
    else:
        builder.line(t(loc, "reports.card.no_posts"))
    if card.median_gap is not None:
        builder.line(t(loc, "reports.card.rhythm", gap=format_duration(card.median_gap, loc),
                       count=_count(loc, card.posts_30d)))  # fmt: skip
    builder.line(_health(ctx, card))


def _health(ctx: CommandContext, card: AccountCard) -> str:
    loc, acc = ctx.locale, card.account
    if acc.status is None:
        return t(loc, "reports.health.never")
    if acc.missing or acc.status == "absent":
        return t(loc, "reports.health.absent", reason=acc.reason or "—")
    last_ok = _when(ctx, acc.last_ok_at) if acc.last_ok_at else "—"
    if acc.healthy:
        return t(loc, "reports.health.ok", when=last_ok)
    return t(loc, "reports.health.failing", reason=acc.reason or acc.status, when=last_ok,
             failures=_count(loc, acc.consecutive_failures))  # fmt: skip


# --- /silent -----------------------------------------------------------------------------


@command("silent")
async def cmd_silent(ctx: CommandContext) -> Reply:
    """Officials without a post for N days (default 7), longest silence first."""
    words = parse_words(ctx.args)
    days = words.number or (max(1, words.period.days) if words.period else 7)
    async with ctx.db.sessions() as session:
        try:
            watchlist = await _watchlist_from(session, words)
        except UnknownWatchlist as exc:
            return _unknown_watchlist(ctx, exc)
        report = await silent_officials(session, days=days, watchlist=watchlist, now=_now(ctx))
    loc = ctx.locale
    if report.with_accounts == 0:
        return Reply.text(t(loc, "reports.no_data"))
    span = format_duration(timedelta(days=report.days), loc)
    title = t(loc, "reports.silent.title", period=span, scope=_scope_name(loc, report.watchlist))
    builder = ReplyBuilder().line(Span(title, bold=True))
    if not report.silent:
        builder.line(t(loc, "reports.silent.none", period=span))
    else:
        rows = []
        for item in report.silent:
            last = (
                _when(ctx, item.last_post_at)
                if item.last_post_at
                else t(loc, "reports.silent.never")
            )
            usual = format_duration(item.usual_gap, loc) if item.usual_gap else "—"
            ratio = item.times_usual
            times = "—" if ratio is None else "×" + format_number(round(ratio, 1), loc)
            rows.append((item.official.display(loc), format_duration(item.silent_for, loc),
                         last, usual, times))  # fmt: skip
        header = (t(loc, "reports.col.official"), t(loc, "reports.col.silent_for"),
                  t(loc, "reports.col.last_post"), t(loc, "reports.col.usual_gap"),
                  t(loc, "reports.col.vs_usual"))  # fmt: skip
        builder.table(Table(header=header, rows=tuple(rows), align=("l", "r", "l", "r", "r")))
        builder.paragraph()
    if report.unknown:
        builder.line(t(loc, "reports.silent.unknown", names=_names(loc, report.unknown)))
    builder.line(Span(t(loc, "reports.silent.methods", when=_when(ctx, report.measured_at)),
                      italic=True))  # fmt: skip
    return builder.build(summary=title)


# --- /chart ------------------------------------------------------------------------------


@command("chart")
async def cmd_chart(ctx: CommandContext) -> Reply:
    """A PNG follower-history chart of an official or a watchlist (one line per official)."""
    words = parse_words(ctx.args)
    period = words.period or timedelta(days=30)
    query = " ".join(words.rest).strip()
    if not query:
        return _usage(ctx, "chart")
    now = _now(ctx)
    async with ctx.db.sessions() as session:
        watchlist = await find_watchlist(session, query)
        if watchlist is not None:
            return await _chart_watchlist(ctx, session, watchlist.name, period, now)
        found = await find_officials(session, query)
        if not found:
            return Reply.text(t(ctx.locale, "chat.not_found", query=query))
        if len(found) > 1:
            return choices_reply(ctx.locale, found, retry="/chart {id} " + period_label(period))
        return await _chart_official(ctx, session, found[0].id, period, now)


async def _chart_official(
    ctx: CommandContext, session: AsyncSession, official_id: int, period: timedelta, now: datetime
) -> Reply:
    scope = await load_scope(session, official_ids=[official_id])
    official = scope.officials[official_id]
    accounts = [a for a in scope.accounts if a.exists]
    ids = [a.id for a in accounts]
    key = await _cache_key(session, ("official", official_id), ids, ctx, period, now)
    cached = _cache(ctx).get(key)
    data = None
    if cached is None:
        start = now - period
        steps = await charts.account_series(session, ids, start=start, end=now)
        data = charts.ChartData(start=start, end=now)
        for account in accounts:
            label = f"{_platform_name(ctx.locale, account.platform)} {account.handle}"
            data.series.append(charts.Series(label, tuple(steps.get(account.id, []))))
    name = official.display(ctx.locale)
    title = t(ctx.locale, "reports.chart.title", name=name, period=_period_text(ctx.locale, period))
    return await _chart_reply(ctx, key, cached, data, title, f"chart-{official_id}.png")


async def _chart_watchlist(
    ctx: CommandContext, session: AsyncSession, name: str, period: timedelta, now: datetime
) -> Reply:
    scope = await load_scope(session, watchlist=name)
    by_official: dict[int, list[AccountRow]] = {}
    for account in scope.accounts:
        if account.exists:
            by_official.setdefault(account.official_id, []).append(account)
    reach = {o: sum(a.known_followers or 0 for a in accs) for o, accs in by_official.items()}
    # One line per official is readable up to a few dozen lines: the largest are drawn.
    chosen = sorted(by_official, key=lambda o: (-reach[o], o))[: charts.MAX_SERIES]
    ids = [a.id for o in chosen for a in by_official[o]]
    key = await _cache_key(session, ("watchlist", name), ids, ctx, period, now)
    cached = _cache(ctx).get(key)
    data = None
    if cached is None:
        start = now - period
        steps = await charts.account_series(session, ids, start=start, end=now)
        data = charts.ChartData(start=start, end=now)
        for official_id in chosen:
            points = charts.sum_series([steps.get(a.id, []) for a in by_official[official_id]])
            label = scope.officials[official_id].display(ctx.locale)
            data.series.append(charts.Series(label, tuple(points)))
    title = t(ctx.locale, "reports.chart.title", name=name, period=_period_text(ctx.locale, period))
    if len(by_official) > len(chosen):
        title += " " + t(ctx.locale, "reports.chart.top_note", count=len(chosen))
    return await _chart_reply(ctx, key, cached, data, title, f"chart-{name}.png")


def _cache(ctx: CommandContext) -> charts.ChartCache:
    found = ctx.services.get(_CACHE_KEY)
    return found if isinstance(found, charts.ChartCache) else _DEFAULT_CACHE


async def _cache_key(
    session: AsyncSession,
    what: tuple[str, object],
    ids: list[int],
    ctx: CommandContext,
    period: timedelta,
    now: datetime,
) -> tuple[object, ...]:
    version = await charts.data_version(session, ids)
    # The picture ends "now": a new one every 10 minutes even when no snapshot changed.
    bucket = int(now.timestamp() // 600)
    return (what, period, ctx.locale, _tz(ctx), version, bucket)


async def _chart_reply(
    ctx: CommandContext,
    key: tuple[object, ...],
    cached: bytes | None,
    data: charts.ChartData | None,
    title: str,
    filename: str,
) -> Reply:
    png = cached
    if png is None:
        if data is None or data.empty:
            return Reply.text(t(ctx.locale, "reports.chart.no_data"))
        png = await charts.in_thread(charts.render_history_png, data, title=title,
                                     locale=ctx.locale, tz=_tz(ctx),
                                     y_label=t(ctx.locale, "reports.col.followers"))  # fmt: skip
        _cache(ctx).put(key, png)
    return Reply(
        blocks=(),
        attachment=Attachment(png, filename, "image/png", title),
        summary=title,
    )


# --- /digest -----------------------------------------------------------------------------


@command("digest", changes_chat=True)
async def cmd_digest(ctx: CommandContext) -> Reply:
    """Set this chat's digest: daily or weekly at HH:MM (chat time zone), or off."""
    loc = ctx.locale
    words = [w.lower() for w in ctx.args]
    mode = next((w for w in words if w in ("daily", "weekly", "off")), None)
    times = [w for w in words if ":" in w]
    at = parse_time(times[0]) if times else None
    if mode is None or (times and at is None) or len(words) > 2:
        return _digest_status(ctx)
    async with ctx.db.sessions() as session, session.begin():
        chat = await session.get(Chat, ctx.chat.id)
        if chat is None:
            return Reply.text(t(loc, "chat.error"))
        chat.digest = mode
        if mode != "off":
            chat.digest_time = at.strftime("%H:%M") if at else (chat.digest_time or "09:00")
            # Only slots after this moment count: the first digest comes at the next one.
            chat.digest_last_sent_at = _now(ctx)
        ctx.chat.digest, ctx.chat.digest_time = chat.digest, chat.digest_time
    if mode == "off":
        return Reply.text(t(loc, "reports.digest.off"))
    return Reply.text(t(loc, f"reports.digest.set_{mode}", time=ctx.chat.digest_time, tz=_tz(ctx)))


def _digest_status(ctx: CommandContext) -> Reply:
    loc, chat = ctx.locale, ctx.chat
    if chat.digest in ("daily", "weekly"):
        current = t(loc, f"reports.digest.set_{chat.digest}", time=chat.digest_time or "09:00",
                    tz=_tz(ctx))  # fmt: skip
    else:
        current = t(loc, "reports.digest.off")
    return Reply.text(current, t(loc, "chat.usage_prefix") + " " + t(loc, "reports.usage.digest"))
