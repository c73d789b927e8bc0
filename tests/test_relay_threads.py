"""Follow-ups in the thread: an edit or deletion alert replies to its post's new_post alert.

Through the real relay and database, against the fake Bot API and the fake Slack: the
edit arrives in Telegram as a reply to the new_post alert (``reply_parameters`` with
``allow_sending_without_reply``) and in Slack in that alert's thread (``thread_ts`` with
``reply_broadcast``); an edit after an edit still threads under the new_post alert; a
deleted alert never loses the follow-up; the anchors of a whole batch cost one query.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot.chat.slack import SlackBackend
from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.detect.events import make_event
from bot.detect.state import AccountInfo
from bot.domain import EventKind, Platform
from bot.notify.relay import THREAD_GRACE, Relay, anchor_key, anchors_first, thread_reply
from bot.store.engine import Database
from bot.store.models import Account, Chat, Delivery, EventRow, Official, utcnow
from bot.store.outbox import OutboxJob
from bot.store.threads import Anchor, new_post_key
from tests.fakes.slack_api import FakeSlack, slack_settings
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_relay_delivery import make_settings

TG_CHAT = 5150
SLACK_CHANNEL = "C0NEWS"
_seq = itertools.count(1)


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def telegram(
    api: FakeTelegramAPI, database: Database, db_url: str
) -> AsyncIterator[TelegramBackend]:
    settings = make_settings(db_url, api)
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.app.initialize()
    yield backend
    await backend.app.shutdown()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    server.add_channel(SLACK_CHANNEL)
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def slack(fake: FakeSlack, database: Database) -> AsyncIterator[SlackBackend]:
    settings = slack_settings(fake, mode="socket")
    backend = SlackBackend(
        settings=settings,
        commands=CommandService(db=database, settings=settings),
        min_interval=0.0,
    )
    await backend.start()
    try:
        yield backend
    finally:
        await backend.stop()


@pytest.fixture
async def relay(
    telegram: TelegramBackend, slack: SlackBackend, database: Database, db_url: str, api: Any
) -> Relay:
    return Relay(
        db=database,
        backends={"telegram": telegram, "slack": slack},
        settings=make_settings(db_url, api),
    )


# --- the world: one official, one account, a Telegram chat and a Slack channel -------------


async def seed(database: Database) -> tuple[Official, Account, list[Chat]]:
    async with database.sessions() as session:
        official = Official(slug="dana", name="Dana Omarova", search_key="dana omarova")
        session.add(official)
        await session.flush()
        account = Account(
            official_id=official.id,
            platform="telegram",
            handle="dana_ch",
            url="https://t.me/dana_ch",
        )
        chats = [
            Chat(backend="telegram", external_id=str(TG_CHAT), kind="group", locale="en"),
            Chat(backend="slack", external_id=SLACK_CHANNEL, team_id="T0TEAM", kind="group"),
        ]
        session.add_all([account, *chats])
        await session.commit()
        return official, account, chats


async def post_event(
    database: Database,
    official: Official,
    account: Account,
    chats: Sequence[Chat],
    kind: str,
    post_id: str,
    *,
    text: str = "Schools open on 1 September.",
) -> list[int]:
    """An event about post ``post_id`` as detection writes it, queued for ``chats``."""
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "platform": "telegram",
        "handle": account.handle,
        "url": f"https://t.me/dana_ch/{post_id}",
        "profile_url": account.url,
        "post_id": post_id,
        "text": text,
    }
    key = f"{account.id}:{kind}:{post_id}"
    if kind != "new_post":
        key += f":{next(_seq)}"
        payload.update(old_text="Schools open.", version=2)
    async with database.sessions() as session:
        row = EventRow(
            account_id=account.id,
            official_id=official.id,
            kind=kind,
            payload=payload,
            occurred_at=now,
            dedup_key=key,
        )
        session.add(row)
        await session.flush()
        deliveries = [Delivery(event_id=row.id, chat_id=chat.id) for chat in chats]
        session.add_all(deliveries)
        await session.commit()
        return [d.id for d in deliveries]


async def rows(database: Database) -> dict[int, Delivery]:
    async with database.sessions() as session:
        found = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
    return {d.id: d for d in found}


def slack_posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [p for p in fake.posts if p["channel"] == SLACK_CHANNEL]


# --- end to end ------------------------------------------------------------------------------


async def test_edits_reply_to_the_new_post_alert_in_both_chats(
    relay: Relay, database: Database, api: FakeTelegramAPI, fake: FakeSlack
) -> None:
    official, account, chats = await seed(database)
    await post_event(database, official, account, chats, "new_post", "137")
    await post_event(database, official, account, chats, "new_post", "138")  # another post
    assert await relay.drain() == 4
    first_edit = await post_event(database, official, account, chats, "post_edited", "137")
    assert await relay.drain() == 2
    second_edit = await post_event(database, official, account, chats, "post_edited", "137")
    deletion = await post_event(database, official, account, chats, "post_deleted", "137")
    assert await relay.drain() == 4

    new_post, other, *follow_ups = api.messages_to(TG_CHAT)
    assert new_post.reply_to is None
    assert other.reply_to is None
    assert len(follow_ups) == 3
    for message in follow_ups:
        assert message.reply_to == new_post.message_id
        assert message.params["reply_parameters"] == {
            "message_id": new_post.message_id,
            "allow_sending_without_reply": True,
        }
    top, other_top, *threaded = slack_posts(fake)
    assert fake.thread_of(top) is None
    assert fake.thread_of(other_top) is None
    assert len(threaded) == 3
    for post in threaded:
        assert post["thread_ts"] == top["ts"]
        assert post["reply_broadcast"] is True
        assert fake.thread_of(post) == top["ts"]

    delivered = await rows(database)
    assert {d.status for d in delivered.values()} == {"sent"}
    # What the relay stored is what it replies to: Telegram's message_id, Slack's ts.
    tg_row, slack_row = (delivered[i] for i in first_edit)
    assert tg_row.platform_message_id == str(follow_ups[0].message_id)
    assert slack_row.platform_message_id == threaded[0]["ts"]
    assert [len(x) for x in (second_edit, deletion)] == [2, 2]


async def test_a_deleted_alert_never_loses_its_follow_up(
    relay: Relay, database: Database, api: FakeTelegramAPI, fake: FakeSlack
) -> None:
    official, account, chats = await seed(database)
    await post_event(database, official, account, chats, "new_post", "7")
    assert await relay.drain() == 2
    [alert] = api.messages_to(TG_CHAT)
    [top] = slack_posts(fake)
    api.delete_message(TG_CHAT, alert.message_id)
    fake.delete_message(SLACK_CHANNEL, top["ts"])
    await post_event(database, official, account, chats, "post_deleted", "7")
    assert await relay.drain() == 2
    # Telegram sends it anyway (allow_sending_without_reply); Slack posts it to the channel.
    [_, follow_up] = api.messages_to(TG_CHAT)
    assert follow_up.reply_to is None
    assert follow_up.params["reply_parameters"]["allow_sending_without_reply"] is True
    [_, post] = slack_posts(fake)
    assert post["thread_ts"] == top["ts"]
    assert fake.thread_of(post) is None
    assert {d.status for d in (await rows(database)).values()} == {"sent"}


@pytest.mark.parametrize("error", ["thread_not_found", "invalid_thread_ts", "message_not_found"])
async def test_slack_refusing_the_thread_posts_to_the_channel_once(
    relay: Relay, database: Database, fake: FakeSlack, error: str
) -> None:
    official, account, chats = await seed(database)
    await post_event(database, official, account, chats[1:], "new_post", "9")
    assert await relay.drain() == 1
    [top] = slack_posts(fake)
    fake.delete_message(SLACK_CHANNEL, top["ts"])
    fake.missing_thread = error
    await post_event(database, official, account, chats[1:], "post_edited", "9")
    assert await relay.drain() == 1
    tries = [a for a in fake.called("chat.postMessage") if a.get("thread_ts") == top["ts"]]
    assert len(tries) == 1  # refused, nothing posted
    [_, post] = slack_posts(fake)
    assert "thread_ts" not in post
    assert "reply_broadcast" not in post
    assert [d.status for d in (await rows(database)).values()] == ["sent", "sent"]


async def test_a_new_post_and_its_edit_in_one_pass_thread(
    relay: Relay, database: Database, api: FakeTelegramAPI, fake: FakeSlack
) -> None:
    official, account, chats = await seed(database)
    # The edit was queued first (its new_post alert was held back, say): the relay still
    # sends the new_post alert first and threads the edit under it in the same pass.
    edit = await post_event(database, official, account, chats, "post_edited", "21")
    post = await post_event(database, official, account, chats, "new_post", "21")
    async with database.sessions() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(post))
            .values(next_attempt_at=utcnow() - timedelta(seconds=5))
        )
        await session.execute(
            update(Delivery).where(Delivery.id.in_(edit)).values(next_attempt_at=utcnow())
        )
        await session.commit()
    assert await relay.drain() == 4
    first, second = api.messages_to(TG_CHAT)
    assert second.reply_to == first.message_id
    top, threaded = slack_posts(fake)
    assert fake.thread_of(threaded) == top["ts"]


async def test_a_follow_up_waits_for_its_new_post_alert_still_on_its_way(
    relay: Relay, database: Database, api: FakeTelegramAPI, fake: FakeSlack
) -> None:
    official, account, chats = await seed(database)
    post = await post_event(database, official, account, chats[:1], "new_post", "30")
    edit = await post_event(database, official, account, chats[:1], "post_edited", "30")
    # A 429 held the new_post alert back for a few seconds; the edit is due now.
    due = utcnow() + timedelta(seconds=3)
    async with database.sessions() as session:
        await session.execute(
            update(Delivery).where(Delivery.id.in_(post)).values(next_attempt_at=due)
        )
        await session.commit()
    assert await relay.drain() == 0
    held = (await rows(database))[edit[0]]
    assert held.status == "pending"
    assert held.next_attempt_at >= due + THREAD_GRACE - timedelta(milliseconds=1)
    assert api.messages_to(TG_CHAT) == []
    async with database.sessions() as session:
        await session.execute(update(Delivery).values(next_attempt_at=utcnow()))
        await session.commit()
    assert await relay.drain() == 2
    first, second = api.messages_to(TG_CHAT)
    assert second.reply_to == first.message_id


async def test_without_a_new_post_alert_in_the_chat_the_follow_up_stands_alone(
    relay: Relay, database: Database, api: FakeTelegramAPI, fake: FakeSlack
) -> None:
    official, account, chats = await seed(database)
    # The Slack channel subscribed after the post appeared: only Telegram had its alert;
    # and a new_post alert that failed for good is nothing to reply to either.
    await post_event(database, official, account, chats[:1], "new_post", "40")
    failed = await post_event(database, official, account, chats[1:], "new_post", "41")
    async with database.sessions() as session:
        await session.execute(
            update(Delivery).where(Delivery.id.in_(failed)).values(status="failed")
        )
        await session.commit()
    assert await relay.drain() == 1
    await post_event(database, official, account, chats, "post_edited", "40")
    await post_event(database, official, account, chats[1:], "post_edited", "41")
    assert await relay.drain() == 3
    assert api.messages_to(TG_CHAT)[1].reply_to == api.messages_to(TG_CHAT)[0].message_id
    assert all("thread_ts" not in p for p in slack_posts(fake))


async def test_a_migrated_group_gets_the_follow_up_without_a_stale_reply(
    relay: Relay, database: Database, api: FakeTelegramAPI
) -> None:
    official, account, chats = await seed(database)
    await post_event(database, official, account, chats[:1], "new_post", "50")
    assert await relay.drain() == 1
    await post_event(database, official, account, chats[:1], "post_edited", "50")
    api.fail("migrate", chat_id=TG_CHAT, new_chat_id=-1005150)
    assert await relay.drain() == 1
    [moved] = api.messages_to(-1005150)
    assert "reply_parameters" not in moved.params  # the old group's message ids mean nothing


async def test_the_anchors_of_a_batch_cost_one_query(
    relay: Relay, database: Database, api: FakeTelegramAPI, fake: FakeSlack
) -> None:
    official, account, chats = await seed(database)
    for post_id in ("60", "61", "62"):
        await post_event(database, official, account, chats, "new_post", post_id)
    assert await relay.drain() == 6
    for post_id in ("60", "61", "62", "63"):
        await post_event(database, official, account, chats, "post_edited", post_id)
        await post_event(database, official, account, chats, "post_deleted", post_id)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "new_post" in statement or "dedup_key IN" in statement.replace("\n", " "):
            statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await relay.drain() == 16
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", seen)
    assert len(statements) == 1
    replies = [m.reply_to for m in api.messages_to(TG_CHAT)[3:]]
    assert sum(r is not None for r in replies) == 6  # post 63 had no new_post alert


# --- the rules, as tables -------------------------------------------------------------------


def test_the_thread_key_is_the_new_post_events_dedup_key() -> None:
    info = AccountInfo(12, 1, Platform.TELEGRAM, "h", "https://t.me/h")
    now = datetime.now(UTC)
    for post_id in ("137", "x" * 400):
        made = make_event(info, EventKind.NEW_POST, occurred_at=now, key=post_id)
        assert made.dedup_key == new_post_key(12, post_id)


def _event(kind: str, payload: dict[str, Any] | None, account_id: int | None = 3) -> EventRow:
    return EventRow(
        id=1,
        account_id=account_id,
        kind=kind,
        payload=payload or {},
        occurred_at=datetime.now(UTC),
        dedup_key=f"{account_id}:{kind}:k",
    )


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (_event("post_edited", {"post_id": "137"}), "3:new_post:137"),
        (_event("post_deleted", {"post_id": 137}), "3:new_post:137"),
        (_event("post_edited", {"post_id": ""}), None),
        (_event("post_edited", {}), None),
        (_event("post_edited", {"post_id": "1"}, account_id=None), None),
        (_event("new_post", {"post_id": "137"}), None),
        (_event("followers_up", {"post_id": "137"}), None),
        (None, None),
    ],
)
def test_which_alerts_follow_up_and_on_which_post(event: EventRow | None, key: str | None) -> None:
    assert anchor_key(event) == key


def _job(kind: str, post: str, *, anchor: Anchor | None = None) -> OutboxJob:
    chat = Chat(id=1, backend="telegram", external_id="1")
    row = EventRow(
        id=next(_seq),
        account_id=3,
        kind=kind,
        payload={"post_id": post},
        occurred_at=datetime.now(UTC),
        dedup_key=f"3:new_post:{post}" if kind == "new_post" else f"3:{kind}:{post}",
    )
    job = OutboxJob(
        delivery=Delivery(id=row.id, chat_id=1), chat=chat, event=row, official=None, account=None
    )
    job.anchor_key = anchor_key(row)
    job.anchor = anchor
    return job


def test_a_follow_up_moves_after_its_new_post_alert_and_nothing_else_moves() -> None:
    edit_a, other, post_a, edit_b, post_c = (
        _job("post_edited", "a"),
        _job("followers_up", "-"),
        _job("new_post", "a"),
        _job("post_edited", "b"),
        _job("new_post", "c"),
    )
    ordered = anchors_first([edit_a, other, post_a, edit_b, post_c])
    assert ordered == [other, post_a, edit_a, edit_b, post_c]


NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("anchor", "sent_here", "here", "reply_to", "wait"),
    [
        (Anchor("41"), {}, set(), "41", None),  # delivered earlier
        (None, {"3:new_post:a": "77"}, {"3:new_post:a"}, "77", None),  # sent in this pass
        (None, {}, set(), None, None),  # never sent to this chat
        (Anchor(None, NOW + timedelta(seconds=30)), {}, set(), None, NOW + timedelta(seconds=32)),
        (Anchor(None, NOW - timedelta(hours=1)), {}, set(), None, NOW + timedelta(seconds=2)),
        (Anchor(None, NOW + timedelta(hours=2)), {}, set(), None, None),  # too far off
        (Anchor(None, NOW), {}, {"3:new_post:a"}, None, None),  # tried this pass, not sent
    ],
)
def test_when_a_follow_up_replies_or_waits(
    anchor: Anchor | None,
    sent_here: dict[str, str],
    here: set[str],
    reply_to: str | None,
    wait: datetime | None,
) -> None:
    job = _job("post_edited", "a", anchor=anchor)
    assert thread_reply(job, sent_here, here, NOW) == wait
    assert job.reply_to == reply_to
