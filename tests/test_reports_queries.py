"""Report queries on a known world: leaderboards, the cabinet report, silence, the card."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.reports.cabinet import cabinet_report, report_csv, share_key
from bot.reports.card import official_card
from bot.reports.history import followers_at, median_gap
from bot.reports.leaderboard import top
from bot.reports.scope import UnknownWatchlist, parse_period, parse_words, period_label
from bot.reports.silence import silent_officials
from bot.store.engine import Database
from tests.test_reports_world import NOW, ago, build_world, cabinet

WEEK = timedelta(days=7)


def names(entries: list) -> list[str]:
    return [e.official.name for e in entries]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("30D", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(days=14)),
        ("1y", timedelta(days=365)),
        ("0d", None),
        ("99999d", None),
        ("abc", None),
        ("7", None),
    ],
)
def test_parse_period(word: str, expected: timedelta | None) -> None:
    assert parse_period(word) == expected


def test_words_in_any_order() -> None:
    words = parse_words(["gov", "30d", "GROWTH", "telegram", "chart"])
    assert words.platform == "telegram"
    assert words.metric == "growth"
    assert words.period == timedelta(days=30)
    assert words.flags == {"chart"}
    assert words.rest == ["gov"]
    assert parse_words(["14"]).number == 14
    assert parse_words(["growth", "%"]).metric == "percent"
    assert parse_words(["%", "growth"]).metric == "percent"
    assert parse_words(["percent"]).metric == "percent"
    assert period_label(timedelta(days=30)) == "30d"
    assert period_label(timedelta(days=365)) == "1y"


@pytest.mark.parametrize(
    ("part", "whole", "key"),
    [
        (0, 5, "share.none"),
        (1, 4, "share.under_third"),
        (1, 3, "share.third"),
        (2, 5, "share.under_half"),
        (2, 4, "share.half"),
        (3, 5, "share.over_half"),
        (2, 3, "share.two_thirds"),
        (4, 5, "share.over_two_thirds"),
        (5, 5, "share.all"),
        (0, 0, "share.none"),
    ],
)
def test_share_words(part: int, whole: int, key: str) -> None:
    assert share_key(part, whole) == key


def test_median_gap() -> None:
    assert median_gap([]) is None
    assert median_gap([ago(1)]) is None
    assert median_gap([ago(1), ago(3), ago(10)]) == timedelta(days=4.5)


async def test_top_followers_per_platform(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        board = await top(session, metric="followers", platform="telegram", now=NOW)
    assert names(board.entries) == [
        "Outsider Person", "Dana Omarova", "Erlan Sadykov", "Aigerim Bekova", "Marat Zhumabaev",
    ]  # fmt: skip
    assert [e.value for e in board.entries] == [100000, 5050, 2600, 1500, 900]
    # The failing source keeps its last known figure but is flagged, never zero.
    assert [e.stale for e in board.entries] == [False, False, False, False, True]
    assert {o.name for o in board.missing} == {"Nurlan Abenov", "Saule Tokayeva"}
    assert board.unknown_accounts == 1


async def test_top_followers_total_across_platforms(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        board = await top(session, metric="followers", watchlist="gov", now=NOW)
    assert board.entries[2].official.name == "Aigerim Bekova"
    assert board.entries[2].value == 1710
    assert board.entries[2].platforms == ("bluesky", "telegram")
    assert [o.name for o in board.missing] == ["Saule Tokayeva"]
    assert board.members == 6


async def test_top_growth_orders_by_real_growth(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        board = await top(session, metric="growth", period=WEEK, now=NOW)
        percent = await top(session, metric="percent", period=WEEK, now=NOW)
    assert names(board.entries) == [
        "Erlan Sadykov", "Aigerim Bekova", "Nurlan Abenov", "Dana Omarova", "Outsider Person",
        "Marat Zhumabaev",
    ]  # fmt: skip
    assert [e.growth for e in board.entries] == [600, 410, 60, 50, 1, 0]
    bekova = board.entries[1]
    assert bekova.growth_percent == pytest.approx(410 * 100 / 1300)
    # Abenov's account is newer than the period: growth "since first seen", marked partial.
    assert board.entries[2].partial
    assert not board.entries[0].partial
    assert names(percent.entries)[:3] == ["Nurlan Abenov", "Aigerim Bekova", "Erlan Sadykov"]


async def test_top_posts_ties_share_a_rank(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        board = await top(session, metric="posts", period=WEEK, now=NOW)
    assert [(e.rank, e.official.name, e.value) for e in board.entries] == [
        (1, "Aigerim Bekova", 3),
        (2, "Nurlan Abenov", 2),
        (3, "Erlan Sadykov", 1),
        (3, "Outsider Person", 1),
        (5, "Dana Omarova", 0),
    ]
    # Failing all period: unknown activity, not "0 posts".
    assert {o.name for o in board.missing} == {"Marat Zhumabaev", "Saule Tokayeva"}


async def test_top_limit_and_unknown_watchlist(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        board = await top(session, metric="followers", limit=2, now=NOW)
        assert len(board.entries) == 2
        assert board.ranked == 6
        with pytest.raises(UnknownWatchlist):
            await top(session, watchlist="nope", now=NOW)


async def test_top_empty_database(database: Database) -> None:
    async with database.sessions() as session:
        board = await top(session, metric="growth", now=NOW)
    assert board.empty


async def test_followers_at_uses_last_snapshot_before(database: Database) -> None:
    ids = await build_world(database, cabinet())
    acc = ids["telegram:sadykov"]
    async with database.sessions() as session:
        at_week = await followers_at(session, [acc], ago(7))
        at_long = await followers_at(session, [acc], ago(39))
        too_early = await followers_at(session, [acc], ago(50), until=ago(45))
    assert at_week[acc].followers == 2000
    assert not at_week[acc].late
    assert at_long[acc].followers == 3000
    assert too_early == {}


async def test_cabinet_report_on_platform(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        report = await cabinet_report(session, watchlist="gov", platform="telegram", now=NOW)
    assert (report.m, report.n, report.k) == (6, 4, 2)
    assert [o.name for o in report.inactive] == ["Dana Omarova"]
    assert [o.name for o in report.unknown] == ["Marat Zhumabaev"]
    assert [o.name for o in report.absent] == ["Nurlan Abenov", "Saule Tokayeva"]
    assert [line.official.name for line in report.leaders()] == [
        "Dana Omarova", "Erlan Sadykov", "Aigerim Bekova", "Marat Zhumabaev",
    ]  # fmt: skip
    assert report.leaders()[1].growth == 600
    assert share_key(report.k, report.n) == "share.half"
    assert report.sources == ("telegram",)


async def test_cabinet_report_all_platforms_and_csv(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        report = await cabinet_report(session, watchlist="gov", now=NOW, period=WEEK)
    assert (report.m, report.n, report.k) == (6, 5, 3)
    assert [o.name for o in report.absent] == ["Saule Tokayeva"]
    data = report_csv(report, locale="ru").decode("utf-8-sig").splitlines()
    assert data[0].startswith("official,state,platforms")
    assert len(data) == 7
    assert any(line.startswith("Айгерим Бекова,active,bluesky telegram") for line in data)


async def test_silent_longest_first_with_usual_gap(database: Database) -> None:
    await build_world(database, cabinet())
    async with database.sessions() as session:
        report = await silent_officials(session, days=7, now=NOW)
        long = await silent_officials(session, days=25, watchlist="gov", now=NOW)
    assert [s.official.name for s in report.silent] == ["Dana Omarova"]
    omarova = report.silent[0]
    assert omarova.silent_for == timedelta(days=20)
    assert omarova.usual_gap == timedelta(days=10)
    assert omarova.times_usual == pytest.approx(2.0)
    # A failing source is "unknown", never "silent".
    assert [o.name for o in report.unknown] == ["Marat Zhumabaev"]
    assert long.silent == []
    # Counted in the database: members, and members with at least one live account.
    assert (report.members, report.with_accounts) == (7, 6)
    assert (long.members, long.with_accounts, long.watchlist) == (6, 5, "gov")


async def test_official_card(database: Database) -> None:
    ids = await build_world(database, cabinet())
    async with database.sessions() as session:
        card = await official_card(session, ids["Aigerim Bekova"], now=NOW)
        assert await official_card(session, 99999, now=NOW) is None
    assert card is not None
    assert card.watchlists == ["gov"]
    assert [a.account.platform for a in card.accounts] == ["bluesky", "telegram"]
    telegram = card.accounts[1]
    assert telegram.growth(telegram.growth_7d) == 400
    assert telegram.growth(telegram.growth_30d) == 500
    assert telegram.last_post is not None
    assert telegram.last_post.published_at == ago(0.5)
    assert telegram.median_gap == timedelta(days=1.25)
    assert telegram.posts_30d == 3
