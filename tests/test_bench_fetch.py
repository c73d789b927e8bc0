"""Smoke tests of the fetch bench and of the peer bench's ratios (no urlwatch needed)."""

from __future__ import annotations

from bench.fetch import measure
from bench.peer import ratios_line


async def test_fetch_bench_counts_every_fetch_of_both_clients() -> None:
    out = await measure(20, 2)
    for client in ("http_client", "bare_aiohttp"):
        figures = out[client]
        assert figures["fetches"] == 40  # 20 pages, 2 rounds, every one a 200 with a body
        assert figures["cpu_us_per_fetch"] > 0
        assert figures["fetches_per_s"] > 0


def test_peer_ratios_line_names_the_same_runs_figures() -> None:
    out = {
        "n": 1000,
        "workers": 2,
        "db": "sqlite",
        "ratio_first": 1.5,
        "ratio_second": 2.51,
        "cpu_ratio_first": 0.9,
        "cpu_ratio_second": 1.2,
        "load_avg_before": [0.5, 0.4, 0.3],
        "load_avg_after": [1.5, 0.6, 0.4],
    }
    line = ratios_line(out)
    assert line.startswith("n=1000 workers=2 sqlite: ")
    assert "pages/s 1.5 (first), 2.51 (second)" in line
    assert "CPU per page 0.9, 1.2" in line
    assert line.endswith("load 0.5 -> 1.5")
