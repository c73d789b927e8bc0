"""bench/same.py runs end to end on a tiny load: sketches stored, batches timed, the one
batch with the same text from three officials raises exactly one group."""

from __future__ import annotations


async def test_same_bench_stores_times_and_finds_the_planted_group() -> None:
    from bench.same import run

    result = await run(recent=300, accounts=20, batches=6, batch=5, pg=None)
    sqlite = result["sqlite"]
    assert result["band_rows"] == 300 * 20
    assert sqlite["groups_raised"] == 1  # batch number 5 carries the planted group
    assert sqlite["events_stored"] == 1
    assert sqlite["ms_per_new_post"] > 0
    assert sqlite["naive_scan_ms_per_new_post"] > 0
