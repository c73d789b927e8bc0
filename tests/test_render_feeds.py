"""RSS alerts name the feed's site and link only to what the feed gave; the demo roster's
placeholder members read as placeholders (issue 15, wording)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import LOCALES, t
from bot.notify.render import render_event
from bot.reply import render_plain
from bot.roster import parse_roster_text
from bot.sources.rss import parse_feed
from bot.store.models import Account, EventRow, Official

AT = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
FEED = "https://www.gov.kz/memleket/entities/press/rss.xml"
OFFICIAL = Official(id=2, slug="o", name="Bagdat Musin", search_key="")
ACCOUNT = Account(id=3, official_id=2, platform="rss", handle=FEED, url=FEED)
ROSTER = Path(__file__).resolve().parent.parent / "bot" / "demo" / "roster.toml"


def _event(kind: str, **payload: Any) -> EventRow:
    base = {"platform": "rss", "handle": FEED, "url": FEED, "profile_url": FEED}
    return EventRow(id=1, account_id=3, official_id=2, kind=kind, payload={**base, **payload},
                    occurred_at=AT, dedup_key=f"3:{kind}:x")  # fmt: skip


def _render(event: EventRow, locale: str = "en", **kw: Any) -> str:
    kw.setdefault("official", OFFICIAL)
    kw.setdefault("account", ACCOUNT)
    return render_plain(render_event(event, locale=locale, **kw))


@pytest.mark.parametrize("locale", LOCALES)
def test_an_rss_alert_names_the_site_not_the_feed_url(locale: str) -> None:
    """Observed: RSS alerts showed the feed URL as the handle."""
    link = "https://www.gov.kz/memleket/entities/press/news/details/1"
    text = _render(_event("new_post", url=link, text="Press release"), locale)
    assert "gov.kz ·" in text
    assert FEED not in text
    assert f"({link})" in text
    assert t(locale, "alert.open_post") in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["new_post", "post_edited", "post_deleted"])
def test_an_item_without_its_own_link_gets_no_invented_link(kind: str, locale: str) -> None:
    """Observed: RSS alerts linked "the post" to an address the feed never gave."""
    text = _render(_event(kind, text="Press release"), locale)
    assert "http" not in text
    assert t(locale, "alert.open_post") not in text


def test_a_relative_item_link_is_not_turned_into_an_address() -> None:
    text = _render(_event("new_post", url="/news/1", text="x"))
    assert "http" not in text
    assert "/news/1" not in text


def test_an_unowned_feed_is_labelled_by_its_site() -> None:
    text = _render(_event("source_degraded", reason="timeout"), official=None, account=None)
    assert text.splitlines()[0].endswith("rss:gov.kz")
    assert f"({FEED})" in text  # the account's own address, given by the roster


def test_other_platforms_keep_their_handles_and_post_links() -> None:
    payload = {"platform": "telegram", "handle": "chan", "url": "https://t.me/chan/7",
               "profile_url": "https://t.me/chan"}  # fmt: skip
    event = EventRow(id=1, account_id=3, official_id=2, kind="new_post", payload=payload,
                     occurred_at=AT, dedup_key="3:new_post:7")  # fmt: skip
    account = Account(id=3, official_id=2, platform="telegram", handle="chan",
                      url="https://t.me/chan")  # fmt: skip
    text = _render(event, account=account)
    assert "chan ·" in text
    assert "open the post (https://t.me/chan/7)" in text


def test_the_feed_parser_stores_only_the_items_own_link() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Press</title>'
        b"<link>https://gov.kz/</link>"
        b"<item><guid>a</guid><title>No link, an id as guid</title></item>"
        b"<item><guid>b</guid><title>Linked</title><link>https://gov.kz/n/2</link></item>"
        b"<item><guid>c</guid><title>Relative</title><link>/n/3</link></item>"
        b"<item><guid>https://gov.kz/n/4</guid><title>Permalink guid</title></item>"
        b"</channel></rss>"
    )
    observation = parse_feed(body, handle=FEED, fetched_at=AT)
    assert {p.id: p.url for p in observation.posts} == {
        "a": None,
        "b": "https://gov.kz/n/2",
        "c": None,
        "https://gov.kz/n/4": "https://gov.kz/n/4",  # RSS 2.0: a guid is a permalink
    }
    assert observation.display_name == "Press"


def test_demo_placeholders_do_not_read_like_people() -> None:
    """Observed: "Deputy Prime Minister (Deputy Prime Minister)" in the demo."""
    entries = parse_roster_text(ROSTER.read_text(encoding="utf-8"), fmt="toml")
    assert len(entries) == 24
    placeholders = [e for e in entries if e.position and e.position in e.name]
    assert len(placeholders) == 5
    for entry in entries:
        assert entry.name != entry.position
    for entry in placeholders:
        assert entry.name.endswith("(name not given)")
        assert entry.name_ru
        assert entry.name_ru.endswith("(имя не названо)")
        assert entry.name_kk
        assert entry.name_kk.endswith("(аты аталмаған)")
