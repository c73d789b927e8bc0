"""The web site's pure parts, from tables: language choice, the rate limiter, the page
cache, the SVG chart, the Atom writer, reply markup and the [web] settings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import defusedxml.ElementTree as SafeXML
import pytest
from pydantic import ValidationError

from bot.config import Settings, WebSettings
from bot.reply import Paragraph, Reply, Span
from bot.reports.cabinet import CabinetReport, MemberLine
from bot.reports.scope import OfficialRow
from bot.reports.silence import SilenceReport
from bot.store.engine import Database
from bot.web.cache import Page, PageCache, VersionClock
from bot.web.feeds import ATOM, Entry, atom
from bot.web.lang import choose_locale, from_accept_language
from bot.web.limits import RateLimiter
from bot.web.markup import reply_html
from bot.web.pages import Site
from bot.web.svg import Line, line_chart
from bot.web.views import report_view

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("en", "ru", "en"),
        (None, "kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),
        (None, "de-DE, en;q=0.3, ru;q=0.7", "ru"),
        (None, "kz", "kk"),
        (None, "fr, de", "ru"),
        (None, None, "ru"),
        ("xx", "en", "en"),
        (None, "en;q=0, ru;q=0.1", "ru"),
        (None, "en;q=abc, kk", "kk"),
    ],
)
def test_choose_locale(query: str | None, header: str | None, expected: str) -> None:
    assert choose_locale(query, header, "ru") == expected


def test_accept_language_without_a_supported_language() -> None:
    assert from_accept_language("fr-CA, *;q=0.1") is None


def test_rate_limiter_refills_per_address() -> None:
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.allow("a")
    assert wait == pytest.approx(20.0)
    assert limiter.allow("b") == 0.0
    now[0] = 20.0
    assert limiter.allow("a") == 0.0
    assert limiter.allow("a") > 0


def test_rate_limiter_memory_stays_bounded() -> None:
    limiter = RateLimiter(10, max_addresses=100)
    for n in range(1000):
        limiter.allow(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) <= 101


async def test_page_cache_renders_once_per_version() -> None:
    cache = PageCache(max_age=60)
    made: list[int] = []

    async def make() -> Page:
        made.append(1)
        await asyncio.sleep(0)
        return Page(f"page {len(made)}".encode(), "text/plain", NOW)

    pages = await asyncio.gather(*(cache.get("k", 1, make) for _ in range(10)))
    assert len(made) == 1
    assert {p.body for p in pages} == {b"page 1"}
    # new data: the recent page is served at once while one task renders the new one
    stale = await asyncio.gather(*(cache.get("k", 2, make) for _ in range(5)))
    assert {p.body for p in stale} == {b"page 1"}
    await cache.wait_refreshed()
    again = await cache.get("k", 2, make)
    assert again.body == b"page 2"
    assert len(made) == 2
    assert pages[0].etag != again.etag


async def test_page_cache_waits_for_a_render_when_nothing_recent_is_at_hand() -> None:
    cache = PageCache(max_age=0)

    async def fail() -> Page:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        await cache.get("k", 1, fail)


async def test_page_cache_expires_by_age() -> None:
    cache = PageCache(max_age=0)
    count = 0

    async def make() -> Page:
        nonlocal count
        count += 1
        return Page(b"x", "text/plain", NOW)

    await cache.get("k", 1, make)
    await cache.get("k", 1, make)
    assert count == 2


async def test_page_cache_serves_an_aged_page_while_rendering_it_again() -> None:
    cache = PageCache(max_age=0.05)
    made: list[int] = []

    async def make() -> Page:
        made.append(1)
        return Page(f"v{len(made)}".encode(), "text/plain", NOW)

    await cache.get("k", 1, make)
    await asyncio.sleep(0.06)  # older than max_age, younger than twice that
    assert (await cache.get("k", 1, make)).body == b"v1"
    await cache.wait_refreshed()
    assert (await cache.get("k", 1, make)).body == b"v2"


async def test_version_clock_reads_at_most_every_interval() -> None:
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        return reads

    clock = VersionClock(read, every=3600)
    assert [await clock.current() for _ in range(5)] == [1] * 5
    fast = VersionClock(read, every=0)
    assert await fast.current() != await fast.current()


def test_svg_chart_escapes_labels_and_draws_every_line() -> None:
    points = tuple((NOW - timedelta(days=d), 1000 + d) for d in range(10, -1, -1))
    svg = line_chart(
        [Line("<script>x</script>", points), Line("b & c", points[:3]), Line("empty", ())],
        start=NOW - timedelta(days=10),
        end=NOW,
        locale="ru",
        tz="Asia/Almaty",
        title='"t"',
    )
    assert svg.startswith("<svg")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "b &amp; c" in svg
    assert svg.count("<path ") == 2
    assert "1\u00a0010" in svg  # the top tick, formatted for ru
    SafeXML.fromstring(svg)  # well-formed


def test_svg_chart_of_nothing_is_empty() -> None:
    assert line_chart([Line("a", ())], start=NOW, end=NOW + timedelta(1), locale="en",
                      tz="UTC", title="t") == ""  # fmt: skip


def test_atom_is_valid_xml_with_hostile_text() -> None:
    body = atom(
        feed_id="http://x.example/events.atom",
        title='a <b> & ]]> "feed"',
        self_url="http://x.example/events.atom?lang=en",
        page_url="http://x.example/events",
        updated=NOW,
        entries=[Entry("id-1", "<script>alert(1)</script>", NOW, None, "<p>&amp; ]]></p>")],
        lang="en",
    )
    root = SafeXML.fromstring(body)
    assert root.findtext(f"{{{ATOM}}}title") == 'a <b> & ]]> "feed"'
    entry = root.find(f"{{{ATOM}}}entry")
    assert entry is not None
    assert entry.findtext(f"{{{ATOM}}}title") == "<script>alert(1)</script>"
    assert entry.findtext(f"{{{ATOM}}}updated") == "2026-12-03T09:00:00Z"
    assert entry.find(f"{{{ATOM}}}content").get("type") == "html"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("span", "html"),
    [
        (Span("<b>"), "&lt;b&gt;"),
        (Span("x", bold=True), "<strong>x</strong>"),
        (Span("x", strike=True), "<del>x</del>"),
        (Span("go", link="https://t.me/a?b=1&c=2"),
         '<a href="https://t.me/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">go</a>'),
        (Span("go", link="javascript:alert(1)"), "go"),
        (Span('"q"', italic=True), "<em>&quot;q&quot;</em>"),
    ],
)  # fmt: skip
def test_reply_markup_escapes(span: Span, html: str) -> None:
    assert reply_html(Reply(blocks=(Paragraph(((span,),)),))) == f"<p>{html}</p>"


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"listen": "not an address!"}, "listen"),
        ({"port": 0}, "port"),
        ({"base_url": "javascript:alert(1)"}, "base_url"),
        ({"period": "0s"}, "period"),
        ({"rate_limit": 0}, "rate_limit"),
    ],
)
def test_web_settings_refuse(values: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WebSettings.model_validate(values)
    assert problem in str(caught.value)


def test_web_settings_defaults() -> None:
    web = WebSettings.model_validate({"base_url": "https://watch.example/news/"})
    assert (web.enabled, web.listen, web.port) == (False, "127.0.0.1", 8080)
    assert web.base_url == "https://watch.example/news"
    assert web.period == timedelta(days=7)


@pytest.mark.parametrize(
    ("period", "platform", "expected"),
    [
        ("30d", "facebook", (timedelta(days=30), "facebook")),
        ("1y", None, (timedelta(days=365), None)),
        ("5d", "telegram", (timedelta(days=7), "telegram")),
        ("3660d", "nope", (timedelta(days=7), None)),
        (None, "<script>", (timedelta(days=7), None)),
    ],
)
async def test_links_choose_only_offered_periods_and_known_platforms(
    period: str | None, platform: str | None, expected: tuple[timedelta, str | None]
) -> None:
    db = Database("sqlite+aiosqlite:///:memory:")
    try:
        assert Site(Settings(), db).choose(period, platform) == expected
    finally:
        await db.close()


def test_report_view_lists_at_most_a_hundred_names_then_says_how_many_more() -> None:
    lines = [
        MemberLine(OfficialRow(i, f"Official {i:03}", None, None, None), "inactive",
                   ("telegram",), (f"telegram:o{i}",), 10, 0, 0.0, 0, None, False)
        for i in range(150)
    ]  # fmt: skip
    report = CabinetReport("big", None, "telegram", timedelta(days=30), NOW, lines=lines)
    silence = SilenceReport(days=7, watchlist="big", measured_at=NOW, members=150)
    view = report_view(report, silence, {}, loc="en", tz="UTC")
    heading, people, more = view.lists[0]
    assert heading == "Did not post (150)"
    assert len(people) == 100
    assert more == "and 50 more"
    assert view.activity is not None
    assert view.activity.startswith("0 of the 150 members posted")


async def test_page_cache_renders_new_data_at_most_every_min_interval() -> None:
    cache = PageCache(max_age=60, min_interval=0.05)
    made: list[int] = []

    async def make() -> Page:
        made.append(1)
        return Page(f"v{len(made)}".encode(), "text/plain", NOW)

    await cache.get("k", 1, make)
    # the data moves on at once: the page stays, nothing renders
    assert [(await cache.get("k", v, make)).body for v in (2, 3, 4)] == [b"v1"] * 3
    await cache.wait_refreshed()
    assert len(made) == 1
    await asyncio.sleep(0.06)
    assert (await cache.get("k", 5, make)).body == b"v1"  # served while it renders
    await cache.wait_refreshed()
    assert (await cache.get("k", 5, make)).body == b"v2"
    assert len(made) == 2


async def test_page_cache_runs_a_bounded_number_of_renderings_at_once() -> None:
    cache = PageCache(max_age=60, renderers=2)
    running = peak = 0

    async def make() -> Page:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return Page(b"x", "text/plain", NOW)

    await asyncio.gather(*(cache.get(f"k{n}", 1, make) for n in range(8)))
    assert peak == 2
