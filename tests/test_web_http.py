"""The public site over HTTP on the demo's database: numbers, languages, headers, caching,
the rate limit, feeds and open data, and that nothing private or unescaped gets out."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import aiohttp
import defusedxml.ElementTree as SafeXML
import pytest
from multidict import CIMultiDict

from bot.commands.report_common import count_text
from bot.i18n import format_datetime, format_duration, t
from bot.reports.cabinet import CabinetReport, cabinet_report
from bot.store.engine import Database
from bot.web.limits import RateLimiter
from bot.web.server import WebServer
from tests.web_world import (
    EVIL_NAME,
    EVIL_SLUG,
    LEADERS,
    MEMBERS,
    POSTED,
    PRIVATE_TITLE,
    free_port,
    make_demo_database,
    serving,
    web_settings,
)

REPORT = "/w/kz-government?platform=facebook"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, pg_url: str | None) -> str:
    # The "Done means" demo, exactly: `govwatch demo --duration 60 --no-input`.
    return make_demo_database(tmp_path_factory.mktemp("web"), pg_url, exact=True)


def _text(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


async def _get(base: str, path: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(base + path, headers=headers) as r:
        return r.status, CIMultiDict(r.headers), await r.read()


async def _week_on_facebook(url: str, now: datetime) -> CabinetReport:
    """The report the page shows by default for the demo's Facebook: the last 7 days."""
    db = Database(url)
    try:
        async with db.sessions() as session:
            return await cabinet_report(
                session, watchlist="kz-government", platform="facebook",
                period=timedelta(days=7), now=now,
            )  # fmt: skip
    finally:
        await db.close()


@pytest.mark.parametrize("loc", ["ru", "kk", "en"])
async def test_report_says_7_of_24_and_the_leaders_in_each_language(
    demo_url: str, loc: str
) -> None:
    async with serving(demo_url) as (_, base):
        status, headers, body = await _get(base, f"{REPORT}&lang={loc}")
    assert status == 200
    page = _text(body.decode())
    share = t(loc, "reports.share.under_third")
    sentence = t(loc, "reports.report.activity", k=POSTED, m=MEMBERS,
                 period=format_duration(timedelta(days=7), loc), share=share)  # fmt: skip
    assert sentence in page
    leaders_table = page[page.index(t(loc, "web.leaders_followers")) :]
    names = {
        "ru": ("Аймагамбетов", "Мусин", "Султанов"),
        "kk": ("Аймағамбетов", "Мусин", "Сұлтанов"),
    }
    order = [leaders_table.index(n) for n in names.get(loc, LEADERS)]
    assert order == sorted(order)
    assert headers["Content-Type"].startswith("text/html")
    assert f'<html lang="{loc}">' in body.decode()


async def test_accept_language_chooses_when_no_lang_is_given(demo_url: str) -> None:
    async with serving(demo_url) as (_, base):
        _, headers, kk = await _get(
            base, REPORT, **{"Accept-Language": "de, kk-KZ;q=0.8, en;q=0.5"}
        )
        _, _, en = await _get(base, REPORT + "&lang=en", **{"Accept-Language": "kk"})
    assert '<html lang="kk">' in kk.decode()
    assert '<html lang="en">' in en.decode()
    assert "Accept-Language" in headers["Vary"]


async def test_security_headers_and_frames_only_for_embed(demo_url: str) -> None:
    async with serving(demo_url) as (_, base):
        _, page, _ = await _get(base, REPORT)
        _, embed, body = await _get(base, "/embed/w/kz-government?platform=facebook&lang=en")
        _, missing, _ = await _get(base, "/w/no-such-list")
    csp = page["Content-Security-Policy"]
    for part in ("default-src 'none'", "style-src 'self'", "frame-ancestors 'none'"):
        assert part in csp
    assert "script-src" not in csp
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed
    assert "7 of the 24 members posted" in _text(body.decode())
    assert missing["X-Frame-Options"] == "DENY"


