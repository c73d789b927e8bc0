"""``govwatch web``: serve the public read-only site from the database until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from bot.cli.evidence import with_database
from bot.config import Settings
from bot.errors import UserInputError
from bot.logs import quiet_libraries, setup_logging
from bot.store.migrate import open_database
from bot.web.server import WebServer, where_of


def with_address(settings: Settings, listen: str | None, port: int | None) -> Settings:
    """``settings`` with ``--listen``/``--port`` in place of the configured ones."""
    update = {k: v for k, v in (("listen", listen), ("port", port)) if v is not None}
    if not update:
        return settings
    try:
        section = type(settings.web).model_validate({**settings.web.model_dump(), **update})
    except ValueError as exc:
        raise UserInputError(f"--listen/--port: {exc}".splitlines()[0]) from None
    return settings.model_copy(update={"web": section})


def web(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the site until SIGINT or SIGTERM."""
    settings = with_database(settings, getattr(args, "database", None))
    settings = with_address(settings, getattr(args, "listen", None), getattr(args, "port", None))
    setup_logging(
        settings.logging.level,
        secrets=settings.secrets(),
        json_format=settings.logging.json_format,
    )
    quiet_libraries()
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with open_database(settings) as db:
        server = WebServer(settings, db=db)
        await server.start()
        print(
            f"govwatch web: http://{where_of(settings.web.listen, settings.web.port)}/ "
            "(Ctrl-C stops)",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            await server.stop()
