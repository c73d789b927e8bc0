"""Each member's follower history over a report's period, for open data (the site's JSON)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.cabinet import CabinetReport
from bot.reports.charts import account_series
from bot.reports.scope import load_scope

#: Samples of the follower history per member over the report's period.
HISTORY_POINTS = 31


async def history(
    session: AsyncSession, report: CabinetReport, now: datetime
) -> dict[int, list[tuple[datetime, int]]]:
    """Each member's followers (summed over the accounts in scope) at evenly spaced moments."""
    # One batched probe per moment over all accounts: the cost is the number of points.
    scope = await load_scope(session, watchlist=report.watchlist, platform=report.platform)
    ids = [a.id for a in scope.accounts if a.exists]
    series = await account_series(
        session, ids, start=now - report.period, end=now, points=HISTORY_POINTS
    )
    by_official: dict[int, dict[datetime, int]] = {}
    for account in scope.accounts:
        for moment, value in series.get(account.id, []):
            sums = by_official.setdefault(account.official_id, {})
            sums[moment] = sums.get(moment, 0) + value
    return {oid: sorted(values.items()) for oid, values in by_official.items()}
