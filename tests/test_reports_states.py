"""Reports tell apart accounts read, unreadable, absent and never polled (issue 15).

Every report (/silent, /top, /report, /official) is asked about one world holding each
state, on the suite's database (SQLite, or PostgreSQL with GOVWATCH_TEST_DATABASE_URL):
what it says of each official, and that it never states a fact about an account it
could not read, nor shows a raw reason code.
"""

from __future__ import annotations

import pytest

from bot.commands.service import CommandService
from bot.reply import Caller, Table, render_plain
from bot.reports.leaderboard import top
from bot.reports.states import ABSENT, NEVER, UNREADABLE
from bot.store.engine import Database
from tests.fakes.world import World, seed
from tests.test_reports_commands import LOCALES, ask, service, table_names
from tests.test_reports_pipeline import poll, settings_for
from tests.test_reports_world import NOW, Acc, Off, build_world

FAILING = {"status": "unknown", "reason": "http_503", "last_ok_days": None, "failures": 3}


def four_states() -> list[Off]:
    """One official per state, on Telegram, plus one on Bluesky only and one with none."""
    return [
        Off("Read Quiet", [Acc("telegram", "quiet", [(30, 90), (1, 100)], posts=[20])]),
        Off("Read Active", [Acc("telegram", "active", [(30, 150), (1, 200)], posts=[1])]),
        Off("Un Readable", [Acc("telegram", "broken", posts=[], **FAILING)]),  # type: ignore[arg-type]
        Off("Never Polled", [Acc("telegram", "fresh", fetched=False)]),
        Off("Bluesky Only", [Acc("bluesky", "only.bsky", [(30, 50), (1, 60)], posts=[2])]),
        Off("No Account"),
    ]


def failed_round() -> list[Off]:
    """Four officials polled once, every read failed (``0 ok, 4 unknown``)."""
    return [
        Off(f"Failing {i}", [Acc("telegram", f"fail{i}", **FAILING)])  # type: ignore[arg-type]
        for i in range(4)
    ]


async def text_of(database: Database, command: str, locale: str = "en") -> str:
    return render_plain(await ask(service(database), command, locale))


# --- the observations of issue 15, reproduced ---------------------------------------------


async def test_silent_when_nobody_could_be_read(database: Database) -> None:
    await build_world(database, failed_round())
    reply = await ask(service(database), "/silent")
    text = render_plain(reply)
    assert "Everyone posted" not in text
    assert "posted within" not in text
    assert "Could not be read (4): Failing 0, Failing 1, Failing 2, Failing 3" in text
    assert "(platform server error: 4)" in text
    assert "http_503" not in text
    assert not any(isinstance(b, Table) for b in reply.blocks)


async def test_top_after_a_failed_round_says_the_reads_failed(database: Database) -> None:
    await build_world(database, failed_round())
    text = await text_of(database, "/top")
    assert "have not been read" not in text
    assert "No data" not in text
    assert "Could not be read (4): Failing 0, Failing 1, Failing 2, Failing 3." in text
    assert "could not be read on the last attempt: 4 (platform server error: 4)" in text
    assert "http_503" not in text


async def test_top_on_a_platform_nobody_has(database: Database) -> None:
    await build_world(database, four_states())
    text = await text_of(database, "/top instagram")
    assert "Nobody on the roster has an account on Instagram." in text
    assert "have not been read" not in text
    assert "No data" not in text


async def test_top_facebook_lists_officials_without_it_as_no_account(database: Database) -> None:
    world = [*four_states(), Off("Face Book", [Acc("facebook", "fb", [(1, 10)], posts=[1])])]
    await build_world(database, world)
    reply = await ask(service(database), "/top facebook")
    text = render_plain(reply)
    assert table_names(reply) == ["Face Book"]
    assert "No data" not in text
    names = "Bluesky Only, Never Polled, No Account, Read Active, Read Quiet, Un Readable"
    assert f"No account on Facebook (6): {names}." in text


