"""Named crash points for the crash-safety suite; free when ``GOVWATCH_FAILPOINTS`` is unset.

``GOVWATCH_FAILPOINTS`` holds comma- or semicolon-separated ``name=action`` items, e.g.
``relay.after_send=kill@3,poll.mid_fetch=kill``. The only action is ``kill[@N]``: on the
N-th time (default: the first) the point is reached, the process sends itself SIGKILL, so
nothing (no ``finally``, no rollback, no flush) runs after it, exactly like a power cut.
The variable is read once, at import; a production process never pays more than one dict
lookup on an empty dict per point.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass

ENV = "GOVWATCH_FAILPOINTS"


@dataclass(slots=True)
class _Point:
    """One armed failpoint: fire on the ``at``-th hit; ``hits`` counts hits so far."""

    at: int
    hits: int = 0


def parse(spec: str) -> dict[str, _Point]:
    """The failpoints named by a ``GOVWATCH_FAILPOINTS`` value; ValueError on a bad item."""
    points: dict[str, _Point] = {}
    for item in spec.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, action = item.partition("=")
        name, action = name.strip(), action.strip()
        if not sep or not name:
            raise ValueError(f"{ENV}: {item!r} is not name=action")
        verb, _, count = action.partition("@")
        if verb != "kill":
            raise ValueError(f"{ENV}: unknown action {action!r} (use kill or kill@N)")
        at = int(count) if count else 1
        if at < 1:
            raise ValueError(f"{ENV}: {item!r}: N must be at least 1")
        points[name] = _Point(at=at)
    return points


_POINTS: dict[str, _Point] = parse(os.environ.get(ENV, ""))


def reload(spec: str | None = None) -> None:
    """Re-arm from ``spec`` (default: the environment); for tests in one process."""
    global _POINTS
    _POINTS = parse(os.environ.get(ENV, "") if spec is None else spec)


def armed() -> frozenset[str]:
    """The names of the armed failpoints."""
    return frozenset(_POINTS)


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL if ``name`` is armed and reached its hit count."""
    if not _POINTS:
        return
    point = _POINTS.get(name)
    if point is None:
        return
    point.hits += 1
    if point.hits >= point.at:
        # One line on stderr tells the crash suite which point fired (it cannot be logged
        # through logging: handlers may buffer and SIGKILL leaves no time to flush).
        sys.stderr.write(f"govwatch failpoint {name} fired at hit {point.hits}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
