"""The command layer answers a failing database: one log line, a short apology, no crash.

The database is really unavailable (a SQLite file in a missing folder, a PostgreSQL port
nobody listens on) or really broken (a SQLite file missing the tables a command reads).
The adapters' own tests check that the apology reaches a Telegram, Slack and console user.
"""

from __future__ import annotations

import argparse
import io
import logging
from pathlib import Path

import pytest

from bot.chat.console import ConsoleBackend
from bot.cli.ask import run_ask
from bot.commands.local import console_caller
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.i18n import t
from bot.reply import Caller, render_plain
from bot.store.engine import Database
from bot.store.models import AuditLog, Chat, Editor

SETTINGS = load_settings(None, telegram={"editors": [1001]}, i18n={"default_locale": "en"})


def _caller(lang: str | None = "ru", *, kind: str = "private") -> Caller:
    return Caller(backend="telegram", user_id="7", chat_id="7" if kind == "private" else "-5",
                  chat_kind=kind, language_hint=lang)  # type: ignore[arg-type]  # fmt: skip


def _db_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.commands.service" and r.exc_info]


@pytest.mark.parametrize("text", ["/top", "/subscribe all", "/watch add x telegram y", "/nope"])
async def test_unavailable_database_gets_an_apology_in_the_users_language(
    unavailable_database: Database, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    service = CommandService(db=unavailable_database, settings=SETTINGS)
    with caplog.at_level(logging.ERROR):
        reply = await service.handle(_caller("ru"), text)
    assert render_plain(reply) == t("ru", "chat.db_unavailable")
    assert len(_db_errors(caplog)) == 1


async def test_buttons_and_overrides_are_guarded_too(
    unavailable_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    service = CommandService(db=unavailable_database, settings=SETTINGS)
    with caplog.at_level(logging.ERROR):
        tapped = await service.handle_action(_caller(None, kind="group"), "mute:3")
        asked = await service.handle(_caller("ru"), "/help", locale="kk")
    assert render_plain(tapped) == t("en", "chat.db_unavailable")
    assert render_plain(asked) == t("kk", "chat.db_unavailable")
    assert len(_db_errors(caplog)) == 2
    assert not await service.migrate_chat("telegram", "-5", "-1005")


async def _half_built(tmp_path: Path) -> Database:
    """A real SQLite database that has chats, editors and the audit log, and nothing else."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'half.db'}")
    tables = [Chat.__table__, Editor.__table__, AuditLog.__table__]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: Chat.metadata.create_all(sync, tables=tables))
    return db


@pytest.mark.parametrize("text", ["/subscriptions", "/subscribe all", "/top", "/watchlist"])
async def test_failure_inside_a_command_is_answered_in_the_chats_language(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    db = await _half_built(tmp_path)
    try:
        service = CommandService(db=db, settings=SETTINGS)
        assert "/top" in render_plain(await service.handle(_caller("kk"), "/help"))
        with caplog.at_level(logging.ERROR):
            reply = await service.handle(_caller("kk"), text)
    finally:
        await db.close()
    assert render_plain(reply) == t("kk", "chat.db_unavailable")
    assert len(_db_errors(caplog)) == 1


async def test_console_user_gets_the_apology(unavailable_database: Database) -> None:
    out = io.StringIO()
    console = ConsoleBackend(
        stream=out, commands=CommandService(db=unavailable_database, settings=SETTINGS)
    )
    reply = await console.ask(console_caller("desk", lang="kk"), "/subscriptions")
    assert render_plain(reply) == t("kk", "chat.db_unavailable")
    assert t("kk", "chat.db_unavailable") in out.getvalue()


async def test_govwatch_ask_runner_prints_the_apology(unavailable_database: Database) -> None:
    """``run_ask`` on a database that went away (the entry point migrates first)."""
    settings = load_settings(None, i18n={"default_locale": "ru"})
    args = argparse.Namespace(text="/top", chat="console", as_editor=False, lang=None)
    out = io.StringIO()
    reply = await run_ask(unavailable_database, settings, args, stream=out)
    assert render_plain(reply) == t("ru", "chat.db_unavailable")
    assert out.getvalue() == t("ru", "chat.db_unavailable") + "\n"
