"""What every section is built from: durations, time zones, addresses, cross-key checks.

Durations are strings such as ``"30s"``, ``"15m"``, ``"6h"``, ``"7d"`` (or a number of
seconds). A section whose keys together cannot work raises :class:`Requirements`, which
names each missing key; ``bot.config.load`` reports each one with its source.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: A host name (no scheme, port or path).
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*")


def parse_duration(value: object) -> timedelta:
    """Parse ``"30s"``/``"15m"``/``"6h"``/``"7d"`` (or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f'not a duration: {value!r} (use e.g. "30s", "15m", "6h", "7d")')


def format_duration(value: timedelta) -> str:
    """Format a timedelta in the largest unit that divides it exactly."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


def positive(value: timedelta) -> timedelta:
    """``value`` when it is longer than zero; ValueError otherwise."""
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


def known_zone(name: str) -> str:
    """``name`` when it is an IANA time zone this machine knows; ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder such as "Asia" is not a zone
        raise ValueError(
            f'unknown time zone {name!r} (use an IANA name such as "Asia/Almaty" or "UTC")'
        ) from None
    return name


TimeZoneName = Annotated[str, AfterValidator(known_zone)]


def listen_address(value: str) -> str:
    """``value`` when a server can listen on it (an IP address or a host name)."""
    if not (_is_ip(value) or _HOST_NAME.fullmatch(value)):
        raise ValueError(
            f"{value!r} is not an address to listen on (use an IP address such as "
            '"127.0.0.1" or "0.0.0.0", or a host name)'
        )
    return value


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class Requirements(ValueError):
    """Keys a section needs because of others: (key, reason, the key that makes it needed)."""

    def __init__(self, items: list[tuple[str, str, str]]) -> None:
        self.items = items
        super().__init__("; ".join(f"{key}: {reason}" for key, reason, _ in items))


def require(items: list[tuple[str, str, str]]) -> None:
    """Raise :class:`Requirements` when ``items`` names any missing key."""
    if items:
        raise Requirements(items)


class Section(BaseModel):
    """Base of every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
