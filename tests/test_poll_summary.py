"""poll-once's summary and exit status, and run's failure log line, carry reasons in words."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.cli.poll import EXIT_NOTHING_READ, exit_status, summary
from bot.domain import Observation, Platform, Status
from bot.poll.pipeline import PollStats
from bot.poll.scheduler import PollScheduler
from bot.sources.reasons import reason_in_words

AT = datetime(2026, 5, 5, tzinfo=UTC)


def _unknown(reason: str, detail: str | None = None) -> PollStats:
    stats = PollStats(claimed=1, unknown=1)
    stats.note_unknown(
        Observation(Platform.TELEGRAM, "h", Status.UNKNOWN, AT, reason=reason, detail=detail)
    )
    return stats


def _total(*parts: PollStats) -> PollStats:
    total = PollStats()
    for part in parts:
        total.add(part)
    return total


def test_some_failed_exits_0_and_names_why() -> None:
    stats = _total(
        PollStats(claimed=1, ok=1),
        _unknown("network", "could not resolve host t.me"),
        _unknown("network", "connection refused by t.me:443"),
        _unknown("token_required", "sources.x.bearer_token is not set"),
    )
    assert exit_status(stats) == 0
    lines = summary(stats)
    assert lines[0].startswith("polled 4 accounts in ")
    assert lines[0].endswith("1 ok, 0 absent, 3 unknown; 0 events, 0 deliveries queued")
    assert lines[1] == (
        "could not read 3: 2 network failure (could not resolve host t.me), "
        "1 no token configured (sources.x.bearer_token is not set)"
    )


def test_nothing_read_exits_3() -> None:
    stats = _total(_unknown("timeout"), _unknown("http_503", "the server answered HTTP 503"))
    assert exit_status(stats) == EXIT_NOTHING_READ == 3
    assert summary(stats)[1] == (
        "could not read 2: 1 HTTP 503 (the server answered HTTP 503), 1 timed out"
    )


def test_absent_accounts_were_read() -> None:
    assert exit_status(PollStats(claimed=2, absent=2)) == 0


def test_nothing_due_exits_0() -> None:
    assert exit_status(PollStats()) == 0
    assert summary(PollStats()) == ["nothing was due: no account polled"]


def test_lost_writes_exit_1() -> None:
    assert exit_status(PollStats(claimed=2, ok=2, failed=1)) == 1


def test_reason_words() -> None:
    assert reason_in_words("login_wall") == "the page asks to log in"
    assert reason_in_words("http_404") == "HTTP 404"
    assert reason_in_words("something_new") == "something new"
    assert reason_in_words(None) == "unknown cause"


async def test_run_logs_failures_with_reasons(caplog: pytest.LogCaptureFixture) -> None:
    polling = PollScheduler(
        None,  # type: ignore[arg-type]
        AsyncIOScheduler(timezone=UTC),
        tick=timedelta(seconds=1),
    )
    done: asyncio.Future[PollStats] = asyncio.get_running_loop().create_future()
    done.set_result(_total(PollStats(claimed=1, ok=1), _unknown("login_wall")))
    with caplog.at_level(logging.INFO, logger="bot.poll.scheduler"):
        polling._finished(done)  # type: ignore[arg-type]
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (
        logging.INFO,
        "could not read 1 of 2 accounts: 1 the page asks to log in",
    ) in messages
