"""Rank movement on /top: ▲/▼/= against the previous period, "new" and "?" told apart."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.reply import Table, render_plain
from bot.reports.movement import DOWN, NEW, SAME, UNKNOWN, UP, Move, move_of
from bot.store.engine import Database
from bot.store.models import AccountState
from tests.test_reports_commands import ask, service
from tests.test_reports_world import Acc, Off, ago, build_world


def movers() -> list[Off]:
    """Five officials on Telegram whose order changed during the last 7 days."""
    return [
        Off("Aliya Akhmetova", [Acc("telegram", "akhmetova", [(10, 1000), (1, 5000)])], ["gov"]),
        Off("Bolat Bekov", [Acc("telegram", "bekov", [(10, 3000), (1, 3000)])], ["gov"]),
        Off("Chingiz Chokin", [Acc("telegram", "chokin", [(10, 2000), (1, 4000)])], ["gov"]),
        # First seen three days ago: not watched a week ago.
        Off("Dina Dauletova", [Acc("telegram", "dauletova", [(3, 2500)])], ["gov"]),
        # Watched for 20 days, but its first figure came a day ago: unknown a week ago.
        Off("Ermek Ermekov", [Acc("telegram", "ermekov", [(1, 1500)])], ["gov"]),
    ]  # fmt: skip


async def build(database: Database) -> dict[str, int]:
    ids = await build_world(database, movers())
    async with database.sessions() as session, session.begin():
        await session.execute(
            update(AccountState)
            .where(AccountState.account_id == ids["telegram:ermekov"])
            .values(first_seen_at=ago(20))
        )
    return ids


MOVE_CASES: dict[str, tuple[int, int | None, bool, Move]] = {
    "up two": (1, 3, True, Move(UP, 2, 3)),
    "down one": (3, 2, True, Move(DOWN, 1, 2)),
    "same": (2, 2, True, Move(SAME, 0, 2)),
    "not watched then": (4, None, False, Move(NEW)),
    "watched, no figure then": (5, None, True, Move(UNKNOWN)),
}


@pytest.mark.parametrize(
    ("current", "previous", "known", "move"), MOVE_CASES.values(), ids=MOVE_CASES
)
def test_move_of(current: int, previous: int | None, known: bool, move: Move) -> None:
    assert move_of(current, previous, known) == move


def moves(reply: object) -> list[tuple[str, str]]:
    table = next(b for b in reply.blocks if isinstance(b, Table))  # type: ignore[attr-defined]
    return [(row[1], row[-1]) for row in table.rows]


async def test_top_followers_shows_each_move(database: Database) -> None:
    await build(database)
    reply = await ask(service(database), "/top telegram 7d", "en")
    assert moves(reply) == [
        ("Aliya Akhmetova", "▲2"),
        ("Chingiz Chokin", "="),
        ("Bolat Bekov", "▼2"),
        ("Dina Dauletova", "new"),
        ("Ermek Ermekov", "?"),
    ]
    text = render_plain(reply)
    assert "Move: rank now against the previous 7\u00a0days (Nov 6, 2026 – Nov 13, 2026)" in text
    assert "“new”: not watched yet back then." in text
    assert "“?”: watched, but no figure for then (not read)." in text


async def test_top_growth_ties_share_the_previous_rank(database: Database) -> None:
    await build(database)
    # A week earlier nobody grew (every figure dated 10 days ago): all three shared rank 1.
    reply = await ask(service(database), "/top telegram growth 7d gov", "en")
    assert moves(reply)[:3] == [
        ("Aliya Akhmetova", "="),
        ("Chingiz Chokin", "▼1"),
        ("Bolat Bekov", "▼2"),
    ]


@pytest.mark.parametrize(("locale", "new"), [("ru", "новый"), ("kk", "жаңа")])
async def test_top_moves_in_every_locale(database: Database, locale: str, new: str) -> None:
    await build(database)
    reply = await ask(service(database), "/top telegram 7d", locale)
    assert [m for _, m in moves(reply)] == ["▲2", "=", "▼2", new, "?"]
