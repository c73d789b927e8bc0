"""`govwatch export --what snapshots|posts|events --format csv` through the real CLI."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.reports.export import COLUMNS, export_csv
from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from bot.store.models import EventRow
from tests.conftest import _truncate_all
from tests.test_reports_world import NOW, Acc, Off, build_world


def world() -> list[Off]:
    return [
        Off('=HYPERLINK("x") Evil', [Acc("telegram", "evil", [(3, 10), (1, 12)], posts=[1, 2])]),
        Off("Дана Омарова", [Acc("bluesky", "dana.bsky", [(2, 500)], posts=[0.5])]),
    ]


async def _fill(database: Database) -> None:
    ids = await build_world(database, world())
    async with database.sessions() as session, session.begin():
        session.add(
            EventRow(
                account_id=ids["telegram:evil"],
                official_id=ids['=HYPERLINK("x") Evil'],
                kind="followers_up",
                payload={"before": 10, "after": 12},
                occurred_at=NOW,
                detected_at=NOW,
                dedup_key="k1",
            )
        )


@pytest.mark.parametrize(("what", "rows"), [("snapshots", 3), ("posts", 3), ("events", 1)])
async def test_export_csv_rows(database: Database, what: str, rows: int) -> None:
    await _fill(database)
    out = io.StringIO()
    assert await export_csv(database, what, out) == rows
    parsed = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(parsed[0]) == COLUMNS[what]
    assert len(parsed) == rows + 1
    officials = {row[2] for row in parsed[1:]}
    # Formula-looking outside text is defused for spreadsheets.
    assert '\'=HYPERLINK("x") Evil' in officials


async def test_export_events_payload_is_json(database: Database) -> None:
    await _fill(database)
    out = io.StringIO()
    await export_csv(database, "events", out)
    row = next(iter(csv.DictReader(io.StringIO(out.getvalue()))))
    assert row["payload"] == '{"after": 12, "before": 10}'
    assert row["kind"] == "followers_up"
    assert row["occurred_at"].startswith("2026-11-20T12:00:00")


async def _fresh(url: str, pg_url: str | None) -> None:
    # The CLI runs its own event loop, so this test builds its data in one of its own.
    db = Database(url)
    try:
        if pg_url:
            await _truncate_all(db)
        else:
            await upgrade_database(db.engine)
        await _fill(db)
    finally:
        await db.close()


def test_export_cli_writes_file(db_url: str, pg_url: str | None, tmp_path: Path) -> None:
    asyncio.run(_fresh(db_url, pg_url))
    config = tmp_path / "govwatch.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    target = tmp_path / "posts.csv"
    code = cli_main(["export", "--what", "posts", "--format", "csv", "--output", str(target),
                     "--config", str(config)])  # fmt: skip
    assert code == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    assert any("Дана Омарова" in line for line in lines)
    since = tmp_path / "recent.csv"
    code = cli_main(["export", "--what", "snapshots", "--since", "36h", "-o", str(since),
                     "--config", str(config)])  # fmt: skip
    assert code == 0
    assert len(since.read_text(encoding="utf-8").splitlines()) >= 1


def test_export_cli_bad_since(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "govwatch.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    code = cli_main(["export", "--what", "events", "--since", "yesterday", "--config", str(config)])
    assert code != 0
    assert "--since" in capsys.readouterr().err