async def test_etag_and_last_modified_answer_304(demo_url: str) -> None:
    async with serving(demo_url) as (server, base):
        _, first, body = await _get(base, REPORT)
        status, again, empty = await _get(base, REPORT, **{"If-None-Match": first["ETag"]})
        status_ims, _, _ = await _get(base, REPORT, **{"If-Modified-Since": first["Last-Modified"]})
        status_other, _, _ = await _get(base, REPORT, **{"If-None-Match": '"other"'})
        renders = server.site.cache.renders
    assert status == 304
    assert empty == b""
    assert again["ETag"] == first["ETag"]
    assert status_ims == 304
    assert status_other == 200
    assert "max-age=" in first["Cache-Control"]
    # four requests, one rendering: the others came from the cache
    assert renders == 1
    assert body


async def test_rate_limit_answers_429_with_retry_after(demo_url: str) -> None:
    async with serving(demo_url, rate=3) as (_, base):
        statuses = [(await _get(base, "/static/site.css"))[0] for _ in range(3)]
        status, headers, body = await _get(base, "/?lang=en")
    assert statuses == [200, 200, 200]
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    assert "Too many requests" in body.decode()


@pytest.mark.parametrize("path", ["/events.atom", "/w/kz-government.atom", "/o/bagdat-musin.atom"])
async def test_atom_feeds_are_well_formed_xml(demo_url: str, path: str) -> None:
    async with serving(demo_url) as (_, base):
        status, headers, body = await _get(base, path + "?lang=en")
    assert status == 200
    assert headers["Content-Type"].startswith("application/atom+xml")
    root = SafeXML.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        assert entry.findtext(f"{ATOM}id")
        assert entry.findtext(f"{ATOM}title")
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.findtext(f"{ATOM}updated") or ""
        )
    link = root.find(f"{ATOM}link[@rel='self']")
    assert link is not None
    assert link.get("href", "").startswith("http://news.example/")


async def test_csv_and_json_carry_the_reports_numbers(demo_url: str) -> None:
    now = datetime.now(UTC)
    report = await _week_on_facebook(demo_url, now)
    async with serving(demo_url, now=now) as (_, base):
        _, headers, raw = await _get(base, "/data/kz-government.csv?platform=facebook&lang=en")
        _, _, js = await _get(base, "/data/kz-government.json?platform=facebook&lang=en")
    assert headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == MEMBERS
    assert sum(1 for r in rows if r["state"] == "active") == POSTED
    by_name = {r["official"]: r for r in rows}
    for line in report.lines:
        row = by_name[line.official.display("en")]
        assert row["followers"] == ("" if line.followers is None else str(line.followers))
        assert row["posts_in_period"] == str(line.posts)
    data = json.loads(js)
    assert (data["members"], data["posted"], data["with_account"]) == (MEMBERS, POSTED, report.n)
    assert [n.split()[-1] for n in data["leaders"][:3]] == list(LEADERS)
    musin = next(line for line in data["lines"] if line["official"] == "Bagdat Musin")
    assert musin["followers_history"]
    assert musin["followers_history"][-1][1] == musin["followers"]


async def test_html_in_a_name_is_shown_literally_everywhere(demo_url: str) -> None:
    async with serving(demo_url) as (_, base):
        status, _, body = await _get(base, f"/o/{EVIL_SLUG}?lang=en")
    html = body.decode()
    assert status == 200
    assert "<script>" not in html
    assert "<b>Evil" not in html
    assert "<i>evil" not in html
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert EVIL_NAME in _text(html)
    assert "javascript:" not in html


async def test_nothing_private_on_any_page(demo_url: str) -> None:
    paths = [
        *("/", REPORT, "/o/bagdat-musin", f"/o/{EVIL_SLUG}", "/events", "/events.atom"),
        *("/data/kz-government.csv", "/data/kz-government.json", "/embed/w/kz-government"),
    ]
    async with serving(demo_url) as (_, base):
        for path in paths:
            status, _, body = await _get(base, path)
            assert status == 200, path
            assert PRIVATE_TITLE.encode() not in body, path
            assert b"4711" not in body, path


