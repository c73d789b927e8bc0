"""Which snapshots a prune keeps: the pure rule, decided from (id, account, time) rows.

Snapshots younger than ``full_before`` are all kept. Older ones are put in buckets per
account: one per UTC hour while younger than ``hourly_before``, one per UTC day beyond
it; each bucket keeps its last row (latest ``observed_at``, then highest id). Keeping the
last one means "followers at T" (the last snapshot at or before T) is unchanged for every
T from ``full_before`` on, and exact at every hour (then day) boundary before it: the row
just before ``full_before`` is the last of its bucket. Rows named in ``protected`` (each
account's first and latest snapshot) are never dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

#: One snapshot as the rule sees it: (row id, account id, observed_at).
Row = tuple[int, int, datetime]


def bucket_of(observed_at: datetime, *, hourly_before: datetime) -> tuple[str, datetime]:
    """The bucket a snapshot older than the full-resolution period falls in."""
    if observed_at >= hourly_before:
        return "hour", observed_at.replace(minute=0, second=0, microsecond=0)
    return "day", observed_at.replace(hour=0, minute=0, second=0, microsecond=0)


def snapshots_to_drop(
    rows: Iterable[Row],
    *,
    full_before: datetime,
    hourly_before: datetime,
    protected: Collection[int] = (),
) -> list[int]:
    """The ids of ``rows`` the downsampling rule removes, in ascending order."""
    last: dict[tuple[int, str, datetime], Row] = {}
    drop: list[int] = []
    for row in rows:
        row_id, account_id, observed_at = row
        if observed_at >= full_before:
            continue
        kind, start = bucket_of(observed_at, hourly_before=hourly_before)
        key = (account_id, kind, start)
        held = last.get(key)
        if held is None:
            last[key] = row
            continue
        if (observed_at, row_id) > (held[2], held[0]):
            last[key], loser = row, held
        else:
            loser = row
        if loser[0] not in protected:
            drop.append(loser[0])
    return sorted(drop)
