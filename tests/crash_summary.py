"""Pytest plugin: tallies the crash, fault and hostile-input scenarios and prints a summary.

Registered from tests/conftest.py (``pytest_plugins``). Tests record through the
``crash_tally`` fixture; the summary appears at the end of any run that recorded at least
one scenario, e.g.::

    ===== govwatch crash & fault summary =====
    scenarios run: 14   faults injected: 212
      scenarios by name: crash.govwatch_run=1, faults.delivery=2, ...
      faults by kind: kill.relay.after_send=1, source.429=12, ...
    alerts expected: 96   delivered: 96   duplicated: 1 (unknowable outcome: 1)   lost: 0
    false alerts: 0   hostile inputs refused: 58
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest


@dataclass
class Tally:
    """Counters for one test session (also used by bench/soak.py)."""

    scenarios: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    expected: int = 0
    delivered: int = 0
    duplicated: int = 0
    duplicated_unknowable: int = 0
    lost: int = 0
    false_alerts: int = 0
    refused: int = 0

    def scenario(self, name: str) -> None:
        """Count one scenario run (a crash iteration, a fault run, a hostile case)."""
        self.scenarios[name.split("[")[0]] += 1

    def fault(self, kind: str, count: int = 1) -> None:
        """Count ``count`` injected faults of one kind."""
        self.faults[kind] += count

    def alerts(
        self,
        *,
        expected: int,
        delivered: int,
        duplicated: int = 0,
        duplicated_unknowable: int = 0,
        lost: int = 0,
        false_alerts: int = 0,
    ) -> None:
        """Add one scenario's alert accounting."""
        self.expected += expected
        self.delivered += delivered
        self.duplicated += duplicated
        self.duplicated_unknowable += duplicated_unknowable
        self.lost += lost
        self.false_alerts += false_alerts

    def refusal(self, count: int = 1) -> None:
        """Count hostile inputs that were refused with a clear error."""
        self.refused += count

    def lines(self) -> list[str]:
        """The summary as text lines."""
        faults = ", ".join(f"{k}={v}" for k, v in sorted(self.faults.items())) or "-"
        names = ", ".join(f"{k}={v}" for k, v in sorted(self.scenarios.items())) or "-"
        return [
            f"scenarios run: {sum(self.scenarios.values())}   "
            f"faults injected: {sum(self.faults.values())}",
            f"  scenarios by name: {names}",
            f"  faults by kind: {faults}",
            f"alerts expected: {self.expected}   delivered: {self.delivered}   "
            f"duplicated: {self.duplicated} (unknowable outcome: {self.duplicated_unknowable})   "
            f"lost: {self.lost}",
            f"false alerts: {self.false_alerts}   hostile inputs refused: {self.refused}",
        ]

    @property
    def empty(self) -> bool:
        """True when nothing was recorded."""
        return not self.scenarios and not self.refused


TALLY = Tally()


@pytest.fixture
def crash_tally() -> Tally:
    """The session's tally of scenarios, faults and alert outcomes."""
    return TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the crash & fault summary when any scenario was recorded."""
    if TALLY.empty:
        return
    terminalreporter.section("govwatch crash & fault summary")
    for line in TALLY.lines():
        terminalreporter.write_line(line)
