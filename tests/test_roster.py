"""Roster import/export: validation of every entry first, idempotent import, round trips."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.domain import Platform
from bot.errors import RosterError
from bot.handles import account_url, normalize_handle
from bot.roster import parse_roster_text
from bot.roster.transfer import import_entries, to_csv, to_toml
from bot.store.engine import Database
from bot.store.models import Account, Official, Watchlist, WatchlistMember

PLATFORM_CYCLE = ["telegram", "bluesky", "mastodon", "youtube", "rss", "facebook", "x", "vk"]


def roster_30() -> str:
    """A roster of 30 officials with 1-3 accounts each, in two watchlists."""
    parts = []
    for i in range(1, 31):
        accounts = [
            f'telegram = "minister_{i:02d}"',
            f'bluesky = "minister{i}.bsky.social"',
        ]
        if i % 3 == 0:
            accounts.append(f'rss = "https://gov.example/m{i}/press.rss"')
        if i % 5 == 0:
            accounts.append(
                f'html = {{ url = "https://gov.example/m{i}", followers = ".counter", '
                f'post = ".news-item", post_date = "time" }}'
            )
        lists = '["kz-government"]' if i <= 24 else '["kz-government", "akims"]'
        parts.append(
            f'[[official]]\nname = "Official Number {i}"\nname_ru = "Чиновник {i}"\n'
            f'position = "Minister {i}"\norganisation = "Government"\nwatchlists = {lists}\n'
            "[official.accounts]\n" + "\n".join(accounts) + "\n"
        )
    return "\n".join(parts)


async def _counts(db: Database) -> tuple[int, int, int, int]:
    async with db.sessions() as s:
        return (
            await s.scalar(select(func.count()).select_from(Official)) or 0,
            await s.scalar(select(func.count()).select_from(Account)) or 0,
            await s.scalar(select(func.count()).select_from(Watchlist)) or 0,
            await s.scalar(select(func.count()).select_from(WatchlistMember)) or 0,
        )


def test_parse_toml_normalises_handles() -> None:
    text = """
