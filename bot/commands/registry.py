"""The one table of chat commands, built here from each family module's ``COMMANDS``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from bot.commands import (
    anomalies,
    chat_tz,
    digest,
    editors,
    evidence,
    official,
    reports,
    same,
    search,
    subscriptions,
)
from bot.commands.context import CommandSpec

#: Every command family, each a module with a ``COMMANDS`` tuple of specs.
FAMILIES: tuple[tuple[CommandSpec, ...], ...] = (
    subscriptions.COMMANDS,
    reports.COMMANDS,
    official.COMMANDS,
    digest.COMMANDS,
    editors.COMMANDS,
    chat_tz.COMMANDS,
    evidence.COMMANDS,
    search.COMMANDS,
    anomalies.COMMANDS,
    same.COMMANDS,
)


def build_registry(families: Iterable[Iterable[CommandSpec]]) -> Mapping[str, CommandSpec]:
    """Name -> spec for every command of ``families`` (a name defined twice is an error)."""
    table: dict[str, CommandSpec] = {}
    for family in families:
        for spec in family:
            if spec.name in table:
                raise ValueError(f"command /{spec.name} defined twice")
            table[spec.name] = spec
    return MappingProxyType(table)


COMMANDS: Mapping[str, CommandSpec] = build_registry(FAMILIES)
