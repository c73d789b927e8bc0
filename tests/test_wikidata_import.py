"""A roster from Wikidata: SPARQL JSON rows merged per person, imported with tenure and
accounts, idempotent, a dry run naming exactly the edits, and the query run against a
fake SPARQL endpoint on loopback through the hardened client."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.config import load_settings
from bot.errors import RosterError, SparqlError
from bot.roster.sparql import run_query
from bot.roster.transfer import import_entries
from bot.roster.wikidata import PLATFORM_VARIABLES, parse_sparql_json
from bot.store.engine import Database
from bot.store.models import Account, Official, Position, WatchlistMember
from bot.store.positions import Tenure, tenures_of

DATA = Path(__file__).parent / "data" / "wikidata"
FIXTURE = DATA / "government-2026.json"
QUERY = Path(__file__).parent.parent / "docs" / "wikidata-government.rq"
TODAY = date(2026, 12, 1)
E = "http://www.wikidata.org/entity/"
XSD = "http://www.w3.org/2001/XMLSchema#dateTime"


def fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def entries(doc: dict[str, Any] | None = None, watchlist: str | None = "kz-government") -> list:
    text = json.dumps(doc if doc is not None else fixture())
    return parse_sparql_json(text, source="result.json", watchlist=watchlist, today=TODAY)


def lit(value: str) -> dict[str, str]:
    return {"type": "literal", "value": value}


def day(value: str) -> dict[str, str]:
    return {"type": "literal", "datatype": XSD, "value": f"{value}T00:00:00Z"}


def row(qid: int, name: str, **cells: dict[str, str]) -> dict[str, Any]:
    return {"person": {"type": "uri", "value": f"{E}Q{qid}"}, "personLabel": lit(name), **cells}


def rows_of(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [b for b in doc["results"]["bindings"] if b["personLabel"]["value"] == name]


# --- parsing, from tables ------------------------------------------------------------------


def test_the_fixture_merges_into_24_members() -> None:
    found = {e.name: e for e in entries()}
    assert len(found) == 24
    assert len(fixture()["results"]["bindings"]) > 24  # several rows for some people
    abenov = found["Daniyar Abenov"]
    assert abenov.wikidata_id == "Q990001"
    assert abenov.position == "Prime Minister"
    assert set(abenov.positions) == {
        Tenure("Prime Minister", date(2023, 2, 1)),
        Tenure("Minister of National Economy", date(2023, 2, 1), date(2023, 5, 10)),
    }
    assert {(a.platform.value, a.handle) for a in abenov.accounts} == {
        ("telegram", "abenov_pm"),
        ("x", "dabenov"),
    }
    assert (abenov.name_ru, abenov.name_kk) == ("Данияр Абенов", "Данияр Әбенов")
    assert found["Kairat Yessimov"].positions == (
        Tenure("Minister of Energy", date(2022, 1, 11), date(2026, 3, 1)),
    )
    assert found["Gulnara Iskakova"].accounts == ()
    assert all(e.watchlists == ("kz-government",) for e in found.values())


def test_every_platform_variable_is_a_wikidata_property() -> None:
    assert {v: p for v, (_, p) in PLATFORM_VARIABLES.items()} == {
        "telegram": "P3789", "x": "P2002", "instagram": "P2003", "facebook": "P2013",
        "youtube": "P2397", "bluesky": "P12361", "mastodon": "P4033", "vk": "P3185",
    }  # fmt: skip
    query = QUERY.read_text(encoding="utf-8")
    for variable, (_, prop) in PLATFORM_VARIABLES.items():
        assert f"wdt:{prop} ?{variable} " in query


BAD_ROWS = [
    ({"person": lit("Q5")}, "row 1 (Q5): person 'Q5' is not a Wikidata item"),
    ({"person": {"type": "uri", "value": "https://example.org/Q5"}}, "is not a Wikidata item"),
    ({"personLabel": lit("Q990100")}, "row 1 (Q990100): the person has no label"),
    ({"start": day("2026-05-01"), "end": day("2026-01-01")}, "ends (2026-01-01) before it starts"),
    ({"end": {"type": "bnode", "value": "t1"}}, "end is not a date (an unknown value"),
    ({"start": {"type": "literal", "value": "soon"}}, "start is not a date"),
    ({"positionLabel": None, "start": day("2026-05-01")}, "start and end need a position"),
    ({"telegram": lit("no spaces please")}, "telegram (P3789) 'no spaces please'"),
    ({"mastodon": lit("not-an-address")}, "mastodon (P4033)"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ROWS)
def test_bad_row_is_named(change: dict[str, Any], message: str) -> None:
    good = row(990100, "Test Person", positionLabel=lit("Minister of Tests"))
    bad = {k: v for k, v in {**good, **change}.items() if v is not None}
    doc = {"head": {"vars": []}, "results": {"bindings": [good, bad]}}
    with pytest.raises(RosterError) as caught:
        entries(doc)
    lines = [f"{pos}: {msg}" for pos, msg in caught.value.problems]
    assert len(lines) == 1, lines
    assert lines[0].startswith("row 2 ("), lines
    assert message.replace("row 1", "row 2") in lines[0]


def test_a_handle_of_two_people_is_named() -> None:
    doc = {"results": {"bindings": [
        row(990101, "One", positionLabel=lit("A"), x=lit("shared")),
        row(990102, "Two", positionLabel=lit("B"), x=lit("@shared")),
    ]}}  # fmt: skip
    with pytest.raises(
        RosterError,
        match=r"row 2 \(Q990102 Two\): x .shared. is also listed by row 1 \(Q990101 One\)",
    ):
        entries(doc)


@pytest.mark.parametrize("text", ["", "[]", '{"results": {}}', "not json", '{"results": 1}'])
def test_not_a_sparql_result(text: str) -> None:
    with pytest.raises(RosterError, match="not a SPARQL JSON result"):
        parse_sparql_json(text, source="x.json", today=TODAY)


def test_namesakes_get_their_own_slug() -> None:
    doc = {"results": {"bindings": [
        row(990201, "Same Name", positionLabel=lit("A")),
        row(990202, "Same Name", positionLabel=lit("B")),
    ]}}  # fmt: skip
    assert [e.slug for e in entries(doc)] == ["same-name", "same-name-q990202"]


# --- importing -----------------------------------------------------------------------------


async def _counts(db: Database) -> tuple[int, int, int, int]:
    async with db.sessions() as s:
        return (
            await s.scalar(select(func.count()).select_from(Official)) or 0,
            await s.scalar(select(func.count()).select_from(Position)) or 0,
            await s.scalar(select(func.count()).select_from(Account)) or 0,
            await s.scalar(select(func.count()).select_from(WatchlistMember)) or 0,
        )


async def test_import_gives_tenure_and_accounts_then_changes_nothing(database: Database) -> None:
    stats = await import_entries(database, entries(), merge=True, today=TODAY)
    assert stats.officials_created == 24
    accounts = sum(len(e.accounts) for e in entries())
    assert await _counts(database) == (24, 26, accounts, 24)
    async with database.sessions() as s:
        by_name = {o.name: o for o in await s.scalars(select(Official))}
        tenures = await tenures_of(s, [o.id for o in by_name.values()])
        rows = (await s.execute(select(Account.platform, Account.handle))).all()
        handles = {(platform, handle) for platform, handle in rows}
    assert by_name["Kairat Yessimov"].wikidata_id == "Q990010"
    assert tenures[by_name["Dina Omarova"].id] == [
        Tenure("Minister of Tourism", date(2023, 9, 1), date(2026, 6, 15))
    ]
    assert tenures[by_name["Arman Seitkali"].id] == [Tenure("Minister of Energy", date(2026, 3, 2))]
    assert by_name["Aigerim Bekova"].position == "Minister of Finance"
    assert {("youtube", "UCbekova0000000000000001"), ("vk", "akhmetov_mvd"),
            ("mastodon", "marat@mastodon.example")} <= handles  # fmt: skip
    again = await import_entries(database, entries(), merge=True, today=TODAY)
    assert not again.changed, again
    assert await _counts(database) == (24, 26, accounts, 24)


def edited() -> dict[str, Any]:
    """The fixture with four edits: a new handle, a changed handle, a departure, a newcomer."""
    doc = copy.deepcopy(fixture())
    for b in rows_of(doc, "Gulnara Iskakova"):
        b["telegram"] = lit("iskakova_health")
    for b in rows_of(doc, "Daniyar Abenov"):
        b["telegram"] = lit("abenov_official")
    for b in rows_of(doc, "Timur Akhmetov"):
        b["end"] = day("2026-11-20")
    doc["results"]["bindings"].append(
        row(990025, "Yerbol Nurpeisov", positionLabel=lit("Minister of Internal Affairs"),
            start=day("2026-11-21"), instagram=lit("nurpeisov.mvd"))
    )  # fmt: skip
    return doc


EXPECTED_EDITS = {
    "new member: Yerbol Nurpeisov (kz-government)",
    "new handle: Yerbol Nurpeisov (instagram nurpeisov.mvd)",
    "left office: Timur Akhmetov (Minister of Internal Affairs, until 2026-11-20)",
    "new handle: Gulnara Iskakova (telegram iskakova_health)",
    "changed handle: Daniyar Abenov (telegram abenov_pm -> abenov_official)",
}


async def test_dry_run_names_exactly_the_edits_and_changes_nothing(database: Database) -> None:
    await import_entries(database, entries(), merge=True, today=TODAY)
    before = await _counts(database)
    dry = await import_entries(database, entries(edited()), merge=True, dry_run=True, today=TODAY)
    assert {c.line() for c in dry.changes} == EXPECTED_EDITS
    assert len(dry.changes) == len(EXPECTED_EDITS)
    assert await _counts(database) == before
    applied = await import_entries(database, entries(edited()), merge=True, today=TODAY)
    assert {c.line() for c in applied.changes} == EXPECTED_EDITS
    async with database.sessions() as s:
        abenov = await s.scalar(select(Account.handle).where(Account.handle.like("abenov%")))
    assert abenov == "abenov_official"
    assert not (await import_entries(database, entries(edited()), merge=True, today=TODAY)).changed


async def test_wikidata_keeps_what_the_roster_file_says(database: Database) -> None:
    from bot.roster import parse_roster_text

    roster = (
        '[[official]]\nname = "Daniyar Abenov"\norganisation = "Government of Kazakhstan"\n'
        'notes = "from the newsroom"\nwatchlists = ["cabinet"]\n'
        '[official.accounts]\nrss = "https://gov.example/pm.rss"\n'
    )
    await import_entries(database, parse_roster_text(roster, fmt="toml"))
    stats = await import_entries(database, entries(), merge=True, today=TODAY)
    assert stats.officials_created == 23  # Abenov matched by name, then by his Wikidata id
    async with database.sessions() as s:
        abenov = await s.scalar(select(Official).where(Official.wikidata_id == "Q990001"))
        assert abenov is not None
        assert (abenov.organisation, abenov.notes) == (
            "Government of Kazakhstan",
            "from the newsroom",
        )
        platforms = set(
            await s.scalars(select(Account.platform).where(Account.official_id == abenov.id))
        )
    assert platforms == {"rss", "telegram", "x"}
    renamed = copy.deepcopy(fixture())
    for b in rows_of(renamed, "Daniyar Abenov"):
        b["personLabel"] = lit("Daniyar K. Abenov")
    again = await import_entries(database, entries(renamed), merge=True, today=TODAY)
    assert (again.officials_created, again.officials_updated) == (0, 1)  # matched on Q990001


# --- the command line and the query ---------------------------------------------------------


def test_cli_import_dry_run_and_bad_rows(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["import", "--wikidata", str(FIXTURE), "--watchlist", "kz-government"]
    assert main(args) == 0
    assert "officials: 24 new" in capsys.readouterr().out
    assert main(args) == 0
    assert "officials: 0 new, 0 updated; accounts: 0 new, 0 updated" in capsys.readouterr().out
    doc = copy.deepcopy(fixture())
    for b in rows_of(doc, "Daniyar Abenov"):
        b["telegram"] = lit("abenov_official")
    for b in rows_of(doc, "Asel Nurlanova"):
        b["end"] = day("2024-05-01")  # before any real "today": left office either way
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert (
        main(["import", "--wikidata", str(path), "--watchlist", "kz-government", "--dry-run"]) == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: would change:"
    assert set(out[1:-1]) == {
        "changed handle: Daniyar Abenov (telegram abenov_pm -> abenov_official)",
        "left office: Asel Nurlanova (Minister of Justice, until 2024-05-01)",
    }
    assert out[-1] == (
        "(dry run) officials: 0 new, 0 updated; accounts: 0 new, 1 updated; "
        "watchlists: 0 new; positions: 1 officials changed"
    )
    assert main(["import", "--wikidata", str(FIXTURE), "--dry-run"]) == 0
    assert "nothing would change" in capsys.readouterr().out
    bad = copy.deepcopy(fixture())
    bad["results"]["bindings"][3]["end"] = {"type": "bnode", "value": "t9"}
    path.write_text(json.dumps(bad), encoding="utf-8")
    assert main(["import", "--wikidata", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: row 4 (Q990002 Aigerim Bekova): end is not a date" in err
    assert "Traceback" not in err
    assert main(["import", str(FIXTURE), "--wikidata", str(FIXTURE)]) == 2


def _count(url: str) -> int:
    async def count() -> int:
        db = Database(url)
        try:
            return (await _counts(db))[0]
        finally:
            await db.close()

    return asyncio.run(count())


class _Sparql(BaseHTTPRequestHandler):
    """A fake SPARQL endpoint: answers GET /sparql with the fixture, remembers requests."""

    seen: ClassVar[list[dict[str, Any]]] = []
    status: ClassVar[int] = 200

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        type(self).seen.append(
            {
                "path": parts.path,
                "query": parse_qs(parts.query),
                "accept": self.headers.get("Accept"),
                "agent": self.headers.get("User-Agent"),
            }
        )
        body = FIXTURE.read_bytes() if self.status == 200 else b"java.lang.Exception: bad query"
        self.send_response(self.status)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def sparql() -> Iterator[str]:
    _Sparql.seen, _Sparql.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sparql)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()


def test_cli_runs_the_shipped_query_at_the_endpoint(
    cli_db: str, sparql: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOVWATCH_WIKIDATA__ENDPOINT", sparql)
    monkeypatch.setenv("GOVWATCH_HTTP__ALLOW_PRIVATE_NETWORKS", "true")
    args = ["import", "--wikidata-query", str(QUERY), "--watchlist", "kz-government"]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "new member: Arman Seitkali (kz-government)" in out
    assert "new handle: Arman Seitkali (telegram seitkali_energy)" in out
    assert _count(cli_db) == 0  # a dry run imports nothing
    assert main(args) == 0
    assert "officials: 24 new" in capsys.readouterr().out
    (request, _) = _Sparql.seen
    assert request["path"] == "/sparql"
    assert request["query"]["query"] == [QUERY.read_text(encoding="utf-8")]
    assert request["query"]["format"] == ["json"]
    assert request["accept"] == "application/sparql-results+json"
    assert request["agent"] == load_settings(None).wikidata.user_agent
    assert "https://github.com/govwatch/govwatch" in request["agent"]


async def test_the_query_obeys_the_address_guard(sparql: str) -> None:
    settings = load_settings(None, wikidata={"endpoint": sparql})
    with pytest.raises(SparqlError, match="blocked_address"):
        await run_query("SELECT 1", settings.wikidata, settings.http)
    assert _Sparql.seen == []


async def test_an_endpoint_error_is_said_in_one_line(sparql: str) -> None:
    _Sparql.status = 400
    settings = load_settings(
        None, wikidata={"endpoint": sparql}, http={"allow_private_networks": True}
    )
    with pytest.raises(SparqlError, match=r"HTTP 400: java\.lang\.Exception: bad query") as caught:
        await run_query("SELECT", settings.wikidata, settings.http)
    assert caught.value.status == 400
