"""Which snapshots a prune keeps: the pure rule, decided from (id, account, time) rows.

Snapshots younger than ``full_before`` are all kept. Older ones are put in buckets per
account: one per UTC hour while younger than ``hourly_before``, one per UTC day beyond
it; each bucket keeps its last row (latest time, then highest id). Keeping the last one
means "followers at T" (the last snapshot at or before T) is unchanged for every T from
``full_before`` on, and exact at every hour (then day) boundary before it: the row just
before ``full_before`` is the last of its bucket. Rows named in ``protected`` (each
account's first and latest snapshot) are never dropped.

Times are whole POSIX seconds (what the databases hand back cheaply for many rows; UTC
hours and days are whole multiples of them), cutoffs too.

This is the specification: a prune runs the same rule as SQL in the database
(``bot.store.retention._thin``), and tests/test_retention_sql.py holds the two equal.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

#: One snapshot as the rule sees it: (row id, account id, observed_at in POSIX seconds).
Row = tuple[int, int, int]

HOUR = 3600
DAY = 86400


def bucket_of(at: int, *, hourly_before: int) -> tuple[int, int]:
    """The bucket (its length, its start) of a snapshot older than full resolution."""
    size = HOUR if at >= hourly_before else DAY
    return size, at - at % size


def snapshots_to_drop(
    rows: Iterable[Row],
    *,
    full_before: int,
    hourly_before: int,
    protected: Collection[int] = (),
) -> list[int]:
    """The ids of ``rows`` the downsampling rule removes, in ascending order."""
    last: dict[tuple[int, int, int], tuple[int, int]] = {}
    drop: list[int] = []
    for row_id, account_id, at in rows:
        if at >= full_before:
            continue
        size = HOUR if at >= hourly_before else DAY
        key = (account_id, size, at - at % size)
        held = last.get(key)
        if held is None:
            last[key] = (at, row_id)
            continue
        if (at, row_id) > held:
            last[key], loser = (at, row_id), held[1]
        else:
            loser = row_id
        if loser not in protected:
            drop.append(loser)
    return sorted(drop)
