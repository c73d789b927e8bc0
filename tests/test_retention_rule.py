"""The downsampling rule, from tables: which snapshots a prune keeps.

Cutoffs in every case: full resolution from 2026-06-01 00:00, hourly from 2026-01-01
00:00, daily before that (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.store.downsample import DAY, HOUR, Row, bucket_of, snapshots_to_drop


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


FULL = at("2026-06-01 00:00")
HOURLY = at("2026-01-01 00:00")


# (case, rows as (id, account, time), protected ids, ids dropped)
CASES: list[tuple[str, list[tuple[int, int, str]], set[int], list[int]]] = [
    ("nothing old: all kept", [(1, 1, "2026-06-01 00:00"), (2, 1, "2026-06-20 10:00")], set(), []),
    (
        "full resolution keeps every change, however close",
        [(1, 1, "2026-06-02 10:00"), (2, 1, "2026-06-02 10:01"), (3, 1, "2026-06-02 10:02")],
        set(),
        [],
    ),
    (
        "hourly tier: the last of each hour stays",
        [
            (1, 1, "2026-03-05 10:05"),
            (2, 1, "2026-03-05 10:40"),
            (3, 1, "2026-03-05 10:59"),
            (4, 1, "2026-03-05 11:00"),
            (5, 1, "2026-03-05 11:30"),
        ],
        set(),
        [1, 2, 4],
    ),
    (
        "daily tier: the last of each UTC day stays",
        [
            (1, 1, "2025-12-30 00:00"),
            (2, 1, "2025-12-30 13:00"),
            (3, 1, "2025-12-30 23:59"),
            (4, 1, "2025-12-31 06:00"),
        ],
        set(),
        [1, 2],
    ),
    (
        "tiers meet: the day before the hourly cutoff and the hour after it are apart",
        [
            (1, 1, "2025-12-31 22:00"),
            (2, 1, "2025-12-31 23:00"),
            (3, 1, "2026-01-01 00:10"),
            (4, 1, "2026-01-01 00:20"),
        ],
        set(),
        [1, 3],
    ),
    (
        "the row just before the full cutoff is the last of its bucket",
        [(1, 1, "2026-05-31 23:10"), (2, 1, "2026-05-31 23:50"), (3, 1, "2026-06-01 00:05")],
        set(),
        [1],
    ),
    (
        "accounts never share a bucket",
        [(1, 1, "2026-03-05 10:05"), (2, 2, "2026-03-05 10:06"), (3, 1, "2026-03-05 10:07")],
        set(),
        [1],
    ),
    (
        "the same moment twice: the higher id stays, whatever the order",
        [(7, 1, "2026-03-05 10:30"), (3, 1, "2026-03-05 10:30")],
        set(),
        [3],
    ),
    (
        "protected rows (first and latest) stay beside the bucket's last",
        [(1, 1, "2025-02-01 01:00"), (2, 1, "2025-02-01 02:00"), (3, 1, "2025-02-01 03:00")],
        {1},
        [2],
    ),
    (
        "a dead account's last snapshot is the last of its day",
        [(1, 1, "2024-05-01 08:00"), (2, 1, "2024-05-01 09:00")],
        set(),
        [1],
    ),
]


@pytest.mark.parametrize(("rows", "protected", "dropped"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_snapshots_to_drop(
    rows: list[tuple[int, int, str]], protected: set[int], dropped: list[int]
) -> None:
    table: list[Row] = [(i, a, at(t)) for i, a, t in rows]
    got = snapshots_to_drop(table, full_before=FULL, hourly_before=HOURLY, protected=protected)
    assert got == dropped
    # The decision does not depend on the order rows are read in.
    again = snapshots_to_drop(
        table[::-1], full_before=FULL, hourly_before=HOURLY, protected=protected
    )
    assert again == dropped


@pytest.mark.parametrize(
    ("moment", "bucket"),
    [
        ("2026-03-05 10:59:59", (HOUR, "2026-03-05 10:00")),
        ("2026-01-01 00:00:00", (HOUR, "2026-01-01 00:00")),
        ("2025-12-31 23:59:59", (DAY, "2025-12-31 00:00")),
        ("2024-02-29 12:00:00", (DAY, "2024-02-29 00:00")),
    ],
)
def test_bucket_of(moment: str, bucket: tuple[int, str]) -> None:
    assert bucket_of(at(moment), hourly_before=HOURLY) == (bucket[0], at(bucket[1]))


def test_thinning_twice_changes_nothing_more() -> None:
    start = at("2025-06-01 00:00")
    rows: list[Row] = [(i, 1 + i % 3, start + (i * 1237) % (3 * DAY)) for i in range(1, 500)]
    first = set(snapshots_to_drop(rows, full_before=FULL, hourly_before=HOURLY))
    left = [r for r in rows if r[0] not in first]
    assert first
    assert snapshots_to_drop(left, full_before=FULL, hourly_before=HOURLY) == []
