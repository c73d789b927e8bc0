"""Wall-clock helpers shared by commands and digests: ``HH:MM`` times and time zones."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_time(text: str) -> time | None:
    """``HH:MM`` (24-hour) as a time, or None when malformed."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The time zone ``name`` (or ``fallback`` when unset or unknown)."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
