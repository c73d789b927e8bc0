"""Retention on a real database (SQLite file or PostgreSQL): what goes, what stays.

The outbox world is built by hand, one row per case; the snapshot history is the bench's
generator (``bench.queries``). Every prune is checked against the pure rule
(``bot.store.downsample``) applied to the rows read back independently.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.queries import generate
from bench.retention import answers
from bot.errors import LeaseHeld
from bot.store import leases
from bot.store.downsample import snapshots_to_drop
from bot.store.engine import Database
from bot.store.models import (
    Account,
    Chat,
    Delivery,
    EventRow,
    Official,
    Post,
    PostVersion,
    Snapshot,
)
from bot.store.retention import JOB_KEY, Cutoffs, Policy, Report, prune
from bot.store.retention_job import dry_run, run_retention

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOLD = timedelta(minutes=15)
DAYS = timedelta(days=1)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# --- the outbox: one row per case ----------------------------------------------------------


async def outbox_world(db: Database) -> dict[str, int]:
    """Events and deliveries of every kind and state; returns their ids by name."""
    ids: dict[str, int] = {}
    async with db.sessions() as session, session.begin():
        official = Official(slug="dana", name="Dana", search_key="dana")
        session.add(official)
        await session.flush()
        account = Account(official_id=official.id, platform="telegram", handle="dana_ch")
        chat = Chat(backend="telegram", external_id="1", kind="group")
        session.add_all([account, chat])
        await session.flush()

        async def event(name: str, kind: str, age: float, *deliveries: tuple[str, str]) -> None:
            row = EventRow(
                account_id=account.id,
                official_id=official.id,
                kind=kind,
                payload={"post_id": name},
                occurred_at=ago(age),
                detected_at=ago(age),
                dedup_key=f"{account.id}:{kind}:{name}",
            )
            session.add(row)
            await session.flush()
            ids[name] = row.id
            for label, status in deliveries:
                d = Delivery(event_id=row.id, chat_id=chat.id, status=status,
                             created_at=ago(age), next_attempt_at=ago(age),
                             sent_at=ago(age) if status == "sent" else None)  # fmt: skip
                if label.startswith("chat2"):
                    other = Chat(backend="telegram", external_id=label, kind="group")
                    session.add(other)
                    await session.flush()
                    d.chat_id = other.id
                session.add(d)
                await session.flush()
                ids[label] = d.id

        await event("up_old", "followers_up", 400, ("up_old.sent", "sent"))
        await event("up_pending", "followers_up", 400, ("up_pending.pending", "pending"))
        await event("up_claimed", "followers_up", 400, ("up_claimed.sent", "sent"),
                    ("chat2.claimed", "claimed"))  # fmt: skip
        await event("up_sending", "followers_up", 400, ("up_sending.sending", "sending"))
        await event("post", "new_post", 400, ("post.anchor", "sent"), ("chat2.failed", "failed"))
        await event("edit", "post_edited", 400, ("edit.sent", "sent"))
        await event("milestone", "followers_milestone", 400, ("milestone.sent", "sent"))
        await event("up_recent", "followers_up", 10, ("up_recent.sent", "sent"))
        await event("silent", "went_silent", 200, ("silent.digest", "digest"))
        await event("down_100d", "followers_down", 100, ("down_100d.sent", "sent"))
        digest = Delivery(
            event_id=None,
            chat_id=chat.id,
            status="sent",
            payload={"blocks": []},
            created_at=ago(400),
            sent_at=ago(400),
            next_attempt_at=ago(400),
        )
        session.add(digest)
        await session.flush()
        ids["digest.sent"] = digest.id
        await event("up_digested", "followers_up", 400, ("up_digested.digested", "digested"))
        summarised = await session.get(Delivery, ids["up_digested.digested"])
        assert summarised is not None
        summarised.digest_id = digest.id
    return ids


GONE_DELIVERIES = {
    "up_old.sent",
    "up_claimed.sent",
    "chat2.failed",
    "edit.sent",
    "milestone.sent",
    "down_100d.sent",
    "digest.sent",
    "up_digested.digested",
}
GONE_EVENTS = {"up_old", "up_digested"}
STILL_GOING = {"up_pending.pending": "pending", "chat2.claimed": "claimed",
               "up_sending.sending": "sending", "silent.digest": "digest"}  # fmt: skip


async def rows_of(db: Database, model: Any) -> set[int]:
    async with db.sessions() as session:
        return set(await session.scalars(select(model.id)))


async def test_outbox_and_events_prune_counts_and_keep_what_is_still_needed(
    database: Database,
) -> None:
    ids = await outbox_world(database)
    deliveries, events = await rows_of(database, Delivery), await rows_of(database, EventRow)
    dry = await prune(database, Policy(), now=NOW, dry_run=True)
    assert dry.counts == {"snapshots": 0, "deliveries": 8, "events": 2, "posts": 0,
                          "post_versions": 0}  # fmt: skip
    # The dry run deleted nothing.
    assert await rows_of(database, Delivery) == deliveries
    assert await rows_of(database, EventRow) == events

    real = await prune(database, Policy(), now=NOW)
    assert real.counts == dry.counts
    assert await rows_of(database, Delivery) == deliveries - {ids[n] for n in GONE_DELIVERIES}
    assert await rows_of(database, EventRow) == events - {ids[n] for n in GONE_EVENTS}
    async with database.sessions() as session:
        statuses = dict((await session.execute(select(Delivery.id, Delivery.status))).all())
    # Rows still on their way are untouched, with their events (their alerts need them).
    assert {n: statuses[ids[n]] for n in STILL_GOING} == STILL_GOING
    assert statuses[ids["post.anchor"]] == "sent"  # a thread's anchor stays
    # Nothing more to do at the same moment.
    again = await prune(database, Policy(), now=NOW)
    assert set(again.counts.values()) == {0}


async def test_shorter_periods_remove_more(database: Database) -> None:
    await outbox_world(database)
    policy = Policy(deliveries_after=timedelta(days=5), events_after=timedelta(days=5))
    report = await prune(database, policy, now=NOW, dry_run=True)
    # The recent sent alert and the 100-day event go too; still-going rows never.
    assert report.counts["deliveries"] == 9
    assert report.counts["events"] == 4


# --- snapshots: a generated history ------------------------------------------------------


async def history(db: Database, *, days: int = 400) -> datetime:
    """Six accounts, ``days`` of readings every half hour; returns the history's end."""
    await generate(db, 6, days, mode="change", per_hour=2)
    async with db.sessions() as session:
        end = await session.scalar(select(func.max(Snapshot.observed_at)))
    assert end is not None
    return end + timedelta(minutes=30)


