"""Run the benchmarks, print tables, and end with one JSON line of the headline numbers.

``python -m bench.run --quick`` (under a minute): N=1,000 on SQLite, a short freshness
run, /top over 500 accounts x 30 days, a small delivery run, and 2 workers on PostgreSQL
when it is reachable. Without ``--quick``: every N in ``--n`` on every ``--db``, a year
of history for 5,000 accounts, 1,000 chats, and 1, 2 and 4 workers. A number that could
not be measured is printed as null, never guessed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import pg_reachable, run_stage

STAGES = ("ceiling", "polling", "freshness", "queries", "delivery", "workers")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the one-minute run")
    parser.add_argument("--n", type=int, nargs="+", help="world sizes for polling")
    parser.add_argument(
        "--db", choices=("sqlite", "postgres"), nargs="+", help="databases for polling"
    )
    parser.add_argument("--only", choices=STAGES, nargs="+", help="run only these stages")
    parser.add_argument("--skip", choices=STAGES, nargs="+", default=[], help="skip these stages")
    parser.add_argument("--workers", type=int, nargs="+", help="worker counts (PostgreSQL)")
    parser.add_argument(
        "--history", type=int, nargs=2, metavar=("ACCOUNTS", "DAYS"), help="query history size"
    )
    parser.add_argument("--chats", type=int, help="chats for the delivery run")
    parser.add_argument(
        "--budget",
        type=float,
        default=90.0,
        help="seconds per polling pass when N >= 10,000 (each pass is time-boxed)",
    )
    return parser.parse_args(argv)


def _plan(args: argparse.Namespace, pg: bool) -> dict[str, Any]:
    quick = args.quick
    dbs = args.db or (["sqlite"] if quick else ["sqlite", "postgres"])
    if not pg:
        dbs = [d for d in dbs if d != "postgres"]
    return {
        "quick": quick,
        "ns": args.n or ([1000] if quick else [1000, 10_000, 100_000]),
        "dbs": dbs,
        "ceiling_s": 1.0 if quick else 4.0,
        "fresh_n": 100 if quick else 1000,
        "fresh_s": 3 if quick else 60,
        "fresh_interval": 3 if quick else 30,
        "fresh_rate": 3 if quick else 2,
        "history": args.history or ((400, 30) if quick else (5000, 365)),
        "query_db": "sqlite" if quick or not pg else "postgres",
        "query_repeat": 5 if quick else 30,
        "chats": args.chats or (40 if quick else 1000),
        "workers": (args.workers or ([2] if quick else [1, 2, 4])) if pg else [],
        "workers_n": 200 if quick else 3000,
        # quick: N=1,000 seeded, each pass time-boxed so the whole run fits in a minute
        "budget": 2.0 if quick else args.budget,
    }


def _table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n## {title}")
    for i, row in enumerate(cells):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def _stage(label: str, func: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        result = func()
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["wall_s"] = round(time.perf_counter() - start, 1)
    if "error" in result:
        print(f"\n## {label}: FAILED: {result['error']}", flush=True)
    return result


def _ceiling(plan: dict[str, Any]) -> dict[str, Any]:
    from bench.ceiling import measure
    from bench.world import running_world

    n = max(plan["ns"][0], 1000)
    with running_world(n) as world:
        result = asyncio.run(
            measure(
                world.base_url,
                n,
                seconds=plan["ceiling_s"],
                concurrencies=(64,) if plan["quick"] else (16, 64),
            )
        )
    _table(
        "Ceiling (this machine, same pages)",
        ["measure", "per second"],
        [
            *[[f"raw aiohttp GET, {c} concurrent", v] for c, v in result["raw_get_per_s"].items()],
            *[
                [f"HttpClient GET, {c} concurrent", v]
                for c, v in (result["client_get_per_s"] or {}).items()
            ],
            ["parse only (1 core)", result["parse_per_s"]],
            ["raw GET + parse (ceiling)", result["fetch_parse_per_s"]],
        ],
    )
    return result


def _polling(plan: dict[str, Any], ceiling: float | None) -> list[dict[str, Any]]:
    runs = []
    for db in plan["dbs"]:
        for n in plan["ns"]:
            args = ["--n", str(n), "--db", db]
            timeout = 300 + n * 0.05
            if (n >= 10_000 or args_quick(plan)) and plan["budget"]:
                args += ["--budget", str(plan["budget"])]
                timeout = 600 + 3 * plan["budget"] + n * 0.01
            res = run_stage("bench.polling", args, timeout=timeout)
            print(
                f"  polling {db} N={n}: {res.get('polls_per_s')} polls/s, "
                f"{res.get('cpu_ms_per_poll')} CPU ms/poll {res.get('error') or ''}",
                flush=True,
            )
            res.setdefault("db", db)
            res.setdefault("n", n)
            runs.append(res)
    rows = []
    for r in runs:
        pps = r.get("polls_per_s")
        ratio = round(pps / ceiling, 2) if pps and ceiling else None
        rows.append(
            [
                r["db"],
                r["n"],
                r.get("first_pass_per_s"),
                pps,
                ratio,
                r.get("peak_rss_mb"),
                r.get("bytes_per_unchanged_poll"),
                r.get("bytes_per_change"),
                r.get("bytes_per_version"),
                r.get("versions_per_unchanged_poll"),
                r.get("bytes_per_account_day"),
                r.get("error"),
            ]
        )
    _table(
        "Polling end to end (claim, fetch, parse, detect, store)",
        [
            "db",
            "N",
            "first pass/s",
            "steady/s",
            "of ceiling",
            "peak RSS MB",
            "B/unchanged poll",
            "B/change",
            "B/version",
            "versions/unchanged poll",
            "B/account/day",
            "error",
        ],
        rows,
    )
    return runs


def args_quick(plan: dict[str, Any]) -> bool:
    """True for the one-minute plan."""
    return bool(plan.get("quick"))


def _freshness(plan: dict[str, Any]) -> dict[str, Any]:
    res = run_stage(
        "bench.freshness",
        [
            "--n",
            str(plan["fresh_n"]),
            "--seconds",
            str(plan["fresh_s"]),
            "--interval",
            str(plan["fresh_interval"]),
            "--rate",
            str(plan["fresh_rate"]),
        ],
        timeout=plan["fresh_s"] + plan["fresh_interval"] + 150,
    )
    _table(
        f"Freshness (N={plan['fresh_n']}, poll interval {plan['fresh_interval']} s, "
        f"{plan['fresh_rate']} new posts/s for {plan['fresh_s']} s; "
        "change on page -> outbox row -> fake Bot API)",
        ["measure", "p50 s", "p95 s", "samples"],
        [
            [
                "change -> outbox",
                res.get("p50_change_to_outbox_s"),
                res.get("p95_change_to_outbox_s"),
                res.get("outbox_samples"),
            ],
            [
                "change -> Bot API",
                res.get("p50_change_to_alert_s"),
                res.get("p95_change_to_alert_s"),
                res.get("alert_samples"),
            ],
            [
                "outbox -> Bot API (relay)",
                res.get("p50_outbox_to_alert_s"),
                res.get("p95_outbox_to_alert_s"),
                None,
            ],
            [
                "change -> Bot API, beyond the interval",
                None,
                res.get("p95_alert_beyond_interval_s"),
                None,
            ],
        ],
    )
    return res


def _queries(plan: dict[str, Any]) -> dict[str, Any]:
    accounts, days = plan["history"]
    res = run_stage(
        "bench.queries",
        [
            "--db",
            plan["query_db"],
            "--accounts",
            str(accounts),
            "--days",
            str(days),
            "--repeat",
            str(plan["query_repeat"]),
        ],
        timeout=1800,
    )
    rows = [[name, t["p50_ms"], t["p95_ms"]] for name, t in (res.get("queries") or {}).items()]
    _table(
        f"Queries ({res.get('db')}, {accounts} accounts x {days} days, snapshots on change: "
        f"{res.get('snapshots')} snapshots, {res.get('posts')} posts)",
        ["query", "p50 ms", "p95 ms"],
        rows,
    )
    return res


def _delivery(plan: dict[str, Any]) -> dict[str, Any]:
    res = run_stage(
        "bench.delivery", ["--chats", str(plan["chats"])], timeout=plan["chats"] / 10 + 120
    )
    _table(
        "Delivery (fake Bot API enforcing Telegram's limits)",
        ["chats", "alerts/s", "limit/s", "429s", "sent", "seconds"],
        [
            [
                plan["chats"],
                res.get("alerts_per_s"),
                res.get("limit_per_s"),
                res.get("got_429"),
                res.get("sent"),
                res.get("seconds"),
            ]
        ],
    )
    return res


def _workers(plan: dict[str, Any]) -> list[dict[str, Any]]:
    runs = []
    for count in plan["workers"]:
        res = run_stage(
            "bench.workers", ["--workers", str(count), "--n", str(plan["workers_n"])], timeout=600
        )
        res.setdefault("workers", count)
        runs.append(res)
    _table(
        f"Workers on one PostgreSQL (N={plan['workers_n']})",
        ["workers", "polls/s", "double polls", "overlapping fetches", "accounts fetched", "error"],
        [
            [
                r["workers"],
                r.get("polls_per_s"),
                r.get("double_polls"),
                r.get("overlaps"),
                r.get("accounts_fetched"),
                r.get("error"),
            ]
            for r in runs
        ],
    )
    return runs


def _headline(results: dict[str, Any]) -> dict[str, Any]:
    ceiling = results.get("ceiling") or {}
    polling = [r for r in results.get("polling", []) if r.get("polls_per_s") is not None]
    first = polling[0] if polling else {}
    fresh = results.get("freshness") or {}
    queries = (results.get("queries") or {}).get("queries") or {}
    # a run that failed (a worker died, a timeout) proves nothing about double polls
    workers = [r for r in results.get("workers", []) if "double_polls" in r and "error" not in r]
    delivery = results.get("delivery") or {}
    cpp = ceiling.get("fetch_parse_per_s")
    pps = first.get("polls_per_s")
    return {
        "polls_per_s": pps,
        "ceiling_polls_per_s": cpp,
        "ratio_to_ceiling": round(pps / cpp, 2) if pps and cpp else None,
        "raw_get_per_s": max((ceiling.get("raw_get_per_s") or {}).values(), default=None),
        "parse_per_s": ceiling.get("parse_per_s"),
        "p50_change_to_outbox_s": fresh.get("p50_change_to_outbox_s"),
        "p95_change_to_outbox_s": fresh.get("p95_change_to_outbox_s"),
        "p95_change_to_alert_s": fresh.get("p95_change_to_alert_s"),
        "p95_alert_beyond_interval_s": fresh.get("p95_alert_beyond_interval_s"),
        "cpu_ms_per_poll": first.get("cpu_ms_per_poll"),
        "peak_rss_mb": first.get("peak_rss_mb"),
        "peak_rss_mb_max": max((r.get("peak_rss_mb") or 0 for r in polling), default=None),
        "bytes_per_account_day": first.get("bytes_per_account_day"),
        "top_p95_ms": (queries.get("top") or {}).get("p95_ms"),
        "report_p95_ms": (queries.get("report") or {}).get("p95_ms"),
        "silent_p95_ms": (queries.get("silent") or {}).get("p95_ms"),
        "alerts_per_s": delivery.get("alerts_per_s"),
        "got_429": delivery.get("got_429"),
        "double_polls": sum(r["double_polls"] for r in workers) if workers else None,
        "n": first.get("n"),
        "db": first.get("db"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the chosen stages; the last line printed is the JSON summary."""
    args = _args(argv)
    started = time.perf_counter()
    pg = asyncio.run(pg_reachable())
    plan = _plan(args, pg)
    chosen = [s for s in (args.only or STAGES) if s not in args.skip]
    print(
        f"# govwatch bench {'--quick ' if args.quick else ''}"
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL {'reachable' if pg else 'unreachable'}",
        flush=True,
    )
    results: dict[str, Any] = {}
    if "ceiling" in chosen:
        results["ceiling"] = _stage("ceiling", lambda: _ceiling(plan))
    ceiling = (results.get("ceiling") or {}).get("fetch_parse_per_s")
    if "polling" in chosen:
        results["polling"] = _polling(plan, ceiling)
    if "freshness" in chosen:
        results["freshness"] = _stage("freshness", lambda: _freshness(plan))
    if "queries" in chosen:
        results["queries"] = _stage("queries", lambda: _queries(plan))
    if "delivery" in chosen:
        results["delivery"] = _stage("delivery", lambda: _delivery(plan))
    if "workers" in chosen:
        results["workers"] = _workers(plan)
    headline = _headline(results)
    headline["wall_s"] = round(time.perf_counter() - started, 1)
    headline["loadavg_1m"] = round(os.getloadavg()[0], 1)
    if not args.quick:
        path = f"bench-results-{datetime.now(UTC):%Y%m%dT%H%M}.json"
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(
                {"plan": plan, "results": results, "headline": headline}, fh, indent=1, default=str
            )
        print(f"\nfull results: {path}")
    print(json.dumps(headline), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
