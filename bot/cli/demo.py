"""``govwatch demo``: the simulated world with a console chat (see bot/demo/cli.py)."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.demo import cli as demo_cli


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Run the demo world, the real app against it and a console chat."""
    return demo_cli.main(settings, args)