async def snapshot_rows(db: Database) -> list[tuple[int, int, datetime]]:
    async with db.sessions() as session:
        stmt = select(Snapshot.id, Snapshot.account_id, Snapshot.observed_at)
        return [(i, a, t) for i, a, t in (await session.execute(stmt)).all()]


def expected_drop(rows: list[tuple[int, int, datetime]], cut: Cutoffs) -> set[int]:
    """The pure rule on rows read back, with each account's first and latest protected."""
    by_account: dict[int, list[tuple[int, int, datetime]]] = defaultdict(list)
    for row in rows:
        by_account[row[1]].append(row)
    protected = set()
    for own in by_account.values():
        ordered = sorted(own, key=lambda r: (r[2], r[0]))
        protected |= {ordered[0][0], ordered[-1][0]}
    table = [(i, a, int(t.timestamp())) for i, a, t in rows]
    return set(snapshots_to_drop(table, full_before=int(cut.full_before.timestamp()),
                                 hourly_before=int(cut.hourly_before.timestamp()),
                                 protected=protected))  # fmt: skip


async def test_snapshots_follow_the_rule_and_answers_stay_the_same(database: Database) -> None:
    now = await history(database)
    before_rows = await snapshot_rows(database)
    before = await answers(database, now)
    cut = Cutoffs.at(now, Policy())
    expected = expected_drop(before_rows, cut)
    assert len(expected) > len(before_rows) // 5  # a history the rule really thins

    dry = await dry_run(database, Policy(), clock=lambda: now)
    assert dry.counts["snapshots"] == len(expected)
    assert len(await snapshot_rows(database)) == len(before_rows)

    report = await run_retention(database, Policy(), owner="t", hold=HOLD, every=None,
                                 clock=lambda: now)  # fmt: skip
    assert report is not None
    assert report.counts["snapshots"] == len(expected)
    left = await snapshot_rows(database)
    assert {r[0] for r in left} == {r[0] for r in before_rows} - expected
    # Every snapshot of the full-resolution period is there; each account keeps its
    # first and its latest; older hours hold one snapshot (plus a protected one) at most.
    assert {r for r in before_rows if r[2] >= cut.full_before} <= set(left)
    per_hour: dict[tuple[int, datetime], int] = defaultdict(int)
    for _, account, at in left:
        if cut.hourly_before <= at < cut.full_before:
            per_hour[(account, at.replace(minute=0, second=0, microsecond=0))] += 1
    assert per_hour
    assert max(per_hour.values()) <= 2
    assert len([n for n in per_hour.values() if n == 2]) <= 6
    # /top, /report and /chart over the kept period: byte for byte the same.
    assert await answers(database, now) == before


async def test_the_next_run_reads_only_what_aged_and_agrees_with_the_rule(
    database: Database,
) -> None:
    now = await history(database, days=380)
    first = await run_retention(database, Policy(), owner="t", hold=HOLD, every=None,
                                clock=lambda: now)  # fmt: skip
    assert first is not None
    later = now + timedelta(days=3, hours=5)
    rows = await snapshot_rows(database)
    expected = expected_drop(rows, Cutoffs.at(later, Policy()))
    assert expected  # three days aged into the hourly tier, and into the daily one
    second = await run_retention(database, Policy(), owner="t", hold=HOLD, every=DAYS,
                                 clock=lambda: later)  # fmt: skip
    assert second is not None
    assert second.counts["snapshots"] == len(expected)
    assert {r[0] for r in await snapshot_rows(database)} == {r[0] for r in rows} - expected


