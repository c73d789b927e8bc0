"""Digests: queued once at the chat's time in its time zone, then sent by the outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import parse_time, zone
from bot.config import Settings, load_settings
from bot.errors import (
    BadMarkup,
    ChatGone,
    DeliveryRetryAfter,
    OutcomeUnknown,
    PermanentDeliveryError,
)
from bot.notify.digest import MAX_LINES, DigestPlan, DigestQueue, latest_slot
from bot.notify.relay import Relay
from bot.reply import ChatAddress, Reply, SendResult, render_plain
from bot.store.engine import Database
from bot.store.models import Chat, Delivery, EventRow, Mute, utcnow
from tests.test_reports_world import Acc, Off, build_world

ALMATY = "Asia/Almaty"  # UTC+5, no daylight saving


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in Almaty (November 2026), as aware UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=zone(ALMATY, "UTC")).astimezone(UTC)


class RecordingBackend:
    """A chat backend that keeps what it was asked to send (the platform is not here)."""

    name: ClassVar[str] = "console"

    def __init__(self, fail: list[Exception] | None = None) -> None:
        self.sent: list[tuple[ChatAddress, Reply, bool]] = []
        self.calls = 0
        self.fail = list(fail or [])

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        self.calls += 1
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((address, reply, plain))
        return SendResult(message_id=str(len(self.sent)))


async def setup(
    database: Database,
    *,
    digest: str = "daily",
    events: int = 3,
    locale: str = "en",
    backend: str = "console",
    external_id: str = "42",
) -> int:
    ids = await build_world(database, [Off("Dana Omarova", [Acc("telegram", "omarova")])])
    async with database.sessions() as session, session.begin():
        chat = Chat(
            backend=backend,
            external_id=external_id,
            locale=locale,
            timezone=ALMATY,
            digest=digest,
            digest_time="09:00",
            digest_last_sent_at=local(18, 10),
            created_at=local(1, 0),
        )
        session.add(chat)
        await session.flush()
        await queue(session, chat.id, ids, events, start=0)
        return chat.id


async def queue(
    session: AsyncSession, chat_id: int, ids: dict[str, int], count: int, *, start: int
) -> None:
    for i in range(start, start + count):
        event = EventRow(
            account_id=ids["telegram:omarova"],
            official_id=ids["Dana Omarova"],
            kind="new_post",
            payload={"text": f"post number {i}", "url": f"https://t.me/omarova/{i}"},
            occurred_at=local(18, 12) + timedelta(minutes=i),
            detected_at=local(18, 12) + timedelta(minutes=i),
            dedup_key=f"e{i}",
        )
        session.add(event)
        await session.flush()
        await session.execute(
            insert(Delivery).values(
                event_id=event.id, chat_id=chat_id, status="digest", created_at=local(18, 12)
            )
        )


async def statuses(database: Database) -> dict[str, int]:
    async with database.sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {status: n for status, n in rows.all()}


async def digest_row(database: Database) -> Delivery:
    async with database.sessions() as session:
        [row] = (await session.scalars(select(Delivery).where(Delivery.event_id.is_(None)))).all()
        return row


async def due_now(database: Database) -> None:
    """Rows pushed into the future by a retry are made due (the test does not wait)."""
    async with database.sessions() as session:
        await session.execute(
            update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=utcnow())
        )
        await session.commit()


def settings() -> Settings:
    return load_settings(None, relay={"per_chat_interval": "10ms"})


def digests(database: Database) -> DigestQueue:
    return DigestQueue(db=database, settings=settings(), backends=["console"])


def relay(database: Database, backend: RecordingBackend) -> Relay:
    return Relay(db=database, backends={"console": backend}, settings=settings())


async def queue_and_send(database: Database, backend: RecordingBackend, now: datetime) -> int:
    """One digest tick at ``now`` and one relay pass: the messages that went out."""
    await digests(database).run_due(now)
    return await relay(database, backend).drain()


def test_parse_time() -> None:
    assert parse_time("09:30") == time(9, 30)
    assert parse_time("9:05") == time(9, 5)
    for bad in ("24:00", "9", "ab:cd", "12:60", "1:2:3"):
        assert parse_time(bad) is None


def test_weekly_slot_is_monday() -> None:
    plan = DigestPlan("weekly", time(9, 0), zone(ALMATY, "UTC"))
    # 26 Nov 2026 is a Thursday: the latest slot is Monday 23 Nov, 09:00 Almaty.
    assert latest_slot(plan, local(26, 15)) == local(23, 9)
    assert latest_slot(plan, local(23, 8, 59)) == local(16, 9)


async def test_daily_digest_at_the_set_time_and_only_then(database: Database) -> None:
    chat_id = await setup(database)
    backend = RecordingBackend()
    queue_ = digests(database)
    assert await queue_.run_due(local(19, 8, 59)) == 0
    assert await relay(database, backend).drain() == 0
    assert await queue_.run_due(local(19, 9, 0)) == 1
    assert await queue_.run_due(local(19, 9, 30)) == 0
    # Queued, not sent: the digest waits in the outbox as one pending row.
    assert await statuses(database) == {"digested": 3, "pending": 1}
    assert backend.calls == 0
    assert await relay(database, backend).drain() == 1
    assert len(backend.sent) == 1
    address, reply, plain = backend.sent[0]
    assert address.external_id == "42"
    assert not plain
    text = render_plain(reply)
    assert "Dana Omarova" in text
    assert "post" in text.lower()
    assert await statuses(database) == {"digested": 3, "sent": 1}
    digest = await digest_row(database)
    assert digest.payload is not None
    assert digest.platform_message_id == "1"
    async with database.sessions() as session:
        chat = await session.get(Chat, chat_id)
        summarised = (await session.scalars(select(Delivery.digest_id).where(
            Delivery.status == "digested"))).all()  # fmt: skip
        assert chat is not None
        assert chat.digest_last_sent_at == local(19, 9)
    assert set(summarised) == {digest.id}
    # Nothing happened the next day: quiet, but the slot is used up.
    assert await queue_and_send(database, backend, local(20, 9, 1)) == 0
    assert len(backend.sent) == 1


async def test_weekly_digest_waits_for_monday(database: Database) -> None:
    await setup(database, digest="weekly")
    backend = RecordingBackend()
    assert await queue_and_send(database, backend, local(20, 9, 0)) == 0  # Friday
    assert await queue_and_send(database, backend, local(23, 9, 0)) == 1  # Monday
    assert len(backend.sent) == 1


async def test_long_digest_is_cut(database: Database) -> None:
    await setup(database, events=MAX_LINES + 5, locale="ru")
    backend = RecordingBackend()
    assert await queue_and_send(database, backend, local(19, 9)) == 1
    text = render_plain(backend.sent[0][1])
    assert "5" in text.splitlines()[-1]
    assert await statuses(database) == {"digested": MAX_LINES + 5, "sent": 1}


async def test_retry_after_holds_the_digest_in_the_outbox(database: Database) -> None:
    chat_id = await setup(database)
    backend = RecordingBackend(fail=[DeliveryRetryAfter(0.05)])
    assert await queue_and_send(database, backend, local(19, 9)) == 0
    assert await statuses(database) == {"digested": 3, "pending": 1}
    assert (await digest_row(database)).attempts == 0  # a 429 is not an attempt
    await due_now(database)
    # The next tick queues nothing new; the relay sends the held digest once.
    assert await queue_and_send(database, backend, local(19, 9, 1)) == 1
    assert await statuses(database) == {"digested": 3, "sent": 1}
    assert len(backend.sent) == 1
    async with database.sessions() as session:
        chat = await session.get(Chat, chat_id)
        assert chat is not None
        assert chat.digest_last_sent_at == local(19, 9)


async def test_bad_markup_is_resent_plain(database: Database) -> None:
    await setup(database)
    backend = RecordingBackend(fail=[BadMarkup("can't parse entities")])
    assert await queue_and_send(database, backend, local(19, 9)) == 1
    assert backend.sent[0][2] is True


async def test_gone_chat_is_deactivated(database: Database) -> None:
    chat_id = await setup(database)
    backend = RecordingBackend(fail=[ChatGone("blocked")])
    assert await queue_and_send(database, backend, local(19, 9)) == 0
    async with database.sessions() as session:
        chat = await session.get(Chat, chat_id)
        assert chat is not None
        assert (chat.active, chat.inactive_reason) == (False, "blocked")
    assert (await digest_row(database)).status == "failed"


async def test_permanent_error_ends_the_digest(database: Database) -> None:
    await setup(database)
    backend = RecordingBackend(fail=[PermanentDeliveryError("message is too long")])
    assert await queue_and_send(database, backend, local(19, 9)) == 0
    row = await digest_row(database)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "too long" in (row.last_error or "")
    # No retry loop: later ticks (even a whole day later) never send it again.
    await due_now(database)
    assert await queue_and_send(database, backend, local(19, 9, 1)) == 0
    assert await queue_and_send(database, backend, local(20, 9, 1)) == 0
    assert backend.calls == 1
    assert await statuses(database) == {"digested": 3, "failed": 1}


@pytest.mark.parametrize("unknowns", [1, 2])
async def test_unknown_outcome_is_retried_exactly_once(database: Database, unknowns: int) -> None:
    await setup(database)
    backend = RecordingBackend(fail=[OutcomeUnknown("timed out") for _ in range(unknowns)])
    assert await queue_and_send(database, backend, local(19, 9)) == 0
    row = await digest_row(database)
    assert (row.status, row.unknown_outcomes) == ("pending", 1)
    for _ in range(3):
        await due_now(database)
        await relay(database, backend).drain()
    row = await digest_row(database)
    assert backend.calls == 2  # the one retry, never a third send
    assert row.unknown_outcomes == unknowns
    assert row.status == ("sent" if unknowns == 1 else "failed")
    assert len(backend.sent) == 2 - unknowns


async def test_muted_official_is_left_out_of_the_digest(database: Database) -> None:
    chat_id = await setup(database)
    async with database.sessions() as session:
        official_id = (await session.scalars(select(EventRow.official_id))).first()
        assert official_id is not None
        session.add(Mute(chat_id=chat_id, official_id=official_id))
        await session.commit()
    backend = RecordingBackend()
    assert await queue_and_send(database, backend, local(19, 9)) == 0
    assert await statuses(database) == {"skipped": 3}
    assert backend.calls == 0


async def test_two_workers_queue_one_digest(database: Database) -> None:
    await setup(database)
    a, b = digests(database), digests(database)
    results = await asyncio.gather(*(q.run_due(local(19, 9)) for q in (a, b, a, b)))
    assert sorted(results) == [0, 0, 0, 1]
    assert await statuses(database) == {"digested": 3, "pending": 1}


async def test_a_worker_that_read_the_chat_late_queues_nothing(database: Database) -> None:
    chat_id = await setup(database)
    async with database.sessions() as session:
        stale = await session.get(Chat, chat_id)
        assert stale is not None
    queue_ = digests(database)
    assert await queue_.run_due(local(19, 9)) == 1
    # A new event arrives; a worker still holding the chat as it was before the digest
    # must not queue a second digest for the same slot.
    async with database.sessions() as session, session.begin():
        await queue(session, chat_id, await _ids(session), 1, start=10)
    assert await queue_.queue_chat(stale, local(19, 9)) == 0
    assert await statuses(database) == {"digest": 1, "digested": 3, "pending": 1}


async def _ids(session: AsyncSession) -> dict[str, int]:
    event = (await session.scalars(select(EventRow))).first()
    assert event is not None
    assert event.account_id is not None
    assert event.official_id is not None
    return {"telegram:omarova": event.account_id, "Dana Omarova": event.official_id}


class TransactionWatch:
    """Which asyncio tasks hold an open database transaction, seen through engine events."""

    def __init__(self) -> None:
        self.open: dict[int, int] = {}

    def _task(self) -> int:
        return id(asyncio.current_task())

    def begin(self, conn: Any) -> None:
        self.open[self._task()] = self.open.get(self._task(), 0) + 1

    def end(self, conn: Any) -> None:
        self.open[self._task()] = max(0, self.open.get(self._task(), 0) - 1)

    def in_transaction(self) -> bool:
        """True when the current task has begun a transaction it has not ended."""
        return self.open.get(self._task(), 0) > 0


@pytest.fixture
def watch(database: Database) -> Iterator[TransactionWatch]:
    found = TransactionWatch()
    engine = database.engine.sync_engine
    hooks = [("begin", found.begin), ("commit", found.end), ("rollback", found.end)]
    for name, fn in hooks:
        event.listen(engine, name, fn)
    yield found
    for name, fn in hooks:
        event.remove(engine, name, fn)


class WatchedBackend(RecordingBackend):
    """Refuses to send while the sending task has a database transaction open."""

    def __init__(self, watch: TransactionWatch) -> None:
        super().__init__()
        self.watch = watch
        self.inside: list[bool] = []

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        self.inside.append(self.watch.in_transaction())
        return await super().send(address, reply, plain=plain)


async def test_no_digest_send_inside_a_transaction(
    database: Database, watch: TransactionWatch
) -> None:
    chat_id = await setup(database)
    async with database.sessions() as session, session.begin():
        # An ordinary alert for the same chat goes through the same relay pass.
        await queue(session, chat_id, await _ids(session), 1, start=20)
        await session.execute(
            update(Delivery).where(Delivery.id == select(func.max(Delivery.id)).scalar_subquery())
            .values(status="pending", created_at=utcnow())
        )  # fmt: skip
    backend = WatchedBackend(watch)
    assert await queue_and_send(database, backend, local(19, 9)) == 2
    # The watch itself works: the queuing ran inside a transaction it saw.
    async with database.sessions() as session, session.begin():
        await session.execute(select(1))
        assert watch.in_transaction()
    assert backend.inside == [False, False]


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_digest_renders_in_every_locale(database: Database, locale: str) -> None:
    await setup(database, locale=locale)
    backend = RecordingBackend()
    assert await queue_and_send(database, backend, local(19, 9)) == 1
    text = render_plain(backend.sent[0][1])
    assert "{" not in text
    assert "3" in text
