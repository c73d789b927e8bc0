"""What ``govwatch run`` says at start: backends, sources, chats (issue 15)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import App
from bot.config import load_settings
from bot.store.engine import Database
from tests.fakes.world import seed


async def _announced(app: App, caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.app"):
        await app.announce()
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "bot.app"]


async def test_run_says_what_it_reads_and_that_no_backend_is_enabled(
    database: Database, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(
        database,
        [("telegram", "chan_a"), ("telegram", "chan_b"), ("x", "someone"), ("vk", "durov")],
        chats=2,
    )
    settings = load_settings(None, database={"url": db_url}, sources={"vk": {"enabled": False}})
    app = App(settings, db=database)
    try:
        lines = await _announced(app, caplog)
    finally:
        await app.stop()
    assert lines[0] == (
        logging.WARNING,
        "no chat backend is enabled: alerts are queued in the outbox until one is "
        "(set telegram.token or slack.bot_token)",
    )
    assert (logging.INFO, "reading: telegram (2 accounts)") in lines
    assert (
        logging.WARNING,
        "not read: x (1 account): no token, set sources.x.bearer_token; "
        "vk (1 account): sources.vk.enabled is false",
    ) in lines
    tokenless = next(text for _, text in lines if text.startswith("disabled until a token"))
    assert "x" in tokenless.split(": ")[1].split(", ")
    assert lines[-1] == (logging.INFO, "chats: 2 active, 2 subscriptions")


async def test_run_names_its_backends(
    database: Database, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(None, database={"url": db_url})
    backends: dict[str, Any] = {"console": object()}
    app = App(settings, db=database, backends=backends, chat=False)
    try:
        lines = await _announced(app, caplog)
    finally:
        await app.stop()
    assert lines[0] == (logging.INFO, "chat backends: console")
    assert (logging.INFO, "reading: no accounts (import a roster)") in lines
    assert lines[-1] == (logging.INFO, "chats: 0 active, 0 subscriptions")
