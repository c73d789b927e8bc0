"""One official or one watchlist up close: /official (the card) and /chart (a PNG)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.context import CommandContext, CommandSpec, usage
from bot.commands.languages import mix_line
from bot.commands.report_common import (
    chat_zone,
    count_text,
    moment_text,
    percent_text,
    period_text,
    platform_name,
    report_now,
    signed_text,
    web_link,
)
from bot.commands.targets import choices_reply
from bot.i18n import format_duration, format_number, t
from bot.reply import Attachment, Reply, ReplyBuilder, Span
from bot.reports import charts
from bot.reports.card import AccountCard, OfficialCard, official_card
from bot.reports.scope import AccountRow, load_scope, parse_words, period_label
from bot.reports.states import reason_group
from bot.store.officials import find_officials
from bot.store.watchlists import find_watchlist

#: Each account's sampled follower history, as ``charts.account_series`` returns it.
Steps = dict[int, list[tuple[datetime, int]]]

EXCERPT = 120
_CACHE_KEY = "chart_cache"
#: Used when the app injects no cache: one per process is enough for a single bot.
_DEFAULT_CACHE = charts.ChartCache()


# --- /official ---------------------------------------------------------------------------


async def cmd_official(ctx: CommandContext) -> Reply:
    """An official's card: accounts, followers, growth, last post, rhythm, source health."""
    query = " ".join(ctx.args).strip()
    if not query:
        return usage(ctx, "official", domain="reports")
    async with ctx.db.sessions() as session:
        found = await find_officials(session, query)
        if not found:
            return Reply.text(t(ctx.locale, "chat.not_found", query=query))
        if len(found) > 1:
            return choices_reply(ctx.locale, found, retry="/official {id}")
        card = await official_card(session, found[0].id, now=report_now(ctx))
    if card is None:
        return Reply.text(t(ctx.locale, "chat.not_found", query=query))
    return _card_reply(ctx, card)


def _card_reply(ctx: CommandContext, card: OfficialCard) -> Reply:
    loc = ctx.locale
    name = card.official.display(loc)
    builder = ReplyBuilder().line(Span(name, bold=True))
    position = card.position
    if card.former is not None and card.former.end is not None:
        # A member who left keeps the page and the history, marked as former.
        position = t(loc, "tenure.former", title=card.former.title, end=card.former.end.isoformat())
    role = ", ".join(x for x in (position, card.organisation) if x)
    if role:
        builder.line(role)
    if card.watchlists:
        builder.line(t(loc, "reports.card.watchlists", names=", ".join(card.watchlists)))
    languages = mix_line(loc, "lang.card", card.languages)
    if languages:
        builder.line(languages)
    if not card.accounts:
        builder.line(t(loc, "reports.card.no_accounts"))
    for account in card.accounts:
        builder.paragraph()
        _account_lines(ctx, builder, account)
    builder.paragraph().line(
        Span(t(loc, "reports.measured", when=moment_text(ctx, card.measured_at)), italic=True)
    )
    return builder.build(summary=name)


def _account_lines(ctx: CommandContext, builder: ReplyBuilder, card: AccountCard) -> None:
    loc, acc = ctx.locale, card.account
    builder.line(
        Span(platform_name(loc, acc.platform) + ": ", bold=True),
        Span(acc.handle, link=web_link(acc.url)),
    )
    if acc.last_ok_at is None or not acc.exists:
        # Never read, or gone: nothing to say about it but the source's state.
        builder.line(_health(ctx, card))
        return
    if acc.visibility and acc.visibility != "public":
        # Hidden posts explain a stale "last post": it is out of sight, not silence.
        builder.line(t(loc, f"alert.visibility.to.{acc.visibility}"))
    followers = acc.known_followers
    if followers is None:
        builder.line(t(loc, "reports.card.followers_unknown"))
    else:
        approx = "" if acc.followers_exact is not False else "≈"
        parts = [t(loc, "reports.card.followers", count=approx + format_number(followers, loc))]
        if not acc.healthy:
            parts[0] += (
                " (" + t(loc, "states.card.as_of", when=moment_text(ctx, acc.last_ok_at)) + ")"
            )
        for label, base in (("7d", card.growth_7d), ("30d", card.growth_30d)):
            growth = card.growth(base)
            if growth is not None and base is not None:
                pct = growth * 100.0 / base.followers if base.followers else None
                since = "" if not base.late else " " + t(loc, "reports.card.since_first_seen")
                parts.append(
                    f"{label}: {signed_text(loc, growth)} ({percent_text(loc, pct)}){since}"
                )
        builder.line(" · ".join(parts))
    if card.last_post is not None and card.last_post.published_at is not None:
        excerpt = " ".join(card.last_post.text.split())[:EXCERPT]
        when = moment_text(ctx, card.last_post.published_at)
        label = t(loc, "reports.card.last_post", when=when)
        if card.last_post.deleted:
            label += " " + t(loc, "reports.card.deleted")
        link = web_link(card.last_post.url)
        body = excerpt or link
        if body:
            builder.line(Span(label + ": "), Span(body, link=link))
        else:
            builder.line(label)
    else:
        builder.line(t(loc, "reports.card.no_posts"))
    if card.median_gap is not None:
        builder.line(
            t(
                loc,
                "reports.card.rhythm",
                gap=format_duration(card.median_gap, loc),
                count=count_text(loc, card.posts_30d),
            )
        )
    builder.line(_health(ctx, card))


