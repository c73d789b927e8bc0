"""A follow-up after a prune still threads under its post's new_post alert.

Through the real relay against the fake Bot API and the fake Slack (the fixtures of
``tests/test_relay_threads``): the alerts of post 137 and of its first edit are sent, a
prune a year later removes the old outbox rows and events it may, and the post's next
edit is then delivered as a reply to that first alert in both chats.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.notify.relay import Relay
from bot.store.engine import Database
from bot.store.models import Delivery
from bot.store.retention import Policy, prune
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_relay_threads import (  # noqa: F401 (fixtures)
    TG_CHAT,
    api,
    fake,
    post_event,
    relay,
    seed,
    slack,
    slack_posts,
    telegram,
)

YEAR = timedelta(days=365)


async def test_an_edit_after_a_prune_replies_to_the_new_post_alert(
    relay: Relay,  # noqa: F811 (the imported fixture)
    database: Database,
    api: FakeTelegramAPI,  # noqa: F811
    fake: FakeSlack,  # noqa: F811
) -> None:
    official, account, chats = await seed(database)
    await post_event(database, official, account, chats, "new_post", "137")
    old_edit = await post_event(database, official, account, chats, "post_edited", "137")
    assert await relay.drain() == 4

    # A year on: the prune sees every row as a year old.
    report = await prune(database, Policy(), now=datetime.now(UTC) + YEAR)
    assert report.counts["deliveries"] == 2  # the old edit's alerts went; the anchors stayed
    async with database.sessions() as session:
        left = set(await session.scalars(select(Delivery.id)))
    assert not left & set(old_edit)
    assert len(left) == 2

    await post_event(database, official, account, chats, "post_edited", "137", text="Changed.")
    assert await relay.drain() == 2
    new_post, _, follow_up = api.messages_to(TG_CHAT)
    assert follow_up.reply_to == new_post.message_id
    top, _, threaded = slack_posts(fake)
    assert threaded["thread_ts"] == top["ts"]
    assert fake.thread_of(threaded) == top["ts"]
