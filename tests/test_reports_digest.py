"""Digests: sent once at the chat's time in its time zone, quiet on empty days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import func, insert, select

from bot.clock import parse_time, zone
from bot.config import Settings
from bot.errors import BadMarkup, ChatGone, DeliveryRetryAfter
from bot.reply import ChatAddress, Reply, SendResult, render_plain
from bot.reports.digest import MAX_LINES, DigestPlan, DigestSender, latest_slot
from bot.store.engine import Database
from bot.store.models import Chat, Delivery, EventRow
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
        self.fail = list(fail or [])

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((address, reply, plain))
        return SendResult(message_id=str(len(self.sent)))


async def setup(
    database: Database, *, digest: str = "daily", events: int = 3, locale: str = "en"
) -> int:
    ids = await build_world(database, [Off("Dana Omarova", [Acc("telegram", "omarova")])])
    async with database.sessions() as session, session.begin():
        chat = Chat(
            backend="console",
            external_id="42",
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
    session: object, chat_id: int, ids: dict[str, int], count: int, *, start: int
) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
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


def sender(database: Database, backend: RecordingBackend) -> DigestSender:
    return DigestSender(db=database, backends={"console": backend}, settings=Settings())


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
    digests = sender(database, backend)
    assert await digests.run_due(local(19, 8, 59)) == 0
    assert backend.sent == []
    assert await digests.run_due(local(19, 9, 0)) == 1
    assert await digests.run_due(local(19, 9, 30)) == 0
    assert len(backend.sent) == 1
    address, reply, plain = backend.sent[0]
    assert address.external_id == "42"
    assert not plain
    text = render_plain(reply)
    assert "Dana Omarova" in text
    assert "post" in text.lower()
    assert await statuses(database) == {"sent": 3}
    async with database.sessions() as session:
        chat = await session.get(Chat, chat_id)
        assert chat is not None
        assert chat.digest_last_sent_at == local(19, 9)
    # Nothing happened the next day: quiet, but the slot is used up.
    assert await digests.run_due(local(20, 9, 1)) == 0
    assert len(backend.sent) == 1


async def test_weekly_digest_waits_for_monday(database: Database) -> None:
    await setup(database, digest="weekly")
    backend = RecordingBackend()
    digests = sender(database, backend)
    assert await digests.run_due(local(20, 9, 0)) == 0  # Friday
    assert await digests.run_due(local(23, 9, 0)) == 1  # Monday
    assert len(backend.sent) == 1


async def test_long_digest_is_cut(database: Database) -> None:
    await setup(database, events=MAX_LINES + 5, locale="ru")
    backend = RecordingBackend()
    assert await sender(database, backend).run_due(local(19, 9)) == 1
    text = render_plain(backend.sent[0][1])
    assert "5" in text.splitlines()[-1]
    assert await statuses(database) == {"sent": MAX_LINES + 5}


async def test_retry_after_keeps_everything_queued(database: Database) -> None:
    chat_id = await setup(database)
    backend = RecordingBackend(fail=[DeliveryRetryAfter(3.0)])
    digests = sender(database, backend)
    assert await digests.run_due(local(19, 9)) == 0
    assert await statuses(database) == {"digest": 3}
    async with database.sessions() as session:
        chat = await session.get(Chat, chat_id)
        assert chat is not None
        assert chat.digest_last_sent_at == local(18, 10)
    assert await digests.run_due(local(19, 9, 1)) == 1
    assert await statuses(database) == {"sent": 3}


async def test_bad_markup_is_resent_plain(database: Database) -> None:
    await setup(database)
    backend = RecordingBackend(fail=[BadMarkup("can't parse entities")])
    assert await sender(database, backend).run_due(local(19, 9)) == 1
    assert backend.sent[0][2] is True


async def test_gone_chat_is_deactivated(database: Database) -> None:
    chat_id = await setup(database)
    backend = RecordingBackend(fail=[ChatGone("blocked")])
    assert await sender(database, backend).run_due(local(19, 9)) == 0
    async with database.sessions() as session:
        chat = await session.get(Chat, chat_id)
        assert chat is not None
        assert (chat.active, chat.inactive_reason) == (False, "blocked")


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_digest_renders_in_every_locale(database: Database, locale: str) -> None:
    await setup(database, locale=locale)
    backend = RecordingBackend()
    assert await sender(database, backend).run_due(local(19, 9)) == 1
    text = render_plain(backend.sent[0][1])
    assert "{" not in text
    assert "3" in text
