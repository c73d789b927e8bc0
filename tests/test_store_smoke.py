"""The store works on the database under test: rows round-trip with UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.store.engine import Database
from bot.store.models import Account, EventRow, Official


async def test_timestamps_round_trip_as_aware_utc(database: Database) -> None:
    almaty = timezone(timedelta(hours=5))
    async with database.sessions() as s, s.begin():
        off = Official(slug="a", name="A", search_key="a")
        s.add(off)
        await s.flush()
        s.add(
            Account(
                official_id=off.id,
                platform="telegram",
                handle="a_chan",
                next_poll_at=datetime(2026, 1, 1, 17, 0, tzinfo=almaty),
            )
        )
    async with database.sessions() as s:
        acc = (await s.execute(select(Account))).scalar_one()
    assert acc.next_poll_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert acc.next_poll_at.tzinfo is not None


async def test_naive_datetime_is_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        async with database.sessions() as s, s.begin():
            s.add(Official(slug="b", name="B", search_key="b", created_at=datetime(2026, 1, 1)))


async def test_event_dedup_key_is_unique(database: Database) -> None:
    now = datetime.now(UTC)
    async with database.sessions() as s, s.begin():
        s.add(EventRow(kind="new_post", occurred_at=now, dedup_key="k1"))
    with pytest.raises(IntegrityError):
        async with database.sessions() as s, s.begin():
            s.add(EventRow(kind="new_post", occurred_at=now, dedup_key="k1"))