# --- the lease ---------------------------------------------------------------------------


async def test_only_one_of_two_concurrent_runs_prunes(database: Database, db_url: str) -> None:
    await outbox_world(database)
    other = Database(db_url)
    try:
        results = await asyncio.gather(
            run_retention(database, Policy(), owner="a", hold=HOLD, every=DAYS,
                          clock=lambda: NOW),
            run_retention(other, Policy(), owner="b", hold=HOLD, every=DAYS, clock=lambda: NOW),
            return_exceptions=True,
        )  # fmt: skip
    finally:
        await other.close()
    ran = [r for r in results if isinstance(r, Report)]
    assert len(ran) == 1, results
    assert all(r is None or isinstance(r, LeaseHeld) for r in results if r not in ran)
    assert ran[0].counts["deliveries"] == 8
    # Finished today: a third process finds the job done until tomorrow.
    later = NOW + timedelta(hours=3)
    assert await run_retention(database, Policy(), owner="c", hold=HOLD, every=DAYS,
                               clock=lambda: later) is None  # fmt: skip
    tomorrow = NOW + DAYS
    again = await run_retention(database, Policy(), owner="c", hold=HOLD, every=DAYS,
                                clock=lambda: tomorrow)  # fmt: skip
    assert again is not None


async def test_a_held_lease_refuses_until_it_expires(database: Database) -> None:
    await outbox_world(database)
    outbox = await rows_of(database, Delivery)
    held = await leases.take(database, JOB_KEY, "dead-host", now=NOW, hold=HOLD, every=None)
    assert isinstance(held, leases.Lease)
    with pytest.raises(LeaseHeld) as refused:
        await run_retention(database, Policy(), owner="me", hold=HOLD, every=None,
                            clock=lambda: NOW + timedelta(minutes=5))  # fmt: skip
    assert refused.value.owner == "dead-host"
    assert await rows_of(database, Delivery) == outbox  # nothing removed meanwhile
    # The holder died: once its lease expires the job is taken over.
    late = NOW + HOLD + timedelta(seconds=1)
    report = await run_retention(database, Policy(), owner="me", hold=HOLD, every=None,
                                 clock=lambda: late)  # fmt: skip
    assert report is not None
    state = await leases.read_state(database, JOB_KEY)
    assert (state.owner, state.done_at) == (None, late)
    assert state.memo["full_before"] == report.memo["full_before"]


# --- posts, only when asked ----------------------------------------------------------------


async def test_full_prune_removes_old_posts_but_each_accounts_newest(database: Database) -> None:
    async with database.sessions() as session, session.begin():
        official = Official(slug="o", name="O", search_key="o")
        session.add(official)
        await session.flush()
        a1 = Account(official_id=official.id, platform="telegram", handle="a1")
        a2 = Account(official_id=official.id, platform="telegram", handle="a2")
        chat = Chat(backend="telegram", external_id="9", kind="group")
        session.add_all([a1, a2, chat])
        await session.flush()
        for account, pid, age in ((a1, "1", 500), (a1, "2", 450), (a1, "3", 10), (a2, "9", 500)):
            post = Post(
                account_id=account.id,
                platform_post_id=pid,
                published_at=ago(age),
                first_seen_at=ago(age),
                last_seen_at=ago(age),
                text=f"post {pid}",
            )
            session.add(post)
            await session.flush()
            session.add(PostVersion(post_id=post.id, version=1, text=post.text,
                                    first_seen_at=ago(age), last_seen_at=ago(age)))  # fmt: skip
            event = EventRow(account_id=account.id, kind="new_post", payload={"post_id": pid},
                             occurred_at=ago(age), detected_at=ago(age),
                             dedup_key=f"{account.id}:new_post:{pid}")  # fmt: skip
            session.add(event)
            await session.flush()
            session.add(Delivery(event_id=event.id, chat_id=chat.id, status="sent",
                                 created_at=ago(age), sent_at=ago(age)))  # fmt: skip
    policy = Policy(posts_after=timedelta(days=365))
    plain = await prune(database, policy, now=NOW, dry_run=True)
    assert (plain.counts["posts"], plain.counts["post_versions"]) == (0, 0)  # not asked
    dry = await prune(database, policy, now=NOW, dry_run=True, full=True)
    real = await prune(database, policy, now=NOW, full=True)
    assert dry.counts == real.counts
    assert real.counts == {"snapshots": 0, "deliveries": 2, "events": 2, "posts": 2,
                           "post_versions": 2}  # fmt: skip
    async with database.sessions() as session:
        posts = set(await session.scalars(select(Post.platform_post_id)))
        keys = set(await session.scalars(select(EventRow.dedup_key)))
        versions = await session.scalar(select(func.count()).select_from(PostVersion))
    assert posts == {"3", "9"}
    assert keys == {f"{a1.id}:new_post:3", f"{a2.id}:new_post:9"}
    assert versions == 2
