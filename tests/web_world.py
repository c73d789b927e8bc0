"""A database the web tests share: the demo's world after a short run, plus an official
whose name is HTML and a chat whose title must never reach a page.

The demo runs as a subprocess (`govwatch demo --no-input`) on a SQLite file, or on the
test PostgreSQL database when the suite runs there; every web test then serves that one
database read-only, each with its own server.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.config import Settings
from bot.store.engine import Database
from bot.store.models import Account, Base, Chat, Official
from bot.web.limits import RateLimiter
from bot.web.server import WebServer

ROOT = Path(__file__).resolve().parents[1]
#: An official's name with markup in it: every page must show it as these characters.
EVIL_NAME = '<b>Evil</b> & <script>alert("x")</script> Official'
EVIL_SLUG = "evil-official"
PRIVATE_TITLE = "PRIVATE-CHAT-TITLE-4711"
MEMBERS, POSTED = 24, 7
LEADERS = ("Aimagambetov", "Musin", "Sultanov")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def _truncate(url: str) -> None:
    db = Database(url)
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await db.close()


async def _add_hostile_rows(url: str) -> None:
    db = Database(url)
    try:
        async with db.sessions() as session, session.begin():
            official = Official(slug=EVIL_SLUG, name=EVIL_NAME, search_key="evil")
            session.add(official)
            await session.flush()
            session.add(
                Account(
                    official_id=official.id,
                    platform="telegram",
                    handle="<i>evil</i>",
                    url="javascript:alert(1)",
                )
            )
            session.add(Chat(backend="telegram", external_id="4711", title=PRIVATE_TITLE))
    finally:
        await db.close()


#: The issue's "Done means" command, word for word (with the database in a test folder).
DONE_MEANS = ("--duration", "60", "--no-input")


def make_demo_database(folder: Path, pg_url: str | None, *, exact: bool = False) -> str:
    """Run the demo into a fresh database and add the hostile rows; its URL.

    ``exact`` runs ``govwatch demo --duration 60 --no-input`` as the issue's "Done means"
    says (the default speed and language); otherwise a faster run with the same plot.
    """
    url = pg_url or f"sqlite+aiosqlite:///{folder / 'web-demo.db'}"
    if pg_url:
        asyncio.run(_truncate(pg_url))
    fast = ("--lang", "en", "--duration", "20", "--speed", "240", "--no-input")
    command = [
        *(sys.executable, "-m", "bot", "demo", "--database", url, "--output", str(folder)),
        *(DONE_MEANS if exact else fast),
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    said = "Публиковались за последние 7 дней: 7 из 24" if exact else "7 of the 24 members posted"
    assert said in done.stdout.replace("\xa0", " "), done.stdout[-2000:]
    asyncio.run(_add_hostile_rows(url))
    return url


def web_settings(url: str, **web: object) -> Settings:
    """Settings reading ``url`` with the public site's options ``web``."""
    return Settings.model_validate(
        {"database": {"url": url}, "web": {"base_url": "http://news.example", **web}}
    )


@asynccontextmanager
async def serving(
    url: str, *, now: datetime | None = None, rate: int = 10_000, **web: object
) -> AsyncIterator[tuple[WebServer, str]]:
    """A started web server on a free loopback port over ``url``, and its base address."""
    settings = web_settings(url, listen="127.0.0.1", port=free_port(), **web)
    db = Database(url)
    clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
    server = WebServer(settings, db=db, clock=clock, limiter=RateLimiter(rate))
    await server.start()
    try:
        yield server, f"http://127.0.0.1:{settings.web.port}"
    finally:
        await server.stop()
        await db.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