async def test_unknown_pages_and_methods(demo_url: str) -> None:
    async with serving(demo_url) as (_, base):
        wrong = ("/w/nope", "/o/nope", "/data/nope.csv", "/data/kz-government.exe", "/admin")
        statuses = [(await _get(base, p))[0] for p in wrong]
        async with aiohttp.ClientSession() as http, http.post(base + "/") as r:
            post = r.status
    assert statuses == [404] * 5
    assert post == 405


async def test_official_page_has_accounts_chart_posts_and_events(demo_url: str) -> None:
    async with serving(demo_url) as (_, base):
        status, _, body = await _get(base, "/o/bagdat-musin?lang=en")
    html = body.decode()
    assert status == 200
    assert html.count("<path ") == 3  # one follower line per account
    assert "musin_digital" in html
    assert "A post was deleted" in html
    assert "deleted " in _text(html)


async def test_events_link_the_evidence_instead_of_the_chat_button(demo_url: str) -> None:
    """Was: "…in the evidence file (🧾 Evidence)." on the web, a button no page has."""
    async with serving(demo_url) as (_, base):
        _, _, events = await _get(base, "/events?lang=en")
        _, _, official = await _get(base, "/o/bagdat-musin?lang=en")
        _, _, feed = await _get(base, "/events.atom?lang=en")
        html = events.decode()
        links = re.findall(r'href="(/evidence/e\d+)\?lang=en"', html)
        posts = re.findall(r'href="(/evidence/p\d+)\?lang=en"', official.decode())
        assert links
        assert posts  # the deleted post on Musin's page
        status, headers, page = await _get(base, links[0] + "?lang=en")
        _, json_headers, raw = await _get(base, posts[0] + ".json")
        wrong = ("/evidence/e999999", "/evidence/x1", "/evidence/p0", "/evidence/e1.zip")
        missing = [(await _get(base, p))[0] for p in wrong]
    for body in (events, official, feed):
        assert t("en", "alert.button.evidence").encode() not in body
        assert "🧾".encode() not in body
    assert b"/evidence/e" in feed
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    # the page's own inline style is allowed by its hash, and nothing else
    csp = headers["Content-Security-Policy"]
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp), csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert b"<style>" in page
    assert PRIVATE_TITLE.encode() not in page
    assert json_headers["Content-Type"].startswith("application/json")
    document = json.loads(raw)
    assert document["format"] == "govwatch-evidence/1"
    assert document["account"]["handle"] == "musin_digital"
    assert document["post"]["deleted"] is True
    assert missing == [404] * 4


async def test_numbers_per_language_and_times_in_the_configured_zone(demo_url: str) -> None:
    now = datetime.now(UTC)
    report = await _week_on_facebook(demo_url, now)
    leader = report.leaders(1)[0]
    assert leader.followers is not None
    assert leader.followers > 10_000  # wide enough to show the thousands separator
    settings = web_settings(demo_url, listen="127.0.0.1", port=free_port())
    settings = settings.model_copy(
        update={"i18n": settings.i18n.model_copy(update={"timezone": "Europe/London"})}
    )
    server = WebServer(settings, db=Database(demo_url), clock=lambda: now,
                       limiter=RateLimiter(1000))  # fmt: skip
    await server.start()
    base = f"http://127.0.0.1:{settings.web.port}"
    pages = {}
    try:
        for loc in ("ru", "kk", "en"):
            pages[loc] = (await _get(base, f"{REPORT}&lang={loc}"))[2].decode()
    finally:
        await server.stop()
        await server.site.db.close()
    for loc, html in pages.items():
        assert count_text(loc, leader.followers) in html, loc
        assert format_datetime(now, loc, tz="Europe/London") in html, loc
        assert "Asia/Almaty" not in html, loc
    assert count_text("en", leader.followers) != count_text("ru", leader.followers)
