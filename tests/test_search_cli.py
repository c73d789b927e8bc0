"""``govwatch search``: one row per matching version as a table, CSV or JSON; filters;
one-line errors. Runs on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.search import COLUMNS
from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from tests.search_world import NOW, P, Seeded, _post, seed


def _seed(url: str) -> Seeded:
    async def go() -> Seeded:
        db = Database(url)
        try:
            await upgrade_database(db.engine)
            world = await seed(db)
            # one post of yesterday by the real clock, for --period (the CLI's clock)
            yesterday = (NOW - datetime.now(UTC)).total_seconds() / 86400 + 1
            async with db.engine.begin() as conn:
                await _post(conn, world, P("r1", "bekova_s", yesterday, ("Газ подешевел.",)))
            return world
        finally:
            await db.close()

    return asyncio.run(go())


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["search", *args, "--format", "json"]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_json_rows_have_every_key_newest_first(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(cli_db)
    rows = _json(capsys, "газ")
    assert all(tuple(row) == COLUMNS for row in rows)
    assert [(r["post_id"], r["version"]) for r in rows] == [
        ("r1", 1), ("a1", 2), ("a1", 1), ("b1", 1), ("b2", 1), ("b3", 1),
    ]  # fmt: skip
    edit = rows[1]
    assert edit == {
        "official": "Askhat Aimagambetov", "platform": "telegram", "post_id": "a1",
        "version": 2, "url": "https://example.org/aimagambetov_edu/a1",
        "published_at": "2026-11-18T12:00:00Z", "text": "Цены на газ вырастут с 1 июля.",
        "edited": True, "deleted": False,
    }  # fmt: skip
    deleted = _json(capsys, "референдумы")
    assert [(r["post_id"], r["deleted"]) for r in deleted] == [("t1", True), ("t2", False)]


def test_words_are_written_as_in_chat(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_db)
    phrase = _json(capsys, '"цены на газ"')
    assert [r["post_id"] for r in phrase] == ["a1", "a1", "b3"]
    words = _json(capsys, "цены на газ")  # three words, any order
    assert {r["post_id"] for r in words} == {"a1", "b1", "b2", "b3"}
    assert [r["post_id"] for r in _json(capsys, "газ -цены")] == ["r1"]


def test_filters(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_db)
    by_official = _json(capsys, "газ", "--official", "Aigerim Bekova")
    assert [r["post_id"] for r in by_official] == ["b1", "b3"]
    listed = _json(capsys, "тариф", "--watchlist", "kz-government", "--platform", "facebook")
    assert [r["post_id"] for r in listed] == ["a2"]
    recent = _json(capsys, "газ", "--period", "7d")
    assert [r["post_id"] for r in recent] == ["r1"]


def test_csv_and_table(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_db)
    assert main(["search", "референдум", "--format", "csv"]) == 0
    out = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(out.out)))
    assert tuple(rows[0]) == COLUMNS
    assert [r[2] for r in rows[1:]] == ["t1", "t2"]
    assert "2 matching versions of 2 posts" in out.err
    assert main(["search", "референдум"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["published", "(UTC)", "official", "platform"]
    assert "Alexey Tsoy" in table[2]
    assert "deleted" in table[2]
    assert "Референдумға дайындық басталды." in table[2]


def test_mistakes_are_one_line(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_db)
    for args, wanted in (
        (["газ", "--watchlist", "nope"], "there is no such watchlist"),
        (["газ", "--official", "Bekova"], "several officials match"),
        (["газ", "--official", "Nobody"], "no official matches"),
        (["газ", "--period", "soon"], "use a period like"),
        (["--", "-газ"], "give the words to find"),
    ):
        assert main(["search", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert wanted in err
        assert "\n" not in err


def test_database_option_names_the_database(
    cli_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _seed(cli_db)
    monkeypatch.delenv("GOVWATCH_DATABASE__URL")
    monkeypatch.chdir(tmp_path)  # no govwatch.toml here: only --database names it
    assert _json(capsys, "газ", "--database", cli_db)[0]["post_id"] == "r1"


def test_order_relevance_sorts_by_the_score(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.store.search import parse_query, relevance

    _seed(cli_db)
    newest = _json(capsys, "цены на газ")  # three words, any order
    ranked = _json(capsys, "цены на газ", "--order", "relevance")
    query = parse_query(["цены", "на", "газ"])
    scores = [relevance(str(r["text"]), query) for r in ranked]
    assert sorted(map(str, ranked), key=str) == sorted(map(str, newest), key=str)  # same rows
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]  # the order is not newest first by accident
