"""Each page of the site from the reports: read in one session, rendered by a template.

Every page is cached (``cache.PageCache``) by what it shows, its language and the data's
version, so the database is read again only when something changed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from bot.commands.report_common import count_text, period_text, platform_name
from bot.config import Settings
from bot.domain import Platform
from bot.i18n import LOCALES, format_datetime, t
from bot.names import localized_name
from bot.reports import member_history
from bot.reports.cabinet import cabinet_report, report_csv
from bot.reports.card import OfficialCard, official_card
from bot.reports.charts import account_series
from bot.reports.evidence import Found, find_by_event, find_by_row, load_evidence
from bot.reports.scope import UnknownWatchlist, parse_period, period_label
from bot.reports.silence import silent_officials
from bot.store import public
from bot.store.engine import Database
from bot.web import evidence as web_evidence
from bot.web import opendata, views
from bot.web.cache import Page, PageCache, VersionClock
from bot.web.feeds import Entry, atom
from bot.web.markup import web_link
from bot.web.notices import event_items
from bot.web.svg import Line, line_chart

HTML = "text/html; charset=utf-8"
CHART_POINTS = 60
CHART_PERIOD = timedelta(days=30)
#: A page is rendered again for new data at most this often (seconds): under a poller
#: that writes every second a hot page costs one rendering per 10 s, not one per write.
REFRESH_EVERY = 10.0


def chart_start(card: OfficialCard, now: datetime) -> datetime:
    """Where the follower chart begins: 30 days back, or when govwatch first saw an account
    (a history of a few days is drawn across the whole width, not squeezed to its right)."""
    seen = [c.account.first_seen_at for c in card.accounts if c.account.first_seen_at]
    start = now - CHART_PERIOD
    return max(start, min(seen)) if seen and min(seen) < now else start


class Site:
    """The pages of the public site over ``db`` (read only)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], datetime] | None = None,
        cache: PageCache | None = None,
    ) -> None:
        self.settings = settings
        self.web = settings.web
        self.db = db
        self.tz = settings.i18n.timezone
        self.default_locale = settings.i18n.default_locale
        self.clock = clock or (lambda: datetime.now(UTC))
        self.cache = cache or PageCache(
            max_age=self.web.cache_for.total_seconds(), min_interval=REFRESH_EVERY
        )
        self.versions = VersionClock(self._read_version)
        self.env = Environment(
            loader=PackageLoader("bot.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        host = f"[{self.web.listen}]" if ":" in self.web.listen else self.web.listen
        self.base_url = self.web.base_url or f"http://{host}:{self.web.port}"

    async def _read_version(self) -> Hashable:
        async with self.db.sessions() as session:
            return await public.data_version(session)

    async def cached(self, key: Hashable, make: Callable[[], Awaitable[Page]]) -> Page:
        """The page ``key`` at the current data version (rendered by ``make`` when missing)."""
        return await self.cache.get(key, await self.versions.current(), make)

    # --- helpers ----------------------------------------------------------------------

    def href(self, path: str, loc: str, **params: str | None) -> str:
        """A link within the site, keeping the page's language."""
        query = {k: v for k, v in params.items() if v}
        query["lang"] = loc
        return f"{path}?{urlencode(query)}"

    def _render(
        self,
        template: str,
        loc: str,
        path: str,
        *,
        last_read: datetime | None = None,
        **context: Any,
    ) -> Page:
        now = self.clock()
        made = format_datetime(now, loc, tz=self.tz)
        as_of = (
            t(loc, "web.data_as_of", when=self._when(last_read, loc), made=made)
            if last_read is not None
            else t(loc, "web.no_reads")
        )
        params = {k: v for k, v in context.get("params", {}).items() if v}
        body = self.env.get_template(template).render(
            loc=loc,
            t=lambda key, **kw: t(loc, key, **kw),
            href=lambda p, **kw: self.href(p, loc, **kw),
            quote=lambda s: quote(s, safe=""),
            site_title=self.web.title,
            languages=[(code, self.href(path, code, **params), code == loc) for code in LOCALES],
            made=made,
            as_of=as_of,
            **context,
        )
        return Page(body.encode("utf-8"), HTML, now)

    def _when(self, moment: datetime | None, loc: str) -> str:
        return views.when(moment, loc, self.tz)

    # --- pages ------------------------------------------------------------------------

    async def index(self, loc: str) -> Page:
        """The watchlists with their headline numbers."""
        return await self.cached(("index", loc), lambda: self._index(loc))

    async def _index(self, loc: str) -> Page:
        now = self.clock()
        rows = []
        last_read: datetime | None = None
        async with self.db.sessions() as session:
            for name, title in await public.watchlist_titles(session):
                report = await cabinet_report(
                    session, watchlist=name, period=self.web.period, now=now
                )
                last_read = max(filter(None, (last_read, report.last_read_at)), default=None)
                rows.append(
                    {
                        "name": name,
                        "title": title or name,
                        "members": t(loc, "web.members", count=count_text(loc, report.m)),
                        "presence": views.presence(loc, report),
                        "activity": views.activity(loc, report),
                    }
                )
        return self._render("index.html", loc, "/", watchlists=rows, last_read=last_read)

    def choose(self, period: str | None, platform: str | None) -> tuple[timedelta, str | None]:
        """The period and platform a link asks for (the defaults for anything else)."""
        # Only the offered periods: each one is a page to render and cache, so a link
        # cannot make the server render thousands of variants.
        chosen = parse_period(period) if period in views.PERIODS else None
        names = {p.value for p in Platform}
        return chosen or self.web.period, platform if platform in names else None

    async def report(
        self, name: str, loc: str, period: timedelta, platform: str | None, *, embed: bool = False
    ) -> Page | None:
        """The live report of watchlist ``name`` (None when there is no such watchlist)."""
        key = ("embed" if embed else "report", name, loc, period, platform)
        page = await self.cached(key, lambda: self._report(name, loc, period, platform, embed))
        return None if page.status == 404 else page

    async def _report(
        self, name: str, loc: str, period: timedelta, platform: str | None, embed: bool
    ) -> Page:
        now = self.clock()
        async with self.db.sessions() as session:
            try:
                report = await cabinet_report(
                    session, watchlist=name, platform=platform, period=period, now=now
                )
            except UnknownWatchlist:
                return Page(b"", HTML, now, status=404)
            days = max(1, self.settings.detect.silent_after.days)
            silence = await silent_officials(session, days=days, watchlist=name, now=now)
            slugs = await public.all_slugs(session)
            platforms = await public.platforms_in_use(session, name)
        view = views.report_view(report, silence, slugs, loc=loc, tz=self.tz)
        args = {"period": period_label(period), "platform": platform}
        return self._render(
            "embed.html" if embed else "report.html",
            loc,
            ("/embed/w/" if embed else "/w/") + quote(name, safe=""),
            view=view,
            report=report,
            name=name,
            params=args,
            periods=views.period_links(period),
            platforms=[(p, platform_name(loc, p), p == platform) for p in platforms],
            all_platforms=platform_name(loc, None),
            period_words=period_text(loc, period),
            last_read=report.last_read_at,
        )

    async def official(self, slug: str, loc: str) -> Page | None:
        """An official's page (None when there is no such official)."""
        page = await self.cached(("official", slug, loc), lambda: self._official(slug, loc))
        return None if page.status == 404 else page

    async def _official(self, slug: str, loc: str) -> Page:
        now = self.clock()
        async with self.db.sessions() as session:
            found = await public.official_by_slug(session, slug)
            card = await official_card(session, found.id, now=now) if found else None
            if found is None or card is None:
                return Page(b"", HTML, now, status=404)
            ids = [c.account.id for c in card.accounts]
            start = chart_start(card, now)
            series = await account_series(session, ids, start=start, end=now, points=CHART_POINTS)
            posts = await public.recent_posts(session, ids)
            events = await public.recent_events(session, official_id=found.id, limit=30)
        name = card.official.display(loc)
        lines = [
            Line(f"{platform_name(loc, c.account.platform)} {c.account.handle}",
                 tuple(series.get(c.account.id, [])))
            for c in card.accounts
        ]  # fmt: skip
        title = t(loc, "web.followers_chart", period=period_text(loc, CHART_PERIOD))
        chart = line_chart(lines, start=start, end=now, locale=loc, tz=self.tz,
                           title=f"{name}: {title}")  # fmt: skip
        last_read = max((c.account.last_ok_at for c in card.accounts if c.account.last_ok_at),
                        default=None)  # fmt: skip
        return self._render(
            "official.html",
            loc,
            "/o/" + quote(slug, safe=""),
            name=name,
            slug=slug,
            card=card,
            accounts=[views.account_row(c, loc, self.tz) for c in card.accounts],
            chart=Markup(chart),  # noqa: S704  # svg.line_chart escapes every text
            chart_title=title,
            posts=[_post(p, loc, self.tz) for p in posts],
            events=event_items(events, loc=loc, tz=self.tz),
            last_read=last_read,
        )

    async def events(self, loc: str) -> Page:
        """The newest events of everyone."""
        return await self.cached(("events", loc), lambda: self._events(loc))

    async def _events(self, loc: str) -> Page:
        async with self.db.sessions() as session:
            events = await public.recent_events(session, limit=100)
            slugs = await public.all_slugs(session)
        items = event_items(events, loc=loc, tz=self.tz, slugs=slugs)
        return self._render("events.html", loc, "/events", events=items)

    async def feed(
        self, loc: str, *, watchlist: str | None = None, slug: str | None = None
    ) -> Page | None:
        """The Atom feed of everyone's, a watchlist's or an official's events."""
        key = ("feed", loc, watchlist, slug)
        page = await self.cached(key, lambda: self._feed(loc, watchlist, slug))
        return None if page.status == 404 else page

    async def _feed(self, loc: str, watchlist: str | None, slug: str | None) -> Page:
        now = self.clock()
        async with self.db.sessions() as session:
            title, page_path, self_path = t(loc, "web.all_events"), "/events", "/events.atom"
            wl_id = official_id = None
            if watchlist is not None:
                wl_id = await public.watchlist_id(session, watchlist)
                if wl_id is None:
                    return Page(b"", HTML, now, status=404)
                title = t(loc, "web.watchlist_events", name=watchlist)
                page_path = "/w/" + quote(watchlist, safe="")
                self_path = f"/w/{quote(watchlist, safe='')}.atom"
            if slug is not None:
                found = await public.official_by_slug(session, slug)
                if found is None:
                    return Page(b"", HTML, now, status=404)
                official_id = found.id
                title = t(loc, "web.official_events", name=localized_name(found, loc))
                page_path = "/o/" + quote(slug, safe="")
                self_path = f"/o/{quote(slug, safe='')}.atom"
            events = await public.recent_events(
                session, watchlist_id=wl_id, official_id=official_id, limit=50
            )
            slugs = await public.all_slugs(session)
        items = event_items(events, loc=loc, tz=self.tz, slugs=slugs)
        entries = [
            Entry(
                id=f"{self.base_url}/events#{item.id}",
                title=item.summary,
                updated=item.at,
                link=self.base_url + self.href(item.page, loc) if item.page else None,
                html=str(item.html) + self._evidence_html(item.evidence, loc),
            )
            for item in items
        ]
        body = atom(
            feed_id=self.base_url + self_path,
            title=f"{self.web.title}: {title}",
            self_url=self.base_url + self.href(self_path, loc),
            page_url=self.base_url + self.href(page_path, loc),
            updated=max((e.updated for e in entries), default=now),
            entries=entries,
            lang=loc,
        )
        return Page(body, "application/atom+xml; charset=utf-8", now)

    def _evidence_html(self, path: str | None, loc: str) -> str:
        # The feed's entries link the evidence page as the site's lists do.
        if path is None:
            return ""
        url = escape(self.base_url + self.href(path, loc))
        return f'<p><a href="{url}">{escape(t(loc, "web.evidence"))}</a></p>'

    async def data(
        self, name: str, fmt: str, loc: str, period: timedelta, platform: str | None
    ) -> Page | None:
        """The report as CSV, or as JSON with the members' follower history."""
        key = ("data", name, fmt, loc, period, platform)
        page = await self.cached(key, lambda: self._data(name, fmt, loc, period, platform))
        return None if page.status == 404 else page

    async def _data(
        self, name: str, fmt: str, loc: str, period: timedelta, platform: str | None
    ) -> Page:
        now = self.clock()
        async with self.db.sessions() as session:
            try:
                report = await cabinet_report(
                    session, watchlist=name, platform=platform, period=period, now=now
                )
            except UnknownWatchlist:
                return Page(b"", HTML, now, status=404)
            if fmt == "csv":
                return Page(report_csv(report, locale=loc), "text/csv; charset=utf-8", now)
            history = await member_history.history(session, report, now)
        body = json.dumps(opendata.report_json(report, loc, history), ensure_ascii=False, indent=1)
        return Page(body.encode("utf-8"), "application/json; charset=utf-8", now)

    async def evidence(self, ref: str, loc: str) -> Page | None:
        """A post's evidence page (or its JSON document), None when there is no such post."""
        found = web_evidence.parse_ref(ref)
        if found is None:
            return None
        page = await self.cached(("evidence", ref, loc), lambda: self._evidence(found, loc))
        return None if page.status == 404 else page

    async def _evidence(self, ref: web_evidence.EvidenceRef, loc: str) -> Page:
        now = self.clock()
        async with self.db.sessions() as session:
            number = ref.number
            found = await (find_by_event if ref.kind == "e" else find_by_row)(session, number)
            files = None
            if isinstance(found, Found):
                files = await load_evidence(
                    session, found.post, generated_at=now, locale=loc, tz=self.tz
                )
        if files is None:
            return Page(b"", HTML, now, status=404)
        if ref.json:
            return Page(files.json, "application/json; charset=utf-8", now)
        return Page(files.html, HTML, now, csp=web_evidence.page_csp(files.html))

    def not_found(self, loc: str) -> Page:
        """The 404 page."""
        page = self._render("message.html", loc, "/", message=t(loc, "web.not_found"))
        return Page(page.body, HTML, page.made_at, status=404)

    def too_many(self, loc: str) -> Page:
        """The 429 page."""
        page = self._render("message.html", loc, "/", message=t(loc, "web.too_many"))
        return Page(page.body, HTML, page.made_at, status=429)


def _post(post: public.PublicPost, loc: str, tz: str) -> dict[str, Any]:
    text = post.text.strip()
    return {
        "platform": platform_name(loc, post.platform),
        "url": web_link(post.url),
        "when": views.when(post.published_at, loc, tz),
        "text": text[:500] + ("…" if len(text) > 500 else ""),
        "edited": t(loc, "web.edited", versions=count_text(loc, post.versions))
        if post.edited
        else None,
        "deleted": t(loc, "web.deleted", when=views.when(post.deleted_at, loc, tz))
        if post.deleted
        else None,
        "evidence": web_evidence.post_href(post.id) if post.edited or post.deleted else None,
    }
