"""Help that helps: /help <command>, every command listed, and specific answers to
mistyped kinds, stray text and ambiguous arguments (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bot.commands.menu import example, syntax
from bot.commands.parsing import KIND_ALIASES, parse_kinds, split_command
from bot.commands.registry import COMMANDS
from bot.commands.service import CommandService
from bot.commands.targets import choice_label, choices_reply
from bot.config import load_settings
from bot.domain import EventKind
from bot.i18n import LOCALES, t
from bot.names import search_key
from bot.reply import Caller, render_plain
from bot.store.engine import Database
from bot.store.models import Official, Subscription, Watchlist

EDITOR_ID = 1001


def _caller(uid: int = 7, *, lang: str = "en", kind: str = "private", chat: int = 0) -> Caller:
    return Caller(
        backend="telegram",
        user_id=str(uid),
        chat_id=str(chat or uid),
        chat_kind=kind,  # type: ignore[arg-type]
        is_chat_admin=True,
        language_hint=lang,
    )


READER = _caller()
EDITOR = _caller(EDITOR_ID)


@pytest.fixture
async def service(database: Database, db_url: str) -> CommandService:
    settings = load_settings(None, database={"url": db_url}, telegram={"editors": [EDITOR_ID]})
    return CommandService(db=database, settings=settings)


async def _official(db: Database, name: str, name_ru: str, position: str | None = None) -> int:
    async with db.sessions() as session:
        official = Official(slug=name.lower().replace(" ", "-"), name=name, name_ru=name_ru,
                            position=position, search_key=search_key([name, name_ru]))  # fmt: skip
        session.add(official)
        await session.commit()
        return official.id


async def _say(service: CommandService, text: str, caller: Caller = READER, **kw: str) -> str:
    return render_plain(await service.handle(caller, text, **kw))


# --- /help <command> ---------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_help_for_every_command_gives_syntax_and_example(
    service: CommandService, name: str, locale: str
) -> None:
    text = await _say(service, f"/help {name}", locale=locale)
    wanted_syntax, wanted_example = syntax(locale, name), example(locale, name)
    assert wanted_syntax, f"/{name} has no syntax in {locale}"
    assert wanted_example, f"/{name} has no example in {locale}"
    assert wanted_syntax in text
    assert wanted_example in text
    assert t(locale, "help.syntax_label") in text
    assert t(locale, "help.example_label") in text
    assert t(locale, "chat.help.title") not in text  # not the general list
    assert (t(locale, "help.editors_only") in text) == COMMANDS[name].editor_only


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_example_runs_the_command_it_explains(name: str, locale: str) -> None:
    written = example(locale, name)
    assert written is not None
    assert split_command(written)[0] == name
    assert split_command(syntax(locale, name) or "")[0] == name


async def test_help_top_explains_top_not_the_general_list(service: CommandService) -> None:
    """Observed: "/help top" printed the general list."""
    text = await _say(service, "/help top")
    assert "/top [platform]" in text
    assert "/top telegram growth 30d" in text
    assert "/silent" not in text
    assert "/subscribe" not in text
    assert "/top [platform]" in await _say(service, "/help /TOP@govwatch_bot")


async def test_help_about_a_command_that_does_not_exist(service: CommandService) -> None:
    text = await _say(service, "/help frobnicate")
    assert text == t("en", "help.unknown_topic", name="frobnicate")


async def test_help_subscribe_lists_the_event_kinds_in_the_fixed_order(
    service: CommandService,
) -> None:
    text = await _say(service, "/help subscribe")
    listed = [k.value for k in EventKind]
    positions = [text.index(f" {kind}") for kind in listed]
    assert positions == sorted(positions)


# --- the general list --------------------------------------------------------------------


async def test_editors_see_every_command_in_help(service: CommandService) -> None:
    """Observed: /help omitted /mute, /unmute and /watch."""
    text = await _say(service, "/help", EDITOR)
    for name in COMMANDS:
        assert f"/{name} — " in text, f"/{name} is missing from an editor's /help"
    assert "/help top" in text  # says how to get the details


async def test_readers_see_editor_commands_marked_as_editors_only(
    service: CommandService,
) -> None:
    text = await _say(service, "/help")
    for name, spec in COMMANDS.items():
        if spec.editor_only:
            assert f"/{name} — " not in text
        else:
            assert f"/{name} — " in text
    editor_names = [f"/{n}" for n, s in COMMANDS.items() if s.editor_only]
    marked = [line for line in text.splitlines() if line.startswith("For editors:")]
    assert len(marked) == 1
    assert all(n in marked[0] for n in editor_names)
    assert "/mute — " in text
    assert "/unmute — " in text
    assert "/watch — " not in await _say(service, "/start")  # the greeting stays short


# --- unknown event kinds, ambiguous arguments --------------------------------------------


async def test_an_unknown_event_kind_is_named(service: CommandService, database: Database) -> None:
    """Observed: "/subscribe Musin deleted" said no official "Musin deleted" exists."""
    await _official(database, "Bagdat Musin", "Багдат Мусин")
    text = await _say(service, "/subscribe Musin deleted")
    assert '"deleted"' in text
    assert '"Musin"' in text
    assert "post_deleted?" in text  # the likely meaning
    for word in ("posts", "followers", "silence", "new_post", "source_recovered"):
        assert word in text
    assert "couldn't find" not in text
    ru = await _say(service, "/subscribe Мусин удалённые", locale="ru")
    assert "«удалённые»" in ru
    assert "Виды событий" in ru
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert "Subscribed: Bagdat Musin" in await _say(service, "/subscribe Musin post_deleted")


async def test_a_name_that_matches_nobody_is_still_not_found(
    service: CommandService, database: Database
) -> None:
    await _official(database, "Bagdat Musin", "Багдат Мусин")
    assert "couldn't find" in await _say(service, "/subscribe Nobody deleted")
    assert "couldn't find" in await _say(service, "/subscribe Nobody")


async def test_two_delivery_modes_at_once_are_refused_plainly(
    service: CommandService, database: Database
) -> None:
    await _official(database, "Bagdat Musin", "Багдат Мусин")
    text = await _say(service, "/subscribe Musin posts immediate digest")
    assert text == t("en", "help.two_modes")


async def test_several_matches_are_listed_by_the_shown_name(
    service: CommandService, database: Database
) -> None:
    await _official(database, "Yerlan Musin", "Ерлан Мусин")
    await _official(database, "Bagdat Musin", "Багдат Мусин")
    await _official(database, "Aida Musina", "Аида Мусина")
    text = await _say(service, "/official Мусин", locale="ru")
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert lines == ["• Аида Мусина", "• Багдат Мусин", "• Ерлан Мусин"]


async def test_a_watchlist_named_like_an_official_says_how_to_mean_the_official(
    service: CommandService, database: Database
) -> None:
    official_id = await _official(database, "Dana Omarova", "Дана Омарова")
    async with database.sessions() as session:
        session.add(Watchlist(name="Dana Omarova", title="Her team"))
        await session.commit()
    text = await _say(service, '/subscribe "Dana Omarova"')
    assert "Subscribed: watchlist Dana Omarova." in text
    assert f"use #{official_id} instead" in text
    assert "Subscribed: Dana Omarova." in await _say(service, f"/subscribe #{official_id}")
    # A name that only starts the watchlist's is no such ambiguity.
    await _official(database, "Aida Balaeva", "Аида Балаева")
    async with database.sessions() as session:
        session.add(Watchlist(name="Aida", title="A"))
        await session.commit()
    assert "instead" not in await _say(service, "/subscribe Aida")


def test_a_placeholder_member_does_not_repeat_its_portfolio() -> None:
    """Observed: "Deputy Prime Minister (Deputy Prime Minister)"."""
    placeholder = Official(id=1, name="Deputy Prime Minister (name not given)",
                           position="Deputy Prime Minister", search_key="")  # fmt: skip
    person = Official(id=2, name="Roman Sklyar", position="Deputy Prime Minister", search_key="")
    text = render_plain(choices_reply("en", [placeholder, person], retry="/official {id}"))
    assert "• Deputy Prime Minister (name not given)\n" in text + "\n"
    assert "• Roman Sklyar (Deputy Prime Minister)" in text
    assert choice_label("Deputy Prime Minister", "Deputy Prime Minister") == "Deputy Prime Minister"


# --- stray text ----------------------------------------------------------------------------


async def test_stray_text_in_a_private_chat_points_to_help(service: CommandService) -> None:
    """Observed: plain "hello" answered "I don't know the command /hello"."""
    text = await _say(service, "hello")
    assert text == t("en", "help.stray")
    assert "/hello" not in text
    assert "/help" in text
    assert "/help" in await _say(service, "привет", locale="ru")
    # A mistyped command with its slash still gets the unknown-command answer.
    assert "/hello" in await _say(service, "/hello")
    # Command words without a slash still run (Slack's "/govwatch top" arrives as "top").
    assert "/top — " in await _say(service, "help")


async def test_stray_text_addressed_to_the_bot_in_a_group_gets_the_hint(
    service: CommandService,
) -> None:
    # Only text meant for the bot reaches the command layer from a group (a Slack mention
    # or "/govwatch hello"); Telegram keeps a group's plain text away (test_telegram_e2e).
    group = _caller(7, kind="group", chat=-100)
    assert render_plain(await service.handle(group, "hello everyone")) == t("en", "help.stray")
    assert "/hello" in render_plain(await service.handle(group, "/hello"))


# --- ordering ------------------------------------------------------------------------------


def test_event_kinds_come_out_in_the_documented_order() -> None:
    _, kinds, mode = parse_kinds(["Musin", "sources", "silence", "new_post", "posts", "digest"])
    assert mode == "digest"
    assert kinds == [k.value for k in EventKind if k.value in kinds]
    assert kinds[-2:] == ["source_degraded", "source_recovered"]


def test_the_sources_alias_has_the_same_order_in_every_process() -> None:
    """Observed: the event-kind list came out in a different order on different runs."""
    code = "from bot.commands.parsing import KIND_ALIASES; print(list(KIND_ALIASES['sources']))"
    seen = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)  # fmt: skip
        seen.add(out.stdout.strip())
    assert seen == {str(list(KIND_ALIASES["sources"]))}
    assert list(KIND_ALIASES["sources"]) == ["source_degraded", "source_recovered"]


async def test_subscriptions_do_not_repeat_a_label(
    service: CommandService, database: Database
) -> None:
    """Observed: every line of /subscriptions repeated "Alerts:"."""
    await _official(database, "Bagdat Musin", "Багдат Мусин")
    await _say(service, "/subscribe all")
    await _say(service, "/subscribe Musin sources posts digest")
    text = await _say(service, "/subscriptions")
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    kinds = ("new_post", "post_edited", "post_deleted", "source_degraded", "source_recovered")
    names = ", ".join(t("en", f"alert.kind.{k}") for k in kinds)
    assert lines == [
        "• all officials — all kinds of changes",
        f"• Bagdat Musin — {names} (in the digest)",
    ]
    assert "Alerts:" not in text