def _health(ctx: CommandContext, card: AccountCard) -> str:
    loc, acc = ctx.locale, card.account
    if acc.status is None:
        return t(loc, "reports.health.never")
    if acc.missing or acc.status == "absent":
        return t(loc, "reports.health.absent", reason=_reason(loc, acc))
    if acc.healthy:
        when = moment_text(ctx, acc.last_ok_at) if acc.last_ok_at else "—"
        return t(loc, "reports.health.ok", when=when)
    # The last fetch failed, so there was at least one failure in a row.
    failures = count_text(loc, max(acc.consecutive_failures, 1))
    if acc.last_ok_at is None:
        return t(loc, "states.card.failing_never", reason=_reason(loc, acc), failures=failures)
    return t(
        loc,
        "reports.health.failing",
        reason=_reason(loc, acc),
        when=moment_text(ctx, acc.last_ok_at),
        failures=failures,
    )


def _reason(loc: str, acc: AccountRow) -> str:
    return t(loc, f"states.reason.{reason_group(acc.reason)}")


# --- /chart ------------------------------------------------------------------------------


async def cmd_chart(ctx: CommandContext) -> Reply:
    """A PNG follower-history chart of an official or a watchlist (one line per official)."""
    words = parse_words(ctx.args)
    period = words.period or timedelta(days=30)
    query = " ".join(words.rest).strip()
    if not query:
        return usage(ctx, "chart", domain="reports")
    now = report_now(ctx)
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

    def series(steps: Steps) -> list[charts.Series]:
        return [
            charts.Series(f"{platform_name(ctx.locale, a.platform)} {a.handle}",
                          tuple(steps.get(a.id, [])))
            for a in accounts
        ]  # fmt: skip

    cached, data = await _chart_data(ctx, session, key, ids, period, now, series)
    name = official.display(ctx.locale)
    title = t(ctx.locale, "reports.chart.title", name=name, period=period_text(ctx.locale, period))
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

    def series(steps: Steps) -> list[charts.Series]:
        return [
            charts.Series(scope.officials[o].display(ctx.locale),
                          tuple(charts.sum_series([steps.get(a.id, []) for a in by_official[o]])))
            for o in chosen
        ]  # fmt: skip

    cached, data = await _chart_data(ctx, session, key, ids, period, now, series)
    title = t(ctx.locale, "reports.chart.title", name=name, period=period_text(ctx.locale, period))
    if len(by_official) > len(chosen):
        title += " " + t(ctx.locale, "reports.chart.top_note", count=len(chosen))
    return await _chart_reply(ctx, key, cached, data, title, f"chart-{name}.png")


async def _chart_data(
    ctx: CommandContext,
    session: AsyncSession,
    key: tuple[object, ...],
    ids: list[int],
    period: timedelta,
    now: datetime,
    series: Callable[[Steps], list[charts.Series]],
) -> tuple[bytes | None, charts.ChartData | None]:
    """The cached picture, or the data to draw one (history read only on a cache miss)."""
    cached = _cache(ctx).get(key)
    if cached is not None:
        return cached, None
    start = now - period
    steps = await charts.account_series(session, ids, start=start, end=now)
    data = charts.ChartData(start=start, end=now)
    data.series.extend(series(steps))
    return None, data


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
    return (what, period, ctx.locale, chat_zone(ctx), version, bucket)


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
        png = await charts.in_thread(
            charts.render_history_png,
            data,
            title=title,
            locale=ctx.locale,
            tz=chat_zone(ctx),
            y_label=t(ctx.locale, "reports.col.followers"),
        )
        _cache(ctx).put(key, png)
    return Reply(
        blocks=(),
        attachment=Attachment(png, filename, "image/png", title),
        summary=title,
    )


COMMANDS = (
    CommandSpec("official", cmd_official),
    CommandSpec("chart", cmd_chart),
)
