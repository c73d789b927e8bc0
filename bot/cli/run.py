"""``govwatch run``: the composition root until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse

from bot import app
from bot.config import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Poll, detect, deliver and chat until stopped."""
    return app.main(settings, args)
