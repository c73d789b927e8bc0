"""Smoke tests of the benchmark harness: the world's pages, the math, a tiny polling run."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bench.ceiling import main as ceiling_main
from bench.common import percentile
from bench.polling import run_passes
from bench.run import _headline
from bench.world import World, WorldProcess, handle_of, index_of
from bot.domain import Status
from bot.sources.telegram import parse_channel_page
from bot.store.engine import Database

HEADLINE_KEYS = (
    "polls_per_s",
    "ceiling_polls_per_s",
    "p95_change_to_outbox_s",
    "peak_rss_mb",
    "top_p95_ms",
    "double_polls",
)


def test_handles_round_trip() -> None:
    assert handle_of(42) == "bw000042"
    assert index_of("bw000042") == 42
    assert index_of("someone") is None


def test_ceiling_prints_parse_cost_per_page(capsys: pytest.CaptureFixture[str]) -> None:
    ceiling_main(["--n", "3", "--rounds", "1"])
    report = json.loads(capsys.readouterr().out)
    assert report["pages"] == 3
    assert report["parse_ms"] > 0
    assert report["lexbor_ms"] > 0
    assert report["ratio_to_lexbor"] > 0


def test_world_pages_are_realistic_and_parse() -> None:
    world = World(20, seed=3)
    for index in range(20):
        body = world.page(index)
        assert 19_000 <= len(body) <= 47_000
        obs = parse_channel_page(body, channel=handle_of(index), fetched_at=datetime.now(UTC))
        assert obs.status is Status.OK
        assert len(obs.posts) == world.page_len[index]
        assert obs.posts[0].id == str(world.last_post[index])


def test_world_change_adds_a_newer_post_and_logs_it() -> None:
    world = World(3, seed=1)
    before = list(world.last_post)
    world.change(1000.0)
    index, post, at = world.changes[-1]
    assert post == before[index] + 1 == world.last_post[index]
    assert at == 1000.0
    assert f'data-post="{handle_of(index)}/{post}"'.encode() in world.page(index)


def test_percentile() -> None:
    assert percentile([], 95) is None
    assert percentile([5.0], 50) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


def test_headline_prints_null_for_what_was_not_measured() -> None:
    headline = _headline({})
    for key in HEADLINE_KEYS:
        assert key in headline
        assert headline[key] is None


async def test_polling_passes_poll_each_account_once_and_store_only_changes(
    database: Database,
) -> None:
    n = 30
    world = WorldProcess(n).start()
    try:
        result = await run_passes(database, world, n, concurrency=8, changes_per_day=3.0)
    finally:
        world.stop()
    assert result["steady_pass"]["claimed"] == n
    assert result["steady_pass"]["ok"] == n
    assert result["steady_pass"]["events"] == 0
    assert result["changed_pass"]["events"] == result["changes"]
    # snapshots/posts/events grow with changes, not with polls
    assert result["bytes_per_unchanged_poll"] == 0
    # one fetch per account per pass after the reset (steady + changed), never at once
    assert result["world"]["max_fetches"] == 2
    assert result["world"]["overlaps"] == 0


def test_pacer_counts_spacing_from_completed_sends() -> None:
    # Found by the delivery bench: slots booked before the request leaves let network
    # and event-loop delays bunch messages up at Telegram, which answered 429.
    from bot.notify.pacing import Pacer

    pacer = Pacer(per_chat_interval=1.0, per_group_per_minute=20, global_per_second=3)
    assert pacer.reserve("a", group=False, now=0.0) == 0
    pacer.sent("a", group=False, now=0.3)
    assert pacer.reserve("a", group=False, now=1.0) == pytest.approx(0.3)
    for key in ("b", "c"):
        assert pacer.reserve(key, group=False, now=0.0) == 0
        pacer.sent(key, group=False, now=0.2)
    # three sends completed at 0.3, 0.2, 0.2: the window frees at 1.2, not at 1.0
    assert pacer.reserve("d", group=False, now=1.1) == pytest.approx(0.1)
    assert pacer.reserve("d", group=False, now=1.2) == 0


async def test_latency_bench_measures_every_guard() -> None:
    # The figures the tests no longer bound; only that each one was measured.
    from bench.latency import BOUNDS, http_guards

    figures = await http_guards()
    assert set(figures) == {k for k in BOUNDS if not k.startswith("slack_")}
    assert all(value > 0 for value in figures.values())
    assert figures["drip_timeout_s"] >= 1.0  # the 1 s deadline had to pass first


async def test_top_history_bench_times_every_case() -> None:
    from bench.top_history import run
    from tests.test_reports_bench import CASES, Size

    result = await run("sqlite", Size(accounts=100, days=14), runs=1)
    timed = {k: v for k, v in result.items() if isinstance(v, dict)}
    assert len(timed) == len(CASES)
    assert all(set(v) == {"p50_ms", "p95_ms", "cpu_p50_ms"} for v in timed.values())


async def test_search_bench_loads_checks_and_times_every_query() -> None:
    from bench.search import QUERIES, Size, run

    result = await run(
        Size(accounts=30, days=14, pool=200), pg=None, runs=1, keep=False,
        reuse_sqlite=None, reuse_pg=None,
    )  # fmt: skip
    assert result["load"]["versions"] >= result["load"]["posts"] > 100
    assert set(result["matches"]) == set(QUERIES)
    assert result["matches"]["/search тариф"] == result["matches"]["/search тарифтер"]
    assert result["matches"]["/search газ"] > 0
    timed = result["sqlite"]
    assert all(timed[q]["p95_ms"] > 0 for q in QUERIES)
    assert timed["all_p95_ms"] >= timed["all_p50_ms"] > 0
