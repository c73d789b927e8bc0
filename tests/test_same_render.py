"""The ``coordinated_posts`` alert in ru, kk and en: every official, time and link, the
text escaped for Telegram HTML and Slack mrkdwn, only web links clickable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.chat.slack_blocks import message_blocks
from bot.chat.telegram_html import render_html
from bot.i18n import LOCALES
from bot.notify.render import render_event
from bot.reply import render_plain
from bot.store.models import EventRow

HOSTILE = '<b>&</b><a href="x">'
PAYLOAD = {
    "text": "Общий <i>текст</i> & *ссылка* <https://evil.example|жми>",
    "officials": 3,
    "posts": [
        {"official_id": 1, "name": HOSTILE, "platform": "telegram", "handle": "a",
         "url": "https://t.me/a/7", "published_at": "2026-12-04T09:00:00Z"},
        {"official_id": 2, "name": "Yerlan Sapar", "names": {"ru": "Ерлан Сапар",
         "kk": "Ерлан Сапар"}, "platform": "bluesky", "handle": "b.bsky.social", "url": None,
         "profile_url": "https://bsky.app/profile/b.bsky.social",
         "published_at": "2026-12-04T09:20:00Z"},
        {"official_id": 3, "name": "Aida", "platform": "x", "handle": "c",
         "url": "javascript:alert(1)", "published_at": "2026-12-04T09:45:00Z"},
    ],
    "first_at": "2026-12-04T09:00:00Z",
    "last_at": "2026-12-04T09:45:00Z",
    "window_s": 7200,
    "threshold": 0.8,
}  # fmt: skip
TITLES = {
    "en": "Same text from 3 officials",
    "ru": "Одинаковый текст от 3 чиновников",
    "kk": "3 шенеуніктің бірдей мәтіні",
}


def _event() -> EventRow:
    at = datetime(2026, 12, 4, 9, 45, tzinfo=UTC)
    return EventRow(id=5, account_id=None, official_id=None, kind="coordinated_posts",
                    payload=PAYLOAD, occurred_at=at, detected_at=at, dedup_key="c:1")  # fmt: skip


@pytest.mark.parametrize("locale", LOCALES)
def test_the_alert_names_everyone_in_every_language(locale: str) -> None:
    reply = render_event(_event(), official=None, account=None, locale=locale, tz="Asia/Almaty")
    plain = render_plain(reply)
    assert TITLES[locale] in plain
    assert HOSTILE in plain
    assert ("Ерлан Сапар" if locale != "en" else "Yerlan Sapar") in plain
    assert "14:00" in plain  # 09:00 UTC in Almaty
    assert "45" in plain  # 45 minutes apart
    assert "80" in plain  # the threshold
    assert "{" not in plain
    assert reply.buttons == ()
    assert reply.summary is not None
    assert TITLES[locale] in reply.summary
    [html] = render_html(reply)
    assert '<a href="x">' not in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html
    assert "<i>Общий &lt;i&gt;текст&lt;/i&gt; &amp;" in html
    assert 'href="https://t.me/a/7"' in html
    assert 'href="https://bsky.app/profile/b.bsky.social"' in html  # no post link: the profile
    assert "javascript:" not in html


def test_the_alert_in_slack_is_escaped() -> None:
    reply = render_event(_event(), official=None, account=None, locale="en", tz="UTC")
    wire = json.dumps(message_blocks(reply), ensure_ascii=False)
    assert "<https://evil.example|" not in wire
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in wire
    assert "<https://t.me/a/7|open the post>" in wire
    assert "javascript:" not in wire
