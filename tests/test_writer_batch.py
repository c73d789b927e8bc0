"""The cheap write path: multi-row statements, deferred subscriptions, no idle savepoint.

Each test runs on a real SQLite file and, with ``GOVWATCH_TEST_DATABASE_URL``, on
PostgreSQL, and checks what was stored, not how fast.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot.domain import EventKind, PostSeen
from bot.poll.writer import BatchWriter
from bot.store.engine import Database
from bot.store.fanout import Fanout, load_fanout
from bot.store.models import Account, Delivery, Post, PostVersion
from bot.store.observations import _coordination_due, load_states
from bot.store.sameness import SameText
from tests.test_poll_store import (
    NOW,
    count,
    make_accounts,
    make_audience,
    observation,
    pending_write,
)


def _statements(db: Database) -> list[str]:
    """Every statement sent from now on, by its first words (SAVEPOINTs included)."""
    sent: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _note(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()[:3]))

    return sent


async def _lease(db: Database) -> None:
    async with db.sessions() as s, s.begin():
        await s.execute(update(Account).values(lease_owner="me"))


async def test_posts_of_a_batch_go_in_one_statement(database: Database) -> None:
    ids = await make_accounts(database, 3)
    await _lease(database)
    sent = _statements(database)
    writer = BatchWriter(database, batch=3, clock=lambda: NOW)
    posts = [PostSeen(str(n), None, NOW - timedelta(hours=n), f"text {n}") for n in range(1, 6)]
    items = [pending_write(i, 1, "me", None, observation(NOW, *posts), Fanout()) for i in ids]
    results = await asyncio.gather(*(writer.write(i) for i in items))
    assert [r.posts if r else None for r in results] == [5, 5, 5]
    assert sent.count("INSERT INTO posts") == 1  # 15 rows, one statement
    assert sent.count("INSERT INTO post_versions") == 1
    assert await count(database, Post) == 15
    assert await count(database, PostVersion) == 15


async def test_a_post_listed_twice_on_a_page_is_stored_once(database: Database) -> None:
    (account_id,) = await make_accounts(database, 1)
    await _lease(database)
    p = PostSeen("7", None, NOW - timedelta(hours=1), "the same post, shown twice")
    writer = BatchWriter(database, batch=1, clock=lambda: NOW)
    # PostgreSQL refuses one upsert that touches a row twice: the second goes in its own
    result = await writer.write(
        pending_write(account_id, 1, "me", None, observation(NOW, p, p), Fanout())
    )
    assert result is not None
    async with database.sessions() as s:
        stored = (await s.execute(select(Post.versions, Post.text))).all()
        versions = (await s.execute(select(PostVersion.version))).scalars().all()
    assert [tuple(r) for r in stored] == [(1, p.text)]
    assert versions == [1]


async def test_a_deferred_fanout_still_delivers_in_the_write(database: Database) -> None:
    ids = await make_audience(database)
    (account_id,) = await make_accounts(database, 1)
    official_id = ids["o1"]
    async with database.sessions() as s, s.begin():
        await s.execute(update(Account).values(official_id=official_id, lease_owner="me"))
    async with database.engine.connect() as conn:
        full = await load_fanout(conn, [official_id], now=NOW)
        deferred = await load_fanout(conn, [official_id], now=NOW, deferred=True)
    assert not deferred.complete
    assert deferred.watchlists_of == full.watchlists_of
    with pytest.raises(RuntimeError):
        deferred.targets(official_id, EventKind.NEW_POST)
    writer = BatchWriter(database, batch=1, clock=lambda: NOW)
    p1 = PostSeen("1", None, NOW - timedelta(hours=2), "old")
    first = pending_write(account_id, official_id, "me", None, observation(NOW, p1), deferred)
    sent = _statements(database)
    assert await writer.write(first) is not None
    assert not [q for q in sent if "subscriptions" in q or "mutes" in q]  # no event: no read
    async with database.engine.connect() as conn:
        prev = (await load_states(conn, [account_id]))[account_id]
    await _lease(database)
    p2 = PostSeen("2", None, NOW, "news")
    later = observation(NOW + timedelta(hours=1), p2, p1, followers=2000)
    second = pending_write(account_id, official_id, "me", prev, later, deferred)
    result = await writer.write(second)
    assert result is not None
    assert (result.events, result.deliveries) == (2, 4 + 5)  # as with the full fanout
    assert await count(database, Delivery) == 9


def test_same_text_detection_is_skipped_when_it_has_nothing_to_do() -> None:
    same = SameText()
    nothing: list[Any] = []
    assert _coordination_due(nothing, NOW, same)  # never pruned yet: prune first
    same.pruned_at = NOW
    assert not _coordination_due(nothing, NOW + timedelta(minutes=1), same)
    assert _coordination_due(nothing, NOW + timedelta(hours=1), same)
    item = pending_write(1, 1, "me", None, observation(NOW), Fanout())
    assert not _coordination_due([(1, 1, item.detection, NOW)], NOW, same)
    off = SameText(enabled=False)
    assert not _coordination_due(nothing, NOW, off)
