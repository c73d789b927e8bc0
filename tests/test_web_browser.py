"""The public site in a real browser: the system's headless Chromium driven by Playwright.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (Debian's package;
``.ci/run`` installs it when missing). Screenshots of the main pages are saved under
``test-artifacts/web/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_world import EVIL_NAME, EVIL_SLUG, LEADERS, make_demo_database, serving

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "web"
REPORT = "/w/kz-government?platform=facebook"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="no /usr/bin/chromium (apt-get install chromium); CI installs it",
)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, pg_url: str | None) -> str:
    return make_demo_database(tmp_path_factory.mktemp("web-browser"), pg_url)


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1100, "height": 900}, java_script_enabled=False
            )
            yield await context.new_page()
        finally:
            await browser.close()


async def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


async def test_report_shows_the_numbers_and_the_leaders(demo_url: str, page: Any) -> None:
    async with serving(demo_url) as (_, base):
        await page.goto(base + REPORT + "&lang=en")
        activity = await page.inner_text("#activity")
        names = await page.locator("#leaders td.name").all_inner_texts()
        await _shot(page, "report-en")
    assert activity.replace("\xa0", " ").startswith("7 of the 24 members posted in the last 7 days")
    assert [n.split()[1] for n in names[:3]] == list(LEADERS)


async def test_language_switch_follows_links(demo_url: str, page: Any) -> None:
    async with serving(demo_url) as (_, base):
        await page.goto(base + REPORT + "&lang=en")
        await page.click("nav.lang a[lang=ru]")
        ru = await page.inner_text("h1")
        ru_lang = await page.get_attribute("html", "lang")
        await page.click("nav.lang a[lang=kk]")
        kk = await page.inner_text("h1")
        activity = await page.inner_text("#activity")
        url = page.url
        await _shot(page, "report-kk")
    assert ru_lang == "ru"
    assert ru.startswith("Отчёт: kz-government, Facebook")
    assert kk.startswith("Есеп: kz-government, Facebook")
    assert "platform=facebook" in url
    assert activity.replace("\xa0", " ").startswith("24 мүшенің ішінде соңғы 7")
    assert ": 7 (" in activity


async def test_follower_chart_renders(demo_url: str, page: Any) -> None:
    async with serving(demo_url) as (_, base):
        await page.goto(base + "/o/bagdat-musin?lang=en")
        chart = page.locator("#chart svg")
        box = await chart.bounding_box()
        lines = await page.locator("#chart svg path").count()
        first = await page.locator("#chart svg path").first.bounding_box()
        await _shot(page, "official-en")
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 100
    assert lines == 3
    # a line with extent, not a dot at one edge
    assert first is not None
    assert first["width"] > 100


async def test_html_in_a_name_shows_literally(demo_url: str, page: Any) -> None:
    async with serving(demo_url) as (_, base):
        await page.goto(f"{base}/o/{EVIL_SLUG}?lang=en")
        shown = await page.inner_text("#name")
        bold = await page.locator("#name b").count()
        scripts = await page.locator("script").count()
        handle = await page.locator("#accounts a").count()
    assert shown == EVIL_NAME
    assert bold == 0
    assert scripts == 0
    assert handle == 0  # its javascript: link was not made a link


async def test_screenshots_of_the_main_pages(demo_url: str, page: Any) -> None:
    pages = {
        "index-ru": "/?lang=ru",
        "events-en": "/events?lang=en",
        "embed-en": "/embed/w/kz-government?platform=facebook&lang=en",
        "official-ru": "/o/askhat-aimagambetov?lang=ru",
    }
    async with serving(demo_url) as (_, base):
        for name, path in pages.items():
            response = await page.goto(base + path)
            assert response.status == 200, path
            await _shot(page, name)
    assert len(list(ARTIFACTS.glob("*.png"))) >= len(pages)


async def test_evidence_page_is_linked_and_styled_under_the_policy(
    demo_url: str, page: Any
) -> None:
    async with serving(demo_url) as (_, base):
        await page.goto(base + "/o/bagdat-musin?lang=en")
        await page.click("li.post p.evidence a >> nth=0")
        heading = await page.inner_text("h1")
        body = await page.locator("body").bounding_box()
        await _shot(page, "evidence-en")
    assert heading.startswith("Evidence of a post: Bagdat Musin")
    # the page's inline stylesheet applied (allowed by its hash): 60rem wide, not 1100px
    assert body is not None
    assert body["width"] < 1000