[[official]]
name = "Askhat Aimagambetov"
name_ru = "Асхат Аймагамбетов"
watchlists = ["KZ-Government"]
tenure_start = 2019-02-25
[official.accounts]
telegram = "https://t.me/s/Aimagambetov_A"
facebook = "https://www.facebook.com/profile.php?id=100012345678"
mastodon = "https://civic.example/@askhat"
"""
    (entry,) = parse_roster_text(text, fmt="toml")
    assert entry.slug == "askhat-aimagambetov"
    assert entry.watchlists == ("kz-government",)
    assert {(a.platform.value, a.handle) for a in entry.accounts} == {
        ("telegram", "aimagambetov_a"),
        ("facebook", "100012345678"),
        ("mastodon", "askhat@civic.example"),
    }
    assert str(entry.tenure_start) == "2019-02-25"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "A"\n[official.accounts]\nmyspace = "a"', "unknown platform 'myspace'"),
        ('position = "Minister"', "name is missing"),
        ('name = "B"\n[official.accounts]\nrss = "htp:/bad url"', "contains spaces"),
        ('name = "C"\n[official.accounts]\nrss = "ftp://gov.example/feed"', "http:// or https://"),
        ('name = "D"\n[official.accounts]\nrss = "https://u:p@gov.example/f"', "user name"),
        ('name = "E"\n[official.accounts]\ntelegram = "a b"', "not a Telegram channel"),
        ('name = "F"\nhobby = "chess"', "unknown keys: hobby"),
        ('name = "G"\ntenure_start = "yesterday"', "tenure_start must be a date"),
        ('name = "H"\n[official.accounts]\nhtml = { url = "https://gov.example" }', "selector"),
    ],
)
def test_bad_entry_is_named(entry: str, message: str) -> None:
    text = f'[[official]]\nname = "Good One"\n\n[[official]]\n{entry}\n'
    with pytest.raises(RosterError) as info:
        parse_roster_text(text, fmt="toml", source="r.toml")
    (problem,) = info.value.problems
    assert problem[0].startswith("official #2")
    assert message in problem[1]


def test_all_problems_reported_at_once() -> None:
    text = (
        '[[official]]\nposition = "x"\n\n[[official]]\nname = "A"\n[official.accounts]\n'
        'telegram = "same_chan"\n\n[[official]]\nname = "B"\n[official.accounts]\n'
        'telegram = "same_chan"\nvk = "bad name!"\n'
    )
    with pytest.raises(RosterError) as info:
        parse_roster_text(text, fmt="toml", source="r.toml")
    positions = [p for p, _ in info.value.problems]
    assert positions[0].startswith("official #1")
    assert any(p.startswith("official #3") for p in positions)
    assert "r.toml: official #1" in str(info.value)


def test_csv_round_trip() -> None:
    entries = parse_roster_text(roster_30(), fmt="toml")
    again = parse_roster_text(to_csv(entries), fmt="csv")
    assert again == entries
    assert parse_roster_text(to_toml(entries), fmt="toml") == entries


def test_csv_errors_name_the_line() -> None:
    text = "name,telegram,position\nGood,good_channel,x\n,nameless_channel,y\n"
    with pytest.raises(RosterError) as info:
        parse_roster_text(text, fmt="csv")
    assert info.value.problems[0][0].startswith("line 3")


async def test_import_is_idempotent(database: Database) -> None:
    entries = parse_roster_text(roster_30(), fmt="toml")
    first = await import_entries(database, entries)
    assert (first.officials_created, first.watchlists_created) == (30, 2)
    counts = await _counts(database)
    second = await import_entries(database, entries)
    assert (second.officials_created, second.accounts_created) == (0, 0)
    assert (second.officials_updated, second.accounts_updated) == (0, 0)
    assert await _counts(database) == counts == (30, 30 * 2 + 10 + 6, 2, 36)


async def test_new_handle_renames_the_account(database: Database) -> None:
    text = '[[official]]\nname = "A"\n[official.accounts]\ntelegram = "old_name"\n'
    await import_entries(database, parse_roster_text(text, fmt="toml"))
    async with database.sessions() as s:
        before = (await s.scalars(select(Account))).one()
    await import_entries(
        database, parse_roster_text(text.replace("old_name", "new_name"), fmt="toml")
    )
    async with database.sessions() as s:
        after = (await s.scalars(select(Account))).one()
    assert (after.id, after.handle) == (before.id, "new_name")


async def test_handle_of_another_official_is_refused(database: Database) -> None:
    await import_entries(
        database,
        parse_roster_text(
            '[[official]]\nname = "A"\n[official.accounts]\nx = "shared"\n', fmt="toml"
        ),
    )
    with pytest.raises(RosterError, match="belongs to another official"):
        await import_entries(
            database,
            parse_roster_text(
                '[[official]]\nname = "B"\n[official.accounts]\nx = "shared"\n', fmt="toml"
            ),
        )
    assert (await _counts(database))[0] == 1  # B was rolled back with the whole import


def _count_officials(url: str) -> int:
    async def count() -> int:
        db = Database(url)
        try:
            return (await _counts(db))[0]
        finally:
            await db.close()

    return asyncio.run(count())


def test_cli_upgrade_import_export_reimport(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.toml"
    roster.write_text(roster_30(), encoding="utf-8")
    assert main(["db", "upgrade"]) == 0
    assert main(["import", str(roster)]) == 0
    assert "officials: 30 new" in capsys.readouterr().out
    exported = tmp_path / "export.toml"
    assert main(["export", "--format", "toml", "-o", str(exported)]) == 0
    assert main(["import", str(exported)]) == 0
    out = capsys.readouterr().out
    assert "officials: 0 new, 0 updated; accounts: 0 new, 0 updated" in out
    csv_path = tmp_path / "export.csv"
    assert main(["export", "--format", "csv", "--output", str(csv_path)]) == 0
    assert main(["import", str(csv_path)]) == 0
    assert _count_officials(cli_db) == 30


def test_cli_bad_roster_changes_nothing(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.toml"
    good.write_text(roster_30(), encoding="utf-8")
    assert main(["import", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        roster_30().replace('name = "Official Number 7"\n', "")
        + '\n[[official]]\nname = "New Person"\n[official.accounts]\nfriendster = "np"\n'
        + '\n[[official]]\nname = "Other"\n[official.accounts]\nrss = "not a url"\n',
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "official #7" in err
    assert "name is missing" in err
    assert "official #31 (New Person): unknown platform 'friendster'" in err
    assert "official #32 (Other)" in err
    assert "Traceback" not in err
    assert _count_officials(cli_db) == 30


def test_cli_missing_roster_file(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "/nonexistent/roster.toml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "govwatch: /nonexistent/roster.toml: -: file not found"


def test_every_problem_of_every_entry_is_named() -> None:
    """Issue 15: an entry with several problems shows all of them, not only the first."""
    text = (
        '[[official]]\nname = "A"\nhobby = "chess"\ntenure_start = "yesterday"\n'
        'watchlists = ["Bad Name!", "ok", "also bad!"]\n'
        '[official.accounts]\ntelegram = "a b"\nvk = "bad name!"\nbluesky = "fine.bsky.social"\n'
        '\n[[official]]\nposition = "no name here"\ntenure_end = 5\n'
    )
    with pytest.raises(RosterError) as info:
        parse_roster_text(text, fmt="toml", source="r.toml")
    first = [m for p, m in info.value.problems if p.startswith("official #1")]
    second = [m for p, m in info.value.problems if p.startswith("official #2")]
    assert len(first) == 6, first
    assert first[0] == "unknown keys: hobby"
    assert any("tenure_start must be a date" in m for m in first)
    assert sum("bad watchlist name" in m for m in first) == 2
    assert any("not a Telegram channel" in m for m in first)
    assert first[-1] == "'bad name!' is not a VK name"
    assert second == ["name is missing", "tenure_end must be a date like 2021-01-18"]


def test_csv_rows_name_every_problem_too() -> None:
    text = (
        "name,telegram,tenure_start\nGood,good_channel,2020-01-01\n,a b,soon\nX,ok_chan,x,extra\n"
    )
    with pytest.raises(RosterError) as info:
        parse_roster_text(text, fmt="csv")
    problems = info.value.problems
    line3 = [m for p, m in problems if p.startswith("line 3")]
    assert len(line3) == 3, line3  # no name, bad handle, bad date
    assert [p for p, _ in problems][-1].startswith("line 4")  # the extra cell, in file order


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("http://127.0.0.1:8080/@minister", "http://127.0.0.1:8080/@minister"),
        ("https://Mastodon.Example:8443/@minister", "https://mastodon.example:8443/@minister"),
        ("minister@mastodon.example", "https://mastodon.example/@minister"),
        ("https://mastodon.example/@minister", "https://mastodon.example/@minister"),
    ],
)
def test_a_mastodon_address_keeps_its_scheme_and_port(typed: str, url: str) -> None:
    handle = normalize_handle(Platform.MASTODON, typed)
    assert account_url(Platform.MASTODON, typed, handle) == url
