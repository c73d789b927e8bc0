"""Every event kind renders in every locale: who, what (with numbers), where (a link)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.chat.telegram_html import render_html
from bot.domain import EventKind
from bot.i18n import LOCALES
from bot.notify.render import render_event
from bot.reply import render_plain
from bot.store.models import Account, EventRow, Official

AT = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
HOSTILE = '<b>&</b><a href="x">'
BASE = {
    "platform": "telegram",
    "handle": "chan_one",
    "url": "https://t.me/chan_one/7",
    "profile_url": "https://t.me/chan_one",
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "new_post": {
        "post_id": "7",
        "text": "Line one <i>\nline & two",
        "published_at": "2026-05-05T11:59:00Z",
        "is_repost": False,
        "is_reply": False,
        "forwarded_from": "other_chan",
    },
    "post_edited": {"post_id": "7", "text": "new text"},
    "post_deleted": {"post_id": "7", "published_at": "2026-05-01T10:00:00Z", "misses": 2},
    "followers_up": {
        "before": 35340,
        "after": 37480,
        "delta": 2140,
        "percent": 6.06,
        "exact": True,
        "margin": 0,
        "since": "2026-05-04T12:00:00+00:00",
    },
    "followers_down": {
        "before": 37480,
        "after": 35000,
        "delta": -2480,
        "percent": -6.62,
        "exact": False,
        "margin": 100,
        "since": "2026-05-05T09:00:00Z",
    },
    "followers_milestone": {"milestone": 50000, "followers": 50210, "exact": True},
    "went_silent": {
        "last_post_at": "2026-04-20T08:00:00Z",
        "silent_days": 15,
        "silent_after_days": 7,
    },
    "back_from_silence": {
        "silent_since": "2026-04-20T08:00:00Z",
        "silent_days": 15,
        "returned_at": "2026-05-05T11:00:00Z",
    },
    "profile_changed": {
        "fields": ["description", "display_name"],
        "changes": {
            "display_name": {"before": "Old", "after": HOSTILE},
            "description": {"before": None, "after": "Minister"},
        },
    },
    "account_missing": {
        "reason": "not_found",
        "last_ok_at": "2026-05-01T00:00:00Z",
        "absent_polls": 3,
    },
    "account_restored": {"missing_since": "2026-05-01T00:00:00Z"},
    "source_degraded": {"reason": "login_wall", "failures": 5, "last_ok_at": None},
    "source_recovered": {"degraded_since": "2026-05-01T00:00:00Z", "status": "ok"},
    "visibility_changed": {
        "before": "public",
        "after": "preview_off",
        "posts_hidden": True,
        "before_since": "2026-05-01T00:00:00Z",
        "polls": 2,
    },
    # several officials, named in the payload (the alert has no one official's buttons)
    "coordinated_posts": {
        "text": "Same <b>text</b> & more",
        "officials": 3,
        "posts": [
            {"official_id": 2, "name": HOSTILE, "platform": "telegram", "handle": "chan_one",
             "url": "https://t.me/chan_one/7", "published_at": "2026-05-05T11:00:00Z"},
            {"official_id": 4, "name": "B", "platform": "bluesky", "handle": "b.bsky.social",
             "url": None, "profile_url": "https://bsky.app/profile/b.bsky.social",
             "published_at": "2026-05-05T11:20:00Z"},
            {"official_id": 5, "name": "C", "names": {"ru": "Ц"}, "platform": "x",
             "handle": "c", "url": "javascript:alert(1)", "published_at": "2026-05-05T11:40:00Z"},
        ],
        "first_at": "2026-05-05T11:00:00Z",
        "last_at": "2026-05-05T11:40:00Z",
        "window_s": 7200,
        "threshold": 0.8,
    },
}  # fmt: skip


def _event(kind: str, payload: dict[str, Any]) -> EventRow:
    return EventRow(
        id=1,
        account_id=3,
        official_id=2,
        kind=kind,
        payload={**BASE, **payload},
        occurred_at=AT,
        dedup_key=f"3:{kind}:x",
    )


POST_KINDS = ("new_post", "post_edited", "post_deleted")
OFFICIAL = Official(id=2, slug="o", name=HOSTILE, search_key="")
ACCOUNT = Account(
    id=3, official_id=2, platform="telegram", handle="chan_one", url="https://t.me/chan_one"
)


def test_every_kind_has_a_payload_here() -> None:
    assert set(PAYLOADS) == {k.value for k in EventKind}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_kind_renders(kind: str, locale: str) -> None:
    reply = render_event(
        _event(kind, PAYLOADS[kind]),
        official=OFFICIAL,
        account=ACCOUNT,
        locale=locale,
        tz="Asia/Almaty",
    )
    plain = render_plain(reply)
    assert HOSTILE in plain  # who, literally
    assert "https://t.me/chan_one" in plain  # where
    assert "{" not in plain
    assert "alert." not in plain
    rows = [[b.action for b in row] for row in reply.buttons]
    official_row = ["mute:2", "chart:2", "unsub:o:2"]
    # a post alert's evidence button comes first, on its own row
    if kind == "coordinated_posts":  # several officials: no one official's buttons
        assert rows == []
    else:
        assert rows == ([["ev:1"], official_row] if kind in POST_KINDS else [official_row])
    [html] = render_html(reply)
    assert '<a href="x">' not in html


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Followers: +2,140 in 1\u00a0day, now 37,480 (+6.1%)"),
        ("ru", "Подписчики: +2\u00a0140 за 1\u00a0день, теперь 37\u00a0480 (+6,1\u00a0%)"),
        ("kk", "Оқырмандар: 1\u00a0күн ішінде +2\u00a0140, қазір 37\u00a0480 (+6,1\u00a0%)"),
    ],
)
def test_follower_numbers_are_formatted_for_the_locale(locale: str, expected: str) -> None:
    reply = render_event(
        _event("followers_up", PAYLOADS["followers_up"]),
        official=OFFICIAL,
        account=ACCOUNT,
        locale=locale,
    )
    assert expected in render_plain(reply)


def test_details_post_text_times_and_approximation() -> None:
    post = render_plain(
        render_event(
            _event("new_post", PAYLOADS["new_post"]),
            official=OFFICIAL,
            account=ACCOUNT,
            locale="en",
            tz="Asia/Almaty",
        )
    )
    assert "Line one <i>\nline & two" in post
    assert "other_chan" in post
    assert "May 5, 2026, 17:00" in post
    down = render_plain(
        render_event(
            _event("followers_down", PAYLOADS["followers_down"]),
            official=OFFICIAL,
            account=ACCOUNT,
            locale="ru",
        )
    )
    assert "\u22122\u00a0480 за 3\u00a0часа" in down
    assert "примерно" in down
    silent = render_plain(
        render_event(
            _event("went_silent", PAYLOADS["went_silent"]),
            official=OFFICIAL,
            account=ACCOUNT,
            locale="kk",
        )
    )
    assert "15\u00a0күн" in silent
    assert "2026 ж. 20 сәу" in silent


def test_missing_official_and_odd_payloads_still_render() -> None:
    event = EventRow(
        id=1,
        account_id=None,
        official_id=None,
        kind="followers_up",
        payload={"after": "many", "url": "javascript:alert(1)"},
        occurred_at=AT,
        dedup_key="k",
    )
    reply = render_event(event, official=None, account=None, locale="en")
    plain = render_plain(reply)
    assert "Followers" in plain
    assert "javascript" not in plain
    assert reply.buttons == ()
    unknown = EventRow(id=2, kind="brand_new_kind", payload={}, occurred_at=AT, dedup_key="u")
    assert "brand_new_kind" in render_plain(
        render_event(unknown, official=OFFICIAL, account=ACCOUNT, locale="kk")
    )


@pytest.mark.parametrize(
    ("kind", "code", "locale", "words"),
    [
        ("source_degraded", "http_503", "en", "platform server error"),
        ("source_degraded", "login_wall", "ru", "доступ"),
        ("account_missing", "not_found", "en", "account not found"),
    ],
)
def test_alert_reasons_are_words_not_codes(kind: str, code: str, locale: str, words: str) -> None:
    payload = {**PAYLOADS[kind], "reason": code}
    reply = render_event(
        _event(kind, payload), official=OFFICIAL, account=ACCOUNT, locale=locale, tz="UTC"
    )
    plain = render_plain(reply)
    assert words in plain.lower()
    assert code not in plain