async def test_report_without_platform_never_says_all_platforms(database: Database) -> None:
    await build_world(database, four_states())
    text = await text_of(database, "/report")
    assert "all platforms (" not in text
    assert "No accounts on the roster (1): No Account." in text


async def test_report_after_a_failed_round(database: Database) -> None:
    await build_world(database, failed_round())
    text = await text_of(database, "/report")
    assert "have not been read" not in text
    assert "0 of the 4" not in text
    assert "Who posted in the last 7\u00a0days is not known" in text
    assert "Could not be read (4): Failing 0, Failing 1, Failing 2, Failing 3" in text
    assert "(platform server error: 4)" in text


# --- table tests: each report, each state ----------------------------------------------

CASES = [
    # (command, what must be said, what must not be said)
    ("/silent 7", "2 of 5 officials with accounts posted within the last 7\u00a0days.", None),
    ("/silent 7", "Could not be read (1): Un Readable (platform server error: 1).", None),
    ("/silent 7", "Not polled yet (1): Never Polled.", None),
    ("/silent 7", "No account to check (1): No Account.", "Everyone posted"),
    ("/top telegram", "Could not be read (1): Un Readable.", "No data"),
    ("/top telegram", "Not polled yet (1): Never Polled.", "Un Readable,"),
    ("/top telegram", "No account on Telegram (2): Bluesky Only, No Account.", None),
    ("/top telegram", "on the last attempt: 1 (platform server error: 1)", "http_"),
    ("/top", "No accounts on the roster (1): No Account.", "all platforms ("),
    ("/top posts 7d telegram", "Could not be read (1): Un Readable.", None),
    ("/top growth 7d", "Not polled yet (1): Never Polled.", None),
    ("/report telegram", "Did not post (1): Read Quiet.", None),
    ("/report telegram", "Could not be read (1): Un Readable (platform server error: 1).", None),
    ("/report telegram", "Not polled yet (1): Never Polled.", None),
    ("/report telegram", "No account on Telegram (2): Bluesky Only, No Account.", None),
    ("/report telegram", "1 of the 6 members posted", "Did not post (1): Un"),
    ("/report telegram", "For 2 of them it is not known", None),
    ("/report", "No accounts on the roster (1): No Account.", "all platforms ("),
    ("/official Read Quiet", "Source: working", "failing"),
    ("/official Read Quiet", "Followers: 100", None),
    ("/official Un Readable", "Source: failing (platform server error)", "Followers"),
    ("/official Un Readable", "3 attempts in a row; never read successfully.", "http_503"),
    ("/official Never Polled", "Source: not read yet.", "No posts seen"),
    ("/official Never Polled", "Telegram", "Followers"),
    ("/official No Account", "No accounts on the roster.", "Source"),
]


@pytest.mark.parametrize(("command", "said", "unsaid"), CASES)
async def test_each_state_in_each_report(
    database: Database, command: str, said: str, unsaid: str | None
) -> None:
    await build_world(database, four_states())
    text = await text_of(database, command)
    assert said in text
    if unsaid is not None:
        assert unsaid not in text


async def test_silent_names_only_the_quiet_one_in_its_table(database: Database) -> None:
    await build_world(database, four_states())
    reply = await ask(service(database), "/silent 7")
    assert table_names(reply, 0) == ["Read Quiet"]
    assert "Read Active" not in render_plain(reply)


async def test_top_ranks_only_accounts_with_figures(database: Database) -> None:
    await build_world(database, four_states())
    reply = await ask(service(database), "/top telegram")
    assert table_names(reply) == ["Read Active", "Read Quiet"]


async def test_a_failing_account_shows_its_figure_as_last_read(database: Database) -> None:
    failing = Acc("telegram", "flaky", [(30, 500), (5, 700)], posts=[4], status="unknown",
                  reason="timeout", last_ok_days=5)  # fmt: skip
    await build_world(database, [Off("Flaky One", [failing])])
    text = await text_of(database, "/official Flaky")
    assert "Followers: 700 (as last read" in text
    assert "Source: failing (no answer in time)" in text


