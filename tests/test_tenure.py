"""Tenure: positions in roster files, members in office during a period in /report and
/top, former members on /official, and export -> import round trips with positions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.commands.service import CommandService
from bot.config import Settings
from bot.errors import RosterError
from bot.i18n import t
from bot.reply import Caller, render_plain
from bot.reports.cabinet import cabinet_report
from bot.reports.leaderboard import top
from bot.roster import parse_roster_text
from bot.roster.transfer import collect_entries, import_entries, to_csv, to_toml
from bot.store.engine import Database
from bot.store.models import Official
from bot.store.positions import Tenure, current_title, is_former
from tests.test_wikidata_import import TODAY, entries

# --- roster files, from tables -------------------------------------------------------------

TWO_POSITIONS = """
[[official]]
name = "Aigerim Bekova"
position = "Minister of Finance"
start = 2023-02-01
watchlists = ["kz-government"]
[official.accounts]
telegram = "bekova_fin"
[[official.positions]]
position = "Deputy Minister of Finance"
start = 2020-05-01
end = 2023-01-31
"""


def test_toml_positions() -> None:
    (entry,) = parse_roster_text(TWO_POSITIONS, fmt="toml")
    assert entry.position == "Minister of Finance"
    assert entry.positions == (
        Tenure("Minister of Finance", date(2023, 2, 1)),
        Tenure("Deputy Minister of Finance", date(2020, 5, 1), date(2023, 1, 31)),
    )


def test_csv_positions_one_row_each() -> None:
    text = (
        "name,position,start,end,telegram,watchlists\n"
        "Aigerim Bekova,Minister of Finance,2023-02-01,,bekova_fin,kz-government\n"
        "Aigerim Bekova,Deputy Minister of Finance,2020-05-01,2023-01-31,,\n"
        "Kairat Yessimov,Minister of Energy,2022-01-11,2026-03-01,,kz-government\n"
    )
    bekova, yessimov = parse_roster_text(text, fmt="csv")
    assert set(bekova.positions) == set(parse_roster_text(TWO_POSITIONS, fmt="toml")[0].positions)
    assert yessimov.positions == (
        Tenure("Minister of Energy", date(2022, 1, 11), date(2026, 3, 1)),
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("start = 2020-01-01", "start and end need a position"),
        (
            'position = "M"\nstart = 2021-01-01\nend = 2020-01-01',
            "ends (2020-01-01) before it starts",
        ),
        ('position = "M"\nend = "last year"', "end must be a date like 2021-01-18"),
        ('wikidata_id = "123"', "wikidata_id must be a Wikidata item id"),
        ("[[official.positions]]\nstart = 2020-01-01", "positions #1: position is missing"),
        ('[[official.positions]]\nposition = "M"\nboss = "X"', "positions #1: use only position"),
        ('positions = "Minister"', "positions must be [[official.positions]] tables"),
    ],
)
def test_bad_position_is_named(body: str, message: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster_text(f'[[official]]\nname = "G"\n{body}\n', fmt="toml")
    assert [pos for pos, _ in caught.value.problems] == ["official #1 (G)"]
    assert message in caught.value.problems[0][1]


def test_the_same_wikidata_id_twice_is_named() -> None:
    text = (
        '[[official]]\nname = "A"\nwikidata_id = "Q1"\n\n'
        '[[official]]\nname = "B"\nwikidata_id = "q1"\n'
    )
    with pytest.raises(RosterError, match=r"official #2 \(B\): wikidata_id Q1 is also official #1"):
        parse_roster_text(text, fmt="toml")


@pytest.mark.parametrize(
    ("tenures", "today", "former", "title"),
    [
        ([], date(2026, 1, 1), False, None),
        ([Tenure("M")], date(2026, 1, 1), False, "M"),
        ([Tenure("M", end=date(2026, 3, 1))], date(2026, 3, 1), False, "M"),
        ([Tenure("M", end=date(2026, 3, 1))], date(2026, 3, 2), True, "M"),
        ([Tenure("A", end=date(2025, 1, 1)), Tenure("B", date(2025, 1, 2))], date(2026, 1, 1),
         False, "B"),
        ([Tenure("A", end=date(2025, 1, 1)), Tenure("B", end=date(2024, 1, 1))], date(2026, 1, 1),
         True, "A"),
        ([Tenure("Future", date(2027, 1, 1))], date(2026, 1, 1), False, "Future"),
    ],
)  # fmt: skip
def test_former_and_title(
    tenures: list[Tenure], today: date, former: bool, title: str | None
) -> None:
    assert is_former(tenures, today) is former
    assert current_title(tenures, today) == title


# --- members in office during a period -----------------------------------------------------

LEGACY = '[[official]]\nname = "Legacy Adviser"\nwatchlists = ["kz-government"]\n'


async def cabinet(database: Database) -> None:
    """The 24-member fixture plus an official with no positions, in kz-government."""
    await import_entries(database, entries(), merge=True, today=TODAY)
    await import_entries(database, parse_roster_text(LEGACY, fmt="toml"))


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "period", "members", "left_out", "present", "absent"),
    [
        # before the reshuffle: the old energy minister, not the new one
        ("2026-02-15", 7, 24, 1, {"Kairat Yessimov", "Dina Omarova"}, {"Arman Seitkali"}),
        # a period that spans it counts both
        ("2026-03-20", 30, 25, 0, {"Kairat Yessimov", "Arman Seitkali"}, set()),
        # after: the new minister; the two who left are not counted
        ("2026-07-01", 7, 23, 2, {"Arman Seitkali"}, {"Kairat Yessimov", "Dina Omarova"}),
        # the day someone leaves still counts (the end day is inclusive)
        ("2026-06-15", 1, 24, 1, {"Dina Omarova", "Arman Seitkali"}, {"Kairat Yessimov"}),
    ],
)
async def test_report_and_top_count_members_in_office(
    database: Database, now: str, period: int, members: int, left_out: int,
    present: set[str], absent: set[str],
) -> None:  # fmt: skip
    await cabinet(database)
    async with database.sessions() as session:
        report = await cabinet_report(
            session, watchlist="kz-government", period=timedelta(days=period), now=at(now)
        )
        board = await top(
            session, watchlist="kz-government", period=timedelta(days=period), now=at(now)
        )
        everyone = await cabinet_report(session, period=timedelta(days=period), now=at(now))
    names = {line.official.name for line in report.lines}
    assert report.m == members
    assert report.not_in_office == left_out
    assert present <= names
    assert not absent & names
    assert "Legacy Adviser" in names  # no positions: always in office
    assert report.n == sum(1 for e in entries() if e.accounts and e.name in names)
    assert (board.members, board.not_in_office) == (members, left_out)
    assert everyone.m == 25  # without a watchlist: every official on the roster


CALLER = Caller(backend="console", user_id="1", chat_id="100")

METHODS = {
    "en": ("Members are the watchlist's officials in office during the period",
           "Not in office then, so not counted: 2."),
    "ru": ("Члены списка — те, кто занимал должность в этот период",
           "Не занимали должность в этот период и не учтены: 2."),
    "kk": ("Тізім мүшелері — осы кезеңде қызметте болғандар",
           "Бұл кезеңде қызметте болмағандықтан есептелмеді: 2."),
}  # fmt: skip
FORMER = {
    "en": "former Minister of Energy, until 2026-03-01",
    "ru": "в прошлом Minister of Energy, до 2026-03-01",
    "kk": "бұрынғы Minister of Energy, 2026-03-01 дейін",
}


def service(database: Database, now: datetime) -> CommandService:
    return CommandService(db=database, settings=Settings(), services={"clock": lambda: now})


@pytest.mark.parametrize("locale", ["en", "ru", "kk"])
async def test_commands_say_who_counts_and_mark_former_members(
    database: Database, locale: str
) -> None:
    await cabinet(database)
    svc = service(database, at("2026-07-01"))
    for text in ("/report kz-government 7d", "/top kz-government"):
        reply = render_plain(await svc.handle(CALLER, text, locale=locale))
        for words in METHODS[locale]:
            assert words in reply, (text, reply)
    report = render_plain(await svc.handle(CALLER, "/report kz-government 7d", locale=locale))
    assert "Yessimov" not in report
    assert "Есимов" not in report
    card = render_plain(await svc.handle(CALLER, "/official Yessimov", locale=locale))
    assert FORMER[locale] in card
    current = render_plain(await svc.handle(CALLER, "/official Seitkali", locale=locale))
    assert "Minister of Energy" in current
    assert FORMER[locale].split(" Minister")[0] not in current
    before = service(database, at("2026-02-01"))
    card = render_plain(await before.handle(CALLER, "/official Yessimov", locale=locale))
    assert FORMER[locale] not in card  # still in office then
    everyone = render_plain(await svc.handle(CALLER, "/report 7d", locale=locale))
    assert METHODS[locale][0] not in everyone


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["toml", "csv"])
async def test_export_import_round_trips_positions_and_wikidata_ids(
    database: Database, fmt: str
) -> None:
    await cabinet(database)
    other = TWO_POSITIONS.replace("Aigerim", "Asem").replace("bekova_fin", "asem_fin")
    await import_entries(database, parse_roster_text(other, fmt="toml"))
    exported = await collect_entries(database)
    text = to_toml(exported) if fmt == "toml" else to_csv(exported)
    parsed = parse_roster_text(text, fmt=fmt)
    key = {e.slug: (e.wikidata_id, e.position, set(e.positions), e.watchlists) for e in exported}
    assert {
        e.slug: (e.wikidata_id, e.position, set(e.positions), e.watchlists) for e in parsed
    } == key
    stats = await import_entries(database, parsed)
    assert not stats.changed, stats
    assert await collect_entries(database) == exported
    async with database.sessions() as session:
        asem = await session.scalar(select(Official).where(Official.slug == "asem-bekova"))
    assert asem is not None
    assert asem.wikidata_id is None
    assert len(key["asem-bekova"][2]) == 2


@pytest.mark.parametrize("locale", ["en", "ru", "kk"])
async def test_help_says_who_counts(database: Database, locale: str) -> None:
    svc = service(database, at("2026-07-01"))
    members = render_plain(await svc.handle(CALLER, "/help report", locale=locale))
    former = render_plain(await svc.handle(CALLER, "/help official", locale=locale))
    assert t(locale, "help.tenure.members") in members
    assert t(locale, "help.tenure.former") in former
    assert t(locale, "help.tenure.members") not in former
