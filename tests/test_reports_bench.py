"""/top over generated history: the generator and the queries agree on the numbers.

The generator writes the history inside the database (generate_series on PostgreSQL, a
recursive CTE on SQLite), so a year of hourly snapshots for 5,000 accounts (43.8 million
rows) takes minutes, not hours. Here a small history checks the generator and every
query case; how fast /top answers on the full size is measured by ``bench/top_history.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from bot.reports.leaderboard import top
from bot.store.engine import Database
from bot.store.models import Account, AccountState, Official, Watchlist, WatchlistMember

END = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Size:
    accounts: int
    days: int
    posts_per_day: int = 1


def _sqlite_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def generate(db: Database, size: Size) -> None:
    """Officials with two accounts each, hourly follower history and daily posts."""
    start = END - timedelta(days=size.days)
    officials = size.accounts // 2
    async with db.sessions() as session, session.begin():
        await session.execute(insert(Watchlist), [{"name": "bench", "title": "Bench"}])
        await session.execute(
            insert(Official),
            [{"slug": f"b{i}", "name": f"Official {i:05d}", "search_key": f"official {i:05d}"}
             for i in range(1, officials + 1)],
        )  # fmt: skip
        await session.execute(
            insert(WatchlistMember),
            [{"watchlist_id": 1, "official_id": i} for i in range(1, officials + 1, 3)],
        )
        await session.execute(
            insert(Account),
            [{"official_id": (i + 1) // 2, "platform": "telegram" if i % 2 else "bluesky",
              "handle": f"h{i}", "next_poll_at": END} for i in range(1, size.accounts + 1)],
        )  # fmt: skip
        await session.execute(
            insert(AccountState),
            [{"account_id": i, "status": "ok", "first_seen_at": start, "observed_at": END,
              "last_ok_at": END, "followers": _followers(i, size.days * 24),
              "followers_exact": True, "last_post_at": END - timedelta(hours=i % 200)}
             for i in range(1, size.accounts + 1)],
        )  # fmt: skip
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text(_PG_SNAPSHOTS), {"start": start, "hours": size.days * 24})
            await conn.execute(text(_PG_POSTS), {"end": END, "days": size.days})
            await conn.execute(text("ANALYZE"))
        else:
            params = {"start": _sqlite_ts(start), "hours": size.days * 24}
            await conn.execute(text(_SQLITE_SNAPSHOTS), params)
            await conn.execute(text(_SQLITE_POSTS), {"end": _sqlite_ts(END), "days": size.days})
            await conn.execute(text("ANALYZE"))


def _followers(account: int, hour: int) -> int:
    # Same formula as the SQL below: a base per account plus a per-account hourly slope.
    return (account * 37) % 10_000 + hour * (account % 7)


_PG_SNAPSHOTS = """
INSERT INTO snapshots (account_id, observed_at, followers, followers_exact)
SELECT a.id, CAST(:start AS timestamptz) + make_interval(hours => h),
       (a.id * 37) % 10000 + h * (a.id % 7), true
FROM accounts a CROSS JOIN generate_series(0, :hours) AS h
"""
_PG_POSTS = """
INSERT INTO posts (account_id, platform_post_id, published_at, text, views, edited, deleted,
                   is_reply, is_repost, first_seen_at, last_seen_at)
SELECT a.id, d::text, CAST(:end AS timestamptz) - make_interval(days => d, hours => a.id % 24),
       '', NULL, false, false, false, false, CAST(:end AS timestamptz), CAST(:end AS timestamptz)
FROM accounts a CROSS JOIN generate_series(0, :days - 1) AS d
"""
_SQLITE_SNAPSHOTS = """
WITH RECURSIVE h(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM h WHERE n < :hours)
INSERT INTO snapshots (account_id, observed_at, followers, followers_exact)
SELECT a.id, strftime('%Y-%m-%d %H:%M:%S.000000', :start, '+' || h.n || ' hours'),
       (a.id * 37) % 10000 + h.n * (a.id % 7), 1
FROM accounts a CROSS JOIN h ORDER BY a.id, h.n
"""
_SQLITE_POSTS = """
WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < :days - 1)
INSERT INTO posts (account_id, platform_post_id, published_at, text, edited, deleted,
                   is_reply, is_repost, first_seen_at, last_seen_at)
SELECT a.id, CAST(d.n AS TEXT),
       strftime('%Y-%m-%d %H:%M:%S.000000', :end, '-' || d.n || ' days',
                '-' || (a.id % 24) || ' hours'),
       '', 0, 0, 0, 0, :end, :end
FROM accounts a CROSS JOIN d
"""


async def _check_numbers(db: Database, size: Size) -> None:
    async with db.sessions() as session:
        board = await top(session, metric="growth", period=timedelta(days=7), now=END, limit=5)
    # Growth over 7 days is 168 hours times the official's summed slopes (id % 7 per
    # account); accounts 2k-1 and 2k with slopes 5 and 6 give the most.
    best = board.entries[0]
    assert best.growth == 168 * (5 + 6)
    assert best.official.name == "Official 00003"
    assert board.members == size.accounts // 2
    assert not board.missing


CASES = [
    {"metric": "followers"},
    {"metric": "followers", "platform": "telegram"},
    {"metric": "growth", "period": timedelta(days=7)},
    {"metric": "growth", "period": timedelta(days=30), "platform": "bluesky"},
    {"metric": "percent", "period": timedelta(days=7), "watchlist": "bench"},
    {"metric": "posts", "period": timedelta(days=7)},
]


async def test_top_cases_on_small_history(database: Database) -> None:
    # Timings of these cases: bench/queries.py (no wall-clock bound in tests).
    size = Size(accounts=400, days=14)
    await generate(database, size)
    await _check_numbers(database, size)
    for case in CASES:
        async with database.sessions() as session:
            board = await top(session, now=END, limit=5, **case)  # type: ignore[arg-type]
        assert len(board.entries) == 5, case
        assert not board.missing, case
