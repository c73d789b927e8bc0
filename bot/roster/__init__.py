"""Roster files: officials, their accounts and watchlists, in TOML or CSV.

:mod:`bot.roster.parse` reads and validates a whole file before anything is imported;
:mod:`bot.roster.transfer` imports entries into the database in one idempotent
transaction and exports them back in the same format.
"""

from bot.roster.parse import (
    AccountEntry,
    OfficialEntry,
    load_roster,
    make_slug,
    parse_roster_text,
    validate_entries,
)

__all__ = [
    "AccountEntry",
    "OfficialEntry",
    "load_roster",
    "make_slug",
    "parse_roster_text",
    "validate_entries",
]
