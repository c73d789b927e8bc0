"""History reads from tables of cases, on both databases, against the answer by hand.

Period baselines ("followers at T"): the last count at or before T. Most accounts have
one in the few hours before T (the range read); the rest need the per-account probe, or
the first count after T ("since first seen"). Every path (few accounts or many, every
shape of ``/top growth``) must agree with reading the history by hand. Likewise post
counts per period and the latest post times that measure an account's rhythm.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, update

from bot.reports import history
from bot.reports.history import BASELINE_WINDOW, Baseline, followers_at, post_counts, post_times
from bot.reports.leaderboard import top
from bot.store.engine import Database
from bot.store.models import AccountState, Snapshot
from tests.test_reports_world import NOW, Acc, Off, ago, build_world

WEEK = timedelta(days=7)
T = NOW - WEEK
HOUR = 1 / 24

#: name: history as (days before NOW, followers or None); the last entry is current.
CASES: dict[str, list[tuple[float, int | None]]] = {
    # several snapshots inside the window: the newest at or before T wins
    "window-newest": [(7 + 5 * HOUR, 100), (7 + 3 * HOUR, 110), (7 + HOUR, 120), (6.5, 150)],
    # a snapshot exactly at T counts
    "window-exact": [(7.0, 200), (1, 260)],
    # a count-less snapshot (the source hid the number) is skipped
    "window-null": [(7 + 2 * HOUR, 300), (7 + HOUR / 2, None), (0.5, 330)],
    # nothing in the window: the probe finds an older snapshot
    "probe-older": [(30, 400), (9, 410), (6, 480)],
    # just outside the window's far edge
    "probe-edge": [(7 + BASELINE_WINDOW / timedelta(days=1) + HOUR, 500), (2, 540)],
    # only snapshots after T: growth since first seen
    "late": [(3, 600), (1, 640)],
    # after T and a null before: still late
    "late-null": [(8, None), (2, 700), (1, 705)],
    # one snapshot only, after T
    "single-late": [(0.2, 800)],
}


def expected(readings: list[tuple[float, int | None]], at: datetime) -> Baseline | None:
    """The baseline read off the history by hand."""
    known = sorted((NOW - timedelta(days=d), f) for d, f in readings if f is not None)
    before = [f for moment, f in known if moment <= at]
    if before:
        return Baseline(before[-1], late=False)
    after = [f for moment, f in known if at < moment <= NOW]
    return Baseline(after[0], late=True) if after else None


async def _world(database: Database) -> dict[str, int]:
    officials = [
        Off(name, accounts=[Acc("telegram", name, history=[(9999, 1)])], watchlists=["w"])
        for name in CASES
    ]
    ids = await build_world(database, officials)
    # Replace the placeholder history with the case's own (nulls included).
    async with database.sessions() as session, session.begin():
        await session.execute(Snapshot.__table__.delete())
        rows = [
            {"account_id": ids[f"telegram:{name}"], "observed_at": ago(d), "followers": f}
            for name, readings in CASES.items()
            for d, f in readings
        ]
        await session.execute(insert(Snapshot), rows)
        for name, readings in CASES.items():
            current = [f for _, f in readings if f is not None][-1]
            await session.execute(
                update(AccountState)
                .where(AccountState.account_id == ids[f"telegram:{name}"])
                .values(followers=current)
            )
    return ids


@pytest.fixture(params=["per-account", "range"])
def read_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Read few accounts one by one, or (NARROW_MAX 0) every account's range at once."""
    if request.param == "range":
        monkeypatch.setattr(history, "NARROW_MAX", 0)
    return str(request.param)


@pytest.mark.usefixtures("read_mode")
async def test_followers_at_matches_the_history(database: Database) -> None:
    ids = await _world(database)
    accounts = {name: ids[f"telegram:{name}"] for name in CASES}
    async with database.sessions() as session:
        found = await followers_at(session, list(accounts.values()), T, until=NOW)
    for name, account_id in accounts.items():
        assert found.get(account_id) == expected(CASES[name], T), name


@pytest.mark.parametrize(
    "shape",
    [{}, {"platform": "telegram"}, {"watchlist": "w"}, {"platform": "telegram", "watchlist": "w"}],
)
async def test_top_growth_matches_the_history(database: Database, shape: dict[str, str]) -> None:
    await _world(database)
    async with database.sessions() as session:
        board = await top(session, metric="growth", period=WEEK, limit=50, now=NOW, **shape)
    got = {e.official.name: (e.growth, e.partial) for e in board.entries}
    for name, readings in CASES.items():
        base = expected(readings, T)
        current = [f for _, f in readings if f is not None][-1]
        assert base is not None
        assert got[name] == (current - base.followers, base.late), name
    # Ranked by growth, largest first.
    values = [e.value for e in board.entries]
    assert values == sorted(values, reverse=True)


#: name: days before NOW of each post
POSTS: dict[str, list[float]] = {
    "none": [],
    "one": [2.0],
    "few": [1.0, 3.0, 8.0],
    "many": [i * 0.5 for i in range(1, 80)],
    "ties": [1.0, 1.0, 1.0, 2.0, 2.0],
    "old": [400.0, 500.0],
}


async def _posting_world(database: Database) -> dict[str, int]:
    officials = [
        Off(name, accounts=[Acc("telegram", name, posts=days)]) for name, days in POSTS.items()
    ]
    ids = await build_world(database, officials)
    return {name: ids[f"telegram:{name}"] for name in POSTS}


@pytest.mark.usefixtures("read_mode")
async def test_post_counts_match_the_posts(database: Database) -> None:
    accounts = await _posting_world(database)
    async with database.sessions() as session:
        counts = await post_counts(session, list(accounts.values()), NOW - WEEK)
    for name, account_id in accounts.items():
        expected_count = sum(1 for d in POSTS[name] if d <= 7)
        assert counts.get(account_id, 0) == expected_count, name


@pytest.mark.parametrize("latest", [1, 3, 30])
async def test_post_times_are_the_latest_per_account(database: Database, latest: int) -> None:
    accounts = await _posting_world(database)
    since = NOW - timedelta(days=365)
    async with database.sessions() as session:
        times = await post_times(session, list(accounts.values()), since=since, latest=latest)
    for name, account_id in accounts.items():
        inside = sorted((ago(d) for d in POSTS[name] if ago(d) >= since), reverse=True)
        got = times.get(account_id, [])
        if len(inside) <= latest:
            assert got == inside, name
        else:
            # The latest ones, newest first; ties at the last place may all come back.
            floor = inside[latest - 1]
            assert got == [t for t in inside if t >= floor], name