COMMANDS = ("/silent", "/top", "/top telegram", "/report", "/report telegram",
            "/official Un Readable", "/official Never Polled")  # fmt: skip


@pytest.mark.parametrize("locale", LOCALES)
async def test_every_locale_words_every_state(database: Database, locale: str) -> None:
    await build_world(database, [*four_states(), *failed_round()])
    svc = service(database)
    for command in COMMANDS:
        text = render_plain(await ask(svc, command, locale))
        assert "{" not in text, command
        assert "http_" not in text, command
        assert "Un Readable" in text or "Never Polled" in text, command


async def test_a_real_failed_round_through_the_pipeline(
    database: Database, db_url: str, world: World
) -> None:
    # The observation as seen: four accounts polled once, every read failed.
    for i in range(4):
        world.add_bluesky(f"f{i}.bsky.social", name=f"M {i}", followers=10).mode = "server_error"
    await seed(database, [("bluesky", f"f{i}.bsky.social") for i in range(4)], chats=0)
    settings = settings_for(db_url, world)
    await poll(database, settings)
    svc = CommandService(db=database, settings=settings, services={})
    caller = Caller(backend="console", user_id="1", chat_id="1")
    silent = render_plain(await svc.handle(caller, "/silent", locale="en"))
    assert "Everyone posted" not in silent
    assert "Could not be read (4):" in silent
    assert "(platform server error: 4)" in silent
    board = render_plain(await svc.handle(caller, "/top", locale="en"))
    assert "have not been read" not in board
    assert "Could not be read (4):" in board
    assert "http_" not in silent + board


async def test_top_lists_the_first_of_each_kind_and_counts_them_all(database: Database) -> None:
    ranked = [Off("Ranked", [Acc("telegram", "ranked", [(1, 100)])])]
    absent = [Off(f"Absent {i:02d}") for i in range(30)]
    broken = [Off(f"Broken {i:02d}", [Acc("telegram", f"b{i}", **FAILING)])  # type: ignore[arg-type]
              for i in range(27)]  # fmt: skip
    fresh = [Off(f"Fresh {i}", [Acc("telegram", f"n{i}", fetched=False)]) for i in range(2)]
    await build_world(database, ranked + absent + broken + fresh)
    async with database.sessions() as session:
        board = await top(session, now=NOW)
    assert [e.official.name for e in board.entries] == ["Ranked"]
    assert board.missing_counts == {ABSENT: 30, UNREADABLE: 27, NEVER: 2}
    assert [o.name for o in board.missing_by[ABSENT]] == [f"Absent {i:02d}" for i in range(25)]
    assert [o.name for o in board.missing_by[UNREADABLE]][-1] == "Broken 24"
    assert board.missing_count == 59
    assert board.unknown_accounts == 27
    assert board.reasons == {"server": 27}
    text = await text_of(database, "/top")
    assert "Could not be read (27): Broken 00" in text
    assert "Broken 24 and 2 more." in text
    assert "Not polled yet (2): Fresh 0, Fresh 1." in text


async def test_an_account_proven_gone_counts_as_no_account(database: Database) -> None:
    gone = Acc("telegram", "gone", [(30, 800)], posts=[40], status="absent", reason="not_found",
               missing=True, last_ok_days=30)  # fmt: skip
    await build_world(database, [Off("Gone Away", [gone]), *four_states()])
    card = await text_of(database, "/official Gone Away")
    assert "Source: the account is gone (account not found)." in card
    assert "Followers" not in card
    board = await text_of(database, "/top telegram")
    assert "No account on Telegram (3): Bluesky Only, Gone Away, No Account." in board
    silent = await text_of(database, "/silent")
    assert "No account to check (2): Gone Away, No Account." in silent
    report = await text_of(database, "/report telegram")
    assert "No account on Telegram (3): Bluesky Only, Gone Away, No Account." in report
