"""The snapshot thinning in SQL deletes exactly what the pure rule says, on both databases.

A generated history with the edges written in: rows on hour and day boundaries, a
fraction of a second before them, on the hourly and full-resolution cutoffs, ties in
``observed_at`` (ids inserted in shuffled order, so the id decides), each account's first
and latest in a bucket with others, an account with one row, one with none, and more
accounts than one statement covers. The rule (``bot.store.downsample``) is applied to
the rows read back.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.store.downsample import snapshots_to_drop
from bot.store.engine import Database
from bot.store.models import Account, Official, Snapshot
from bot.store.retention import Cutoffs, Policy, prune

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CUT = Cutoffs.at(NOW, Policy())
S = timedelta(seconds=1)
H = timedelta(hours=1)


def edges() -> list[datetime]:
    """Moments on and around every boundary the rule knows."""
    hourly, full = CUT.hourly_before, CUT.full_before
    day = hourly.replace(hour=0)
    hour = full - 40 * H
    return [
        hourly - 400 * H,  # this account's first: a day shared with the next two
        hourly - 400 * H + S,
        hourly - 400 * H + 30 * S,
        day - S,
        day - S / 2,
        day,
        day + S / 2,
        hourly - S,
        hourly - S / 2,
        hourly,
        hourly,  # a tie on the cutoff
        hourly + S / 2,
        hourly + H - S,
        hour,
        hour,
        hour + 59 * 60 * S + S / 2,
        hour + H,
        hour + H - S / 4,
        full - 30 * 60 * S,
        full - S,
        full,
        full + S / 2,
        NOW - H,
    ]


async def build(db: Database) -> None:
    """Thirty accounts: edges, ties, one with a single row, one with none, random rest."""
    rng = random.Random(7)
    rows: list[tuple[int, datetime]] = []
    async with db.sessions() as session, session.begin():
        official = Official(slug="o", name="O", search_key="o")
        session.add(official)
        await session.flush()
        accounts = [
            Account(official_id=official.id, platform="telegram", handle=f"a{n}") for n in range(30)
        ]
        session.add_all(accounts)
        await session.flush()
        ids = [a.id for a in accounts]
        rows += [(ids[0], t) for t in edges()]
        # The latest of this one is old and tied: the id decides which row stays.
        old = CUT.full_before - 100 * H
        rows += [(ids[1], old - 3 * H), (ids[1], old), (ids[1], old), (ids[1], old - S)]
        rows.append((ids[2], CUT.hourly_before - 10 * H))
        for account in ids[4:]:
            start = NOW - timedelta(days=rng.uniform(20, 420))
            for _ in range(rng.randint(20, 220)):
                at = start + timedelta(seconds=rng.randint(0, int((NOW - start).total_seconds())))
                for _ in range(rng.randint(1, 4)):  # a burst: buckets with several rows
                    at += timedelta(minutes=rng.randint(0, 50))
                    at += timedelta(microseconds=rng.choice([0, 0, 500_000, 999_999]))
                    rows.append((account, min(at, NOW)))
                if rng.random() < 0.1:
                    rows.append((account, at))  # a tie
        rng.shuffle(rows)
        session.add_all(Snapshot(account_id=a, observed_at=t, followers=1) for a, t in rows)


async def snapshot_ids(db: Database) -> list[tuple[int, int, datetime]]:
    async with db.sessions() as session:
        stmt = select(Snapshot.id, Snapshot.account_id, Snapshot.observed_at)
        return [(i, a, t) for i, a, t in (await session.execute(stmt)).all()]


def rule(rows: list[tuple[int, int, datetime]]) -> set[int]:
    """What the pure rule drops, each account's first and latest protected."""
    protected: set[int] = set()
    for account in {r[1] for r in rows}:
        own = sorted((r[2], r[0]) for r in rows if r[1] == account)
        protected |= {own[0][1], own[-1][1]}
    table = [(i, a, int(t.timestamp())) for i, a, t in rows]
    return set(snapshots_to_drop(table, full_before=int(CUT.full_before.timestamp()),
                                 hourly_before=int(CUT.hourly_before.timestamp()),
                                 protected=protected))  # fmt: skip


async def test_sql_thinning_deletes_exactly_what_the_rule_drops(database: Database) -> None:
    await build(database)
    rows = await snapshot_ids(database)
    expected = rule(rows)
    # The edges really are decided: ties, boundaries and protected rows among them.
    assert len(expected) > len(rows) // 5
    assert {r[2] for r in rows} >= {CUT.hourly_before, CUT.full_before}

    dry = await prune(database, Policy(), now=NOW, dry_run=True)
    assert dry.counts["snapshots"] == len(expected)
    assert len(await snapshot_ids(database)) == len(rows)

    report = await prune(database, Policy(), now=NOW)
    assert report.counts["snapshots"] == len(expected)
    assert {r[0] for r in await snapshot_ids(database)} == {r[0] for r in rows} - expected


async def test_a_second_run_with_the_memo_agrees_with_the_rule(database: Database) -> None:
    await build(database)
    first = await prune(database, Policy(), now=NOW)
    rows = await snapshot_ids(database)
    later = NOW + timedelta(days=2, hours=7, seconds=13)
    cut = Cutoffs.at(later, Policy())
    protected: set[int] = set()
    for account in {r[1] for r in rows}:
        own = sorted((r[2], r[0]) for r in rows if r[1] == account)
        protected |= {own[0][1], own[-1][1]}
    table = [(i, a, int(t.timestamp())) for i, a, t in rows]
    expected = set(snapshots_to_drop(table, full_before=int(cut.full_before.timestamp()),
                                     hourly_before=int(cut.hourly_before.timestamp()),
                                     protected=protected))  # fmt: skip
    assert expected
    second = await prune(database, Policy(), now=later, memo=first.memo)
    assert second.counts["snapshots"] == len(expected)
    assert {r[0] for r in await snapshot_ids(database)} == {r[0] for r in rows} - expected
