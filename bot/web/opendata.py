"""Open data: the report as JSON with each member's follower history (the CSV is the
report's own, ``cabinet.report_csv``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.reports.cabinet import CabinetReport
from bot.reports.scope import period_label


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def report_json(
    report: CabinetReport, loc: str, history: dict[int, list[tuple[datetime, int]]]
) -> dict[str, Any]:
    """The report's counts and member lines, with their follower history (times in UTC)."""
    return {
        "format": "govwatch-report/1",
        "watchlist": report.watchlist,
        "platform": report.platform,
        "period": period_label(report.period),
        "measured_at": _iso(report.measured_at),
        "last_read_at": _iso(report.last_read_at),
        "members": report.m,
        "with_account": report.n,
        "posted": report.k,
        "leaders": [line.official.display(loc) for line in report.leaders()],
        "lines": [
            {
                "official": line.official.display(loc),
                "state": line.state,
                "platforms": list(line.platforms),
                "accounts": list(line.handles),
                "followers": line.followers,
                "growth": line.growth,
                "growth_percent": None
                if line.growth_percent is None
                else round(line.growth_percent, 2),
                "posts_in_period": line.posts,
                "last_post_at": _iso(line.last_post_at),
                "partial": line.partial,
                "followers_history": [[_iso(m), v] for m, v in history.get(line.official.id, [])],
            }
            for line in report.lines
        ],
    }
