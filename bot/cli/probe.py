"""``govwatch probe``: fetch (or parse a saved page) and show what the bot sees."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.sources import probe as source_probe


def probe(settings: Settings, args: argparse.Namespace) -> int:
    """Show one account as the bot reads it, without storing anything."""
    return source_probe.main(settings, args)
