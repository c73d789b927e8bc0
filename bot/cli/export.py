"""``govwatch export``: the roster, or with ``--what`` snapshots, posts or events as CSV."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO

from bot.cli.roster import export_roster
from bot.config import Settings
from bot.errors import UserInputError
from bot.reports.export import export_csv
from bot.reports.scope import parse_period
from bot.store.migrate import open_database


def parse_since(text: str | None, now: datetime) -> datetime | None:
    """``--since`` as a moment: a period before ``now`` (30d) or an ISO date."""
    if not text:
        return None
    period = parse_period(text)
    if period is not None:
        return now - period
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        hint = "use a period like 30d or a date like 2026-01-31"
        raise UserInputError(f"--since {text!r}: {hint}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@contextmanager
def _open_output(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        return
    try:
        # Opened outside `with` (hence SIM115) so a refused path is a one-line user error.
        handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise UserInputError(f"cannot write {path}: {exc.strerror}") from exc
    with handle:
        yield handle


async def _export(settings: Settings, what: str, out: IO[str], since: datetime | None) -> int:
    async with open_database(settings) as db:
        return await export_csv(db, what, out, since=since)


def export_data(settings: Settings, args: argparse.Namespace) -> int:
    """``govwatch export --what snapshots|posts|events``: CSV for analysts."""
    if getattr(args, "format", None) not in (None, "csv"):
        raise UserInputError(f"--what {args.what} is exported as CSV only (--format csv)")
    since = parse_since(getattr(args, "since", None), datetime.now(UTC))
    with _open_output(getattr(args, "output", "-") or "-") as out:
        count = asyncio.run(_export(settings, args.what, out, since))
    print(f"govwatch: exported {count} {args.what}", file=sys.stderr)
    return 0


def export(settings: Settings, args: argparse.Namespace) -> int:
    """The roster by default; ``--what`` picks a data export instead."""
    if getattr(args, "what", "roster") == "roster":
        return export_roster(settings, args)
    return export_data(settings, args)
