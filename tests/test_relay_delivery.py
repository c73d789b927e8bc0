"""The outbox relay against the fake Bot API: exactly once, paced, faults handled."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.chat.console import ConsoleBackend
from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.names import search_key
from bot.notify.pacing import Pacer
from bot.notify.relay import Relay
from bot.store.engine import Database
from bot.store.models import Account, Chat, Delivery, EventRow, Mute, Official, Subscription, utcnow
from tests.fakes.telegram_api import FakeTelegramAPI

HOSTILE = '<b>&</b><a href="x">'


def make_settings(db_url: str, api: FakeTelegramAPI | None = None, **relay: Any) -> Settings:
    telegram: dict[str, Any] = {"send_timeout": "1s", "poll_timeout": "1s"}
    if api is not None:
        telegram.update(token=api.token, base_url=api.base_url)
    return load_settings(
        None,
        database={"url": db_url},
        telegram=telegram,
        relay={"per_chat_interval": "10ms", "tick": "50ms", **relay},
    )


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


async def seed_official(db: Database, name: str = HOSTILE) -> tuple[Official, Account]:
    async with db.sessions() as session:
        official = Official(slug=f"o{abs(hash(name))}", name=name, search_key=search_key([name]))
        session.add(official)
        await session.flush()
        account = Account(
            official_id=official.id,
            platform="telegram",
            handle="chan_one",
            url="https://t.me/chan_one",
        )
        session.add(account)
        await session.commit()
        return official, account


async def seed_chat(
    db: Database,
    external_id: str,
    *,
    kind: str = "private",
    locale: str = "en",
    backend: str = "telegram",
) -> Chat:
    async with db.sessions() as session:
        chat = Chat(backend=backend, external_id=external_id, kind=kind, locale=locale)
        session.add(chat)
        await session.commit()
        return chat


async def seed_events(
    db: Database,
    official: Official,
    account: Account,
    chats: list[Chat],
    n: int = 1,
    kind: str = "followers_up",
) -> list[int]:
    now = datetime.now(UTC)
    ids = []
    async with db.sessions() as session:
        for i in range(n):
            payload = {
                "platform": "telegram",
                "handle": account.handle,
                "url": account.url,
                "profile_url": account.url,
                "before": 35340,
                "after": 37480 + i,
                "delta": 2140 + i,
                "percent": 6.06,
                "exact": True,
                "since": (now - timedelta(hours=24)).isoformat(),
            }
            event = EventRow(
                account_id=account.id,
                official_id=official.id,
                kind=kind,
                payload=payload,
                occurred_at=now,
                dedup_key=f"{account.id}:{kind}:{i}:{now.timestamp()}",
            )
            session.add(event)
            await session.flush()
            for chat in chats:
                delivery = Delivery(event_id=event.id, chat_id=chat.id)
                session.add(delivery)
                await session.flush()
                ids.append(delivery.id)
        await session.commit()
    return ids


async def statuses(db: Database) -> dict[int, tuple[str, int, str | None]]:
    async with db.sessions() as session:
        rows = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
    return {d.id: (d.status, d.attempts, d.last_error) for d in rows}


async def drain_until_done(relay: Relay, db: Database, *, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await relay.drain()
        states = await statuses(db)
        if all(s in ("sent", "failed", "skipped") for s, _, _ in states.values()):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not drained: {states}")
        # Rows held back by a 429 or pacing are due a little later.
        async with db.sessions() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.status == "pending")
                .values(next_attempt_at=utcnow())
            )
            await session.commit()
        await asyncio.sleep(0.05)


async def test_alert_is_sent_once_escaped_with_numbers_and_buttons(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chat = await seed_chat(database, "501", locale="en")
    ids = await seed_events(database, official, account, [chat])
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    assert await relay.drain() == 1
    assert await relay.drain() == 0
    [message] = api.messages_to(501)
    assert message.parse_mode == "HTML"
    assert '&lt;b&gt;&amp;&lt;/b&gt;&lt;a href="x"&gt;' in message.text
    assert '<a href="x">' not in message.text
    assert "+2,140" in message.text
    assert "now 37,480" in message.text
    assert "in 1\u00a0day" in message.text
    assert '<a href="https://t.me/chan_one">' in message.text
    assert message.params["link_preview_options"] == {"is_disabled": True}
    assert [b["callback_data"] for b in message.buttons] == [
        f"mute:{official.id}",
        f"chart:{official.id}",
        f"unsub:o:{official.id}",
    ]
    status, attempts, _ = (await statuses(database))[ids[0]]
    assert (status, attempts) == ("sent", 1)
    async with database.sessions() as session:
        row = await session.get(Delivery, ids[0])
        assert row is not None
        assert row.platform_message_id == str(message.message_id)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ru", "Подписчики: +2\u00a0140 за 1\u00a0день, теперь 37\u00a0480"),
        ("kk", "Оқырмандар: 1\u00a0күн ішінде +2\u00a0140, қазір 37\u00a0480"),
    ],
)
async def test_alert_in_the_chats_language(
    api: FakeTelegramAPI,
    telegram: TelegramBackend,
    database: Database,
    db_url: str,
    locale: str,
    expected: str,
) -> None:
    official, account = await seed_official(database, "Дана Омарова")
    chat = await seed_chat(database, "502", locale=locale)
    await seed_events(database, official, account, [chat])
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    await relay.drain()
    [message] = api.messages_to(502)
    assert expected in message.text


async def test_storm_of_429_delays_but_loses_and_doubles_nothing(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chats = [await seed_chat(database, str(600 + i)) for i in range(4)]
    ids = await seed_events(database, official, account, chats, n=5)
    api.fail("429", count=25, retry_after=1)
    relay = Relay(
        db=database,
        backends={"telegram": telegram},
        settings=make_settings(db_url, api, max_attempts=2),
    )
    await drain_until_done(relay, database)
    states = await statuses(database)
    assert {s for s, _, _ in states.values()} == {"sent"}
    assert all(attempts == 1 for _, attempts, _ in states.values())  # a 429 is not an attempt
    assert len(api.sent) == len(ids) == 20
    for chat in chats:
        texts = [m.text for m in api.messages_to(int(chat.external_id))]
        assert len(texts) == len(set(texts)) == 5
    assert not api.faults


async def test_retry_after_holds_back_only_that_chat(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    slow, fast = await seed_chat(database, "701"), await seed_chat(database, "702")
    await seed_events(database, official, account, [slow, fast], n=2)
    api.fail("429", chat_id=701, retry_after=30)
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    await relay.drain()
    await relay.drain()
    assert len(api.messages_to(702)) == 2
    assert api.messages_to(701) == []
    async with database.sessions() as session:
        held = (await session.scalars(select(Delivery).where(Delivery.chat_id == slow.id))).all()
    assert {d.status for d in held} == {"pending"}
    assert min(d.next_attempt_at for d in held) > utcnow() + timedelta(seconds=20)


async def test_blocked_and_missing_chats_are_deactivated(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    blocked, missing = await seed_chat(database, "801"), await seed_chat(database, "802")
    await seed_events(database, official, account, [blocked, missing], n=2)
    api.fail("blocked", chat_id=801)
    api.fail("chat_not_found", chat_id=802)
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    await drain_until_done(relay, database)
    async with database.sessions() as session:
        chats = {c.external_id: c for c in (await session.scalars(select(Chat))).all()}
        rows = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
    assert not chats["801"].active
    assert "blocked" in (chats["801"].inactive_reason or "")
    assert not chats["802"].active
    assert "chat not found" in (chats["802"].inactive_reason or "")
    assert sorted(d.status for d in rows) == ["failed", "failed", "skipped", "skipped"]
    assert api.sent == []


async def test_migrated_group_moves_and_gets_the_alert_once(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    group = await seed_chat(database, "-901", kind="group")
    async with database.sessions() as session:
        session.add(Subscription(chat_id=group.id, target_type="all", target_id=0))
        await session.commit()
    await seed_events(database, official, account, [group])
    api.fail("migrate", chat_id=-901, new_chat_id=-100901)
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    assert await relay.drain() == 1
    assert len(api.messages_to(-100901)) == 1
    assert api.messages_to(-901) == []
    async with database.sessions() as session:
        chat = (await session.scalars(select(Chat))).one()
        sub = (await session.scalars(select(Subscription))).one()
    assert chat.external_id == "-100901"
    assert chat.active
    assert sub.chat_id == chat.id


async def test_unparseable_markup_is_resent_as_plain_text(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chat = await seed_chat(database, "1001")
    await seed_events(database, official, account, [chat])
    api.fail("parse_entities", chat_id=1001)
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    assert await relay.drain() == 1
    [message] = api.messages_to(1001)
    assert message.parse_mode is None
    assert HOSTILE in message.text


async def test_timeout_is_retried_at_most_once(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    once, twice = await seed_chat(database, "1101"), await seed_chat(database, "1102")
    ids = await seed_events(database, official, account, [once, twice])
    api.fail("hang", chat_id=1101, hang_s=2)
    api.fail("hang", chat_id=1102, count=5, hang_s=2)
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    await drain_until_done(relay, database)
    states = await statuses(database)
    assert states[ids[0]][0] == "sent"
    assert states[ids[1]][0] == "failed"
    assert "twice" in (states[ids[1]][2] or "")
    hits = [p for m, p in api.requests if m == "sendMessage" and str(p["chat_id"]) == "1102"]
    assert len(hits) == 2


async def test_crash_mid_send_is_retried_once_then_given_up(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chat = await seed_chat(database, "1201")
    [first, second] = await seed_events(database, official, account, [chat], n=2)
    past = utcnow() - timedelta(minutes=5)
    async with database.sessions() as session:
        # As a killed worker leaves them: 'sending' with an expired lease. The count is
        # the state; the note is not (the second row's last note was a 429).
        await session.execute(
            update(Delivery)
            .where(Delivery.id == first)
            .values(status="sending", lease_until=past, last_error="outcome unknown: earlier")
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.id == second)
            .values(
                status="sending", lease_until=past, unknown_outcomes=1, last_error="retry after 3s"
            )
        )
        await session.commit()
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    assert await relay.drain() == 1
    states = await statuses(database)
    assert states[first][0] == "sent"
    assert states[second][0] == "failed"
    assert len(api.messages_to(1201)) == 1
    async with database.sessions() as session:
        rows = {d.id: d for d in (await session.scalars(select(Delivery))).all()}
    assert (rows[first].unknown_outcomes, rows[second].unknown_outcomes) == (1, 2)


async def test_muted_official_and_inactive_chat_are_skipped(
    database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    muted = await seed_chat(database, "c1", backend="console")
    inactive = await seed_chat(database, "c2", backend="console")
    live = await seed_chat(database, "c3", backend="console")
    async with database.sessions() as session:
        session.add(Mute(chat_id=muted.id, official_id=official.id))
        await session.execute(update(Chat).where(Chat.id == inactive.id).values(active=False))
        await session.commit()
    await seed_events(database, official, account, [muted, inactive, live])
    import io

    out = io.StringIO()
    relay = Relay(
        db=database,
        backends={"console": ConsoleBackend(stream=out)},
        settings=make_settings(db_url),
    )
    assert await relay.drain() == 1
    assert "[c3]" in out.getvalue()
    assert "[c1]" not in out.getvalue()
    assert HOSTILE in out.getvalue()
    states = sorted(s for s, _, _ in (await statuses(database)).values())
    assert states == ["sent", "skipped", "skipped"]


async def test_rows_for_backends_not_running_stay_pending(database: Database, db_url: str) -> None:
    official, account = await seed_official(database)
    chat = await seed_chat(database, "T1", backend="slack")
    await seed_events(database, official, account, [chat])
    relay = Relay(
        db=database, backends={"console": ConsoleBackend()}, settings=make_settings(db_url)
    )
    assert await relay.drain() == 0
    assert [s for s, _, _ in (await statuses(database)).values()] == ["pending"]


async def test_two_relays_never_send_the_same_row(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chats = [await seed_chat(database, str(1300 + i)) for i in range(10)]
    await seed_events(database, official, account, chats, n=3)
    settings = make_settings(db_url, api)
    other_db = Database(db_url)
    try:
        relays = [
            Relay(db=database, backends={"telegram": telegram}, settings=settings),
            Relay(db=other_db, backends={"telegram": telegram}, settings=settings),
        ]
        for _ in range(10):
            await asyncio.gather(*(r.drain(limit=7) for r in relays))
    finally:
        await other_db.close()
    assert len(api.sent) == 30
    assert len({(m.chat_id, m.text) for m in api.sent}) == 30


async def test_relay_paces_one_chat_and_the_limits_mode_agrees(
    database: Database, db_url: str
) -> None:
    server = FakeTelegramAPI(limits=True)
    await server.start()
    settings = load_settings(
        None,
        database={"url": db_url},
        telegram={"token": server.token, "base_url": server.base_url, "send_timeout": "2s"},
        relay={"tick": "50ms"},
    )
    backend = TelegramBackend(
        settings=settings, commands=CommandService(db=database, settings=settings)
    )
    await backend.app.initialize()
    try:
        official, account = await seed_official(database)
        chat = await seed_chat(database, "1401")
        await seed_events(database, official, account, [chat], n=3)
        relay = Relay(db=database, backends={"telegram": backend}, settings=settings)
        stop = asyncio.Event()
        runner = asyncio.create_task(relay.run(stop))
        await server.wait_for(lambda: len(server.sent) == 3, timeout=15)
        stop.set()
        await runner
    finally:
        await backend.app.shutdown()
        await server.close()
    times = [m.at for m in server.sent]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))
    assert server.rate_limited == 0


def test_pacer_limits() -> None:
    pacer = Pacer(per_chat_interval=1.0, per_group_per_minute=3, global_per_second=5)
    assert pacer.reserve("a", group=False, now=0.0) == 0
    assert pacer.reserve("a", group=False, now=0.5) == pytest.approx(0.5)
    assert pacer.reserve("a", group=False, now=1.0) == 0
    for t in (0.0, 1.0, 2.0):
        assert pacer.reserve("g", group=True, now=t) == 0
    assert pacer.reserve("g", group=True, now=3.0) == pytest.approx(57.0)
    pacer.block("b", 30, now=0.0)
    assert pacer.reserve("b", group=False, now=10.0) == pytest.approx(20.0)
    assert pacer.reserve("c", group=False, now=10.0) == 0  # others are not held back
    for key in "defgh":
        pacer.reserve(key, group=False, now=20.0)
    assert pacer.reserve("z", group=False, now=20.5) == pytest.approx(0.5)  # 5/s overall
    pacer.forget_idle(500.0)
    assert pacer.reserve("b", group=False, now=500.0) == 0


async def test_cancelled_pass_gives_back_rows_it_never_sent(
    api: FakeTelegramAPI, telegram: TelegramBackend, database: Database, db_url: str
) -> None:
    official, account = await seed_official(database)
    chat = await seed_chat(database, "1501")
    first, second = await seed_events(database, official, account, [chat], n=2)
    api.fail("hang", chat_id=1501, hang_s=5)
    relay = Relay(db=database, backends={"telegram": telegram}, settings=make_settings(db_url, api))
    task = asyncio.create_task(relay.drain())
    await api.wait_for(lambda: any(m == "sendMessage" for m, _ in api.requests))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    states = await statuses(database)
    assert states[first][0] == "sending"  # in flight: its outcome is unknown
    assert states[second][0] == "pending"
