"""``govwatch run``: the composition root until SIGINT or SIGTERM, in one or N processes."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.errors import UserInputError
from bot.logs import quiet_libraries, setup_logging


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Poll, detect, deliver and chat until stopped (``--workers N``: N processes)."""
    if getattr(args, "worker_index", None) is None:
        from bot.cli.workers import supervise_run, worker_count

        requested = getattr(args, "workers", None)
        if requested is not None and requested < 1:
            raise UserInputError("--workers must be 1 or more")
        count = worker_count(requested, settings)
        if count > 1:
            setup_logging(
                settings.logging.level,
                secrets=settings.secrets(),
                json_format=settings.logging.json_format,
            )
            quiet_libraries()
            return supervise_run(settings, args, count)
    # The application (chat SDKs and all) is imported only by a process that runs it.
    from bot import app

    return app.main(settings, args)
