"""The composition root: chat backends, relay and digests are wired; the heartbeat beats."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import App, GuardedBackend, RelayService
from bot.chat.console import ConsoleBackend
from bot.config import load_settings
from bot.errors import UserInputError
from bot.store.engine import Database


async def test_app_wires_chat_and_beats(database: Database, tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    settings = load_settings(
        None,
        scheduler={"tick": "200ms", "heartbeat_file": str(beat)},
        relay={"tick": "200ms"},
    )
    console = ConsoleBackend(stream=None)
    app = App(settings, db=database, sources={}, backends={"console": console})
    assert set(app.backends) == {"console"}  # no token: neither Telegram nor Slack
    assert any(isinstance(s, RelayService) for s in app.services)
    await app.start()
    try:
        for _ in range(50):
            if beat.exists():
                break
            await asyncio.sleep(0.1)
        assert beat.exists()
    finally:
        await app.stop()


async def test_configured_backend_failure_is_one_clear_line(database: Database) -> None:
    class Broken:
        name = "telegram"

        async def start(self) -> None:
            raise RuntimeError("Unauthorized: 123456:SECRET-TOKEN-VALUE rejected")

        async def stop(self) -> None:
            return None

    guarded = GuardedBackend(Broken())  # type: ignore[arg-type]
    with pytest.raises(UserInputError) as info:
        await guarded.start()
    assert "SECRET" not in str(info.value)
    assert str(info.value).startswith("could not connect to telegram (RuntimeError)")
