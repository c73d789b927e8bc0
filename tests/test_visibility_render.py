"""``visibility_changed`` alerts: which way, in ru, kk and en, for Telegram and Slack."""

from __future__ import annotations

import json

import pytest

from bot.chat.slack_blocks import message_blocks
from bot.chat.telegram_html import render_html
from bot.i18n import t
from bot.notify.render import render_event
from bot.reply import render_plain
from bot.store.models import EventRow
from tests.test_relay_render import ACCOUNT, AT, BASE, OFFICIAL

# (before, after, posts hidden, the sentence's key, the note's key or None)
CASES = [
    ("public", "preview_off", True, "alert.visibility.to.preview_off", "hidden_note"),
    ("preview_off", "public", False, "alert.visibility.back.preview_off", "readable_note"),
    ("public", "private", True, "alert.visibility.to.private", "hidden_note"),
    ("private", "public", False, "alert.visibility.back.private", "readable_note"),
    ("public", "locked", False, "alert.visibility.to.locked", None),
    ("locked", "public", False, "alert.visibility.back.locked", None),
    ("public", "logged_in_only", False, "alert.visibility.to.logged_in_only", None),
    ("logged_in_only", "public", False, "alert.visibility.back.logged_in_only", None),
    ("public", "something_new", False, "alert.text.visibility_changed", None),
]


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
@pytest.mark.parametrize(("before", "after", "hidden", "key", "note"), CASES)
def test_visibility_alert(
    before: str, after: str, hidden: bool, key: str, note: str | None, locale: str
) -> None:
    event = EventRow(
        id=5,
        account_id=3,
        official_id=2,
        kind="visibility_changed",
        payload={**BASE, "before": before, "after": after, "posts_hidden": hidden},
        occurred_at=AT,
        dedup_key="3:visibility_changed:x",
    )
    reply = render_event(event, official=OFFICIAL, account=ACCOUNT, locale=locale, tz="UTC")
    plain = render_plain(reply)
    assert t(locale, key) in plain
    for other in ("hidden_note", "readable_note"):
        assert (t(locale, f"alert.visibility.{other}") in plain) is (other == note)
    html = "".join(render_html(reply))
    slack = json.dumps(message_blocks(reply), ensure_ascii=False)
    sentence = t(locale, key)
    assert sentence.split()[0] in html
    assert sentence.split()[0] in slack
    assert "👁" in html
    assert "👁" in slack
