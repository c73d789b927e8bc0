"""The process's metric objects (prometheus-client), counted by polling, relaying and the store.

A leaf: ``bot.poll``, ``bot.notify`` and ``bot.store`` count here without knowing who
serves the numbers; ``bot.ops`` serves them (with the gauges it computes from the
database at scrape time). Labels are closed sets: a platform, a backend, an outcome or
a reason code, never a handle, a chat id or a token. A value outside its set is counted
as ``other``.

Several processes (``PROMETHEUS_MULTIPROC_DIR`` set before the process starts): every
process writes its counters to files in that directory and the process that serves
``/metrics`` adds them up (``bot.ops.server.metrics_registry``).
"""

from __future__ import annotations

import os
import re

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from bot.domain import Platform, Status

#: Where this process's metrics are kept when several processes share them (None: here).
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if MULTIPROCESS_DIR:
    # prometheus-client opens its files there as the metrics below are made: a directory
    # named but not made yet must not stop every govwatch command with a traceback.
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)

# The ``*_created`` series double every counter and say nothing an operator needs.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

PLATFORMS = frozenset(p.value for p in Platform)
STATUSES = frozenset(s.value for s in Status)
BACKENDS = frozenset({"telegram", "slack", "console"})
#: What became of one delivery attempt.
RESULTS = frozenset({"sent", "retry", "failed", "skipped"})
_REASON = re.compile(r"[a-z][a-z0-9_]{0,39}")
OTHER = "other"

POLLS = Counter(
    "govwatch_polls",
    "Accounts polled, by platform and outcome (ok, absent, unknown).",
    ["platform", "status"],
)
POLL_FAILURES = Counter(
    "govwatch_poll_failures",
    "Polls whose outcome was unknown, by platform and reason code.",
    ["platform", "reason"],
)
FETCH_SECONDS = Histogram(
    "govwatch_fetch_seconds",
    "Time to fetch one account (all its requests, per-host pacing included), by platform.",
    ["platform"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0),
)
DELIVERIES = Counter(
    "govwatch_deliveries",
    "Delivery attempts by chat backend and result (sent, retry, failed, skipped).",
    ["backend", "result"],
)
DB_ERRORS = Counter(
    "govwatch_db_errors",
    "Database operations that failed (lost or refused connections, timeouts, errors).",
)
HOST_COOLDOWNS = Gauge(
    "govwatch_host_cooldowns",
    "Hosts this process may not ask now because they answered 429 (summed over processes).",
    multiprocess_mode="livesum",
)
LAST_TICK_NAME = "govwatch_scheduler_last_tick_timestamp_seconds"
LAST_TICK = Gauge(
    LAST_TICK_NAME,
    "Unix time of the poll scheduler's last tick (one series per process in multiprocess mode).",
    multiprocess_mode="liveall",
)


def _known(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else OTHER


def platform_label(name: str) -> str:
    """A platform name fit for a label (``other`` for anything unknown)."""
    return _known(name, PLATFORMS)


def backend_label(name: str) -> str:
    """A chat backend name fit for a label (``other`` for anything unknown)."""
    return _known(name, BACKENDS)


def reason_label(reason: str | None) -> str:
    """A reason code fit for a label: a short snake_case word, else ``other``."""
    if reason is None:
        return "unknown"
    return reason if _REASON.fullmatch(reason) else OTHER


def poll_done(platform: str, status: str, reason: str | None) -> None:
    """Count one finished poll (and, when it is unknown, why)."""
    platform = _known(platform, PLATFORMS)
    POLLS.labels(platform, _known(status, STATUSES)).inc()
    if status == Status.UNKNOWN.value:
        POLL_FAILURES.labels(platform, reason_label(reason)).inc()


def fetch_timer(platform: str) -> Histogram:
    """The histogram child that times fetches of ``platform`` (``with fetch_timer(p).time():``)."""
    return FETCH_SECONDS.labels(_known(platform, PLATFORMS))


def delivery_done(backend: str, status: str) -> None:
    """Count one delivery attempt by the row's status after it (pending means: retried later)."""
    result = "retry" if status == "pending" else status
    DELIVERIES.labels(_known(backend, BACKENDS), _known(result, RESULTS)).inc()


def db_error() -> None:
    """Count one failed database operation."""
    DB_ERRORS.inc()


def ticked() -> None:
    """Record that the poll scheduler ticked now."""
    LAST_TICK.set_to_current_time()


def host_cooldowns(count: int) -> None:
    """Record how many hosts this process is waiting out a 429 for."""
    HOST_COOLDOWNS.set(count)
