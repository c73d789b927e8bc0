"""govwatch against a peer in the same run: urlwatch 2.29 over the same channel pages.

The bench makes its own virtualenv with urlwatch 2.29 from PyPI (once; kept in
``~/.cache/govwatch-bench/``, or ``$GOVWATCH_PEER_VENV``), writes one urlwatch job per
channel page with a ``css`` filter on the subscriber counter, and serves N channels from
one world process (``bench/world.py``: 20-44 KB real t.me markup). Then, as whole
processes one after the other in the same run, it times

- ``urlwatch`` over every job (first run: every page new; second run: nothing changed),
- ``govwatch poll-once --all --workers W`` over the same pages (first pass: baselines,
  every post parsed and stored; second pass: every post parsed and compared, changes
  stored), on a fresh database.

For each: wall seconds, pages per second, CPU seconds of the process tree (user+system
from ``RUSAGE_CHILDREN``) and CPU milliseconds per page. govwatch's start-up (a
``poll-once`` with nothing due: interpreter, imports, database open and schema check) is
timed the same way and its CPU subtracted for the per-poll figure. The world counts the
fetches, so a tool that skipped pages cannot look fast. Prints one JSON line per ``--n``
value, with the load average, then one line of ratios per value (govwatch / urlwatch
pages per second, first and second run, and urlwatch's CPU per page over govwatch's):
the machine may be shared, so the ratio from the same run is the figure to compare, and
CPU per page more than seconds.

``python -m bench.peer --n 1000 5000 --workers 2`` (``--db postgres`` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    bench_settings,
    drop_database,
    fresh_database,
    rnd,
    seed_accounts,
    settings_env,
)
from bench.world import WorldProcess, handle_of
from bot.store.engine import Database

URLWATCH = "urlwatch==2.29"
#: The css filter's extra dependency (urlwatch imports it only for ``css``).
PEER_EXTRAS = ("cssselect",)
COUNTER_CSS = ".tgme_channel_info_counter .counter_value"


def peer_venv() -> Path:
    """The virtualenv holding urlwatch 2.29 (made and filled from PyPI on first use)."""
    home = Path(os.environ.get("GOVWATCH_PEER_VENV") or Path.home() / ".cache/govwatch-bench")
    target = home / "urlwatch-2.29"
    exe = target / "bin" / "urlwatch"
    if not exe.exists():
        venv.create(target, with_pip=True, clear=True)
        subprocess.run(
            [str(target / "bin" / "pip"), "install", "-q", URLWATCH, *PEER_EXTRAS], check=True
        )
    return target


def write_jobs(folder: Path, base_url: str, n: int) -> Path:
    """One urlwatch job per channel page, filtered to the subscriber counter."""
    jobs = folder / "urls.yaml"
    docs = [
        f'name: "{handle_of(i)}"\nurl: "{base_url}/s/{handle_of(i)}"\n'
        f'filter:\n  - css: "{COUNTER_CSS}"\n'
        for i in range(n)
    ]
    jobs.write_text("---\n".join(docs), encoding="utf-8")
    (folder / "urlwatch.yaml").write_text(
        "report:\n  text: {details: false, footer: false}\n"
        "  stdout: {enabled: true, color: false}\n",
        encoding="utf-8",
    )
    return jobs


def timed(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``argv`` to completion: wall seconds, CPU seconds of its process tree, exit code."""
    # Both tools run with their bytecode written and reused, as an installed package has it.
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out: dict[str, Any] = {"wall_s": wall, "cpu_s": cpu, "exit": proc.returncode}
    if proc.returncode != 0:
        out["stderr"] = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
    out["stdout_tail"] = proc.stdout.decode("utf-8", "replace").strip().splitlines()[-2:]
    return out


def _figures(run: dict[str, Any], pages: int, *, startup_cpu: float = 0.0) -> dict[str, Any]:
    wall = run["wall_s"]
    return {
        "wall_s": rnd(wall, 2),
        "pages": pages,
        "pages_per_s": rnd(pages / wall) if wall > 0 and pages else None,
        "cpu_s": rnd(run["cpu_s"], 2),
        "cpu_ms_per_page": rnd(1000 * max(run["cpu_s"] - startup_cpu, 0.0) / pages, 2)
        if pages
        else None,
        "exit": run["exit"],
        **({"stderr": run["stderr"]} if "stderr" in run else {}),
    }


def _fetched(world: WorldProcess, before: int) -> int:
    return int(world.stats()["requests"]) - before


def _urlwatch(world: WorldProcess, folder: Path, n: int, venv_dir: Path) -> dict[str, Any]:
    jobs = write_jobs(folder, world.base_url, n)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    argv = [
        str(venv_dir / "bin" / "urlwatch"),
        "--urls", str(jobs),
        "--config", str(folder / "urlwatch.yaml"),
        "--cache", str(folder / "cache.db"),
        "--hooks", str(folder / "hooks.py"),
    ]  # fmt: skip
    result: dict[str, Any] = {}
    for label in ("first", "second"):
        seen = int(world.stats()["requests"])
        run = timed(argv, env)
        result[label] = _figures(run, _fetched(world, seen))
    return result


def _govwatch(world: WorldProcess, url: str, workers: int) -> dict[str, Any]:
    settings = bench_settings(
        url, world.base_url, scheduler={"max_concurrency": 64, "poll_interval": "6h"}
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env.update(settings_env(settings))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    base = [sys.executable, "-m", "bot", "poll-once"]
    # Start-up: nothing is due (every account's next poll is 6 h away after the passes).
    result: dict[str, Any] = {}
    every = [*base, "--all", "--workers", str(workers)]
    for label in ("first", "second"):
        seen = int(world.stats()["requests"])
        run = timed(every, env)
        result[label] = run | {"pages": _fetched(world, seen)}
    startup = timed(base, env)
    result["startup"] = {
        "wall_s": rnd(startup["wall_s"], 2),
        "cpu_s": rnd(startup["cpu_s"], 2),
        "exit": startup["exit"],
    }
    # The parent pays the start-up once; its workers are forked with everything imported.
    spent = startup["cpu_s"]
    for label in ("first", "second"):
        run = result[label]
        result[label] = _figures(run, run["pages"], startup_cpu=spent) | {
            "summary": run["stdout_tail"]
        }
    return result


async def measure(n: int, workers: int, kind: str) -> dict[str, Any]:
    """The whole comparison; one dict of figures."""
    venv_dir = peer_venv()
    world = WorldProcess(n).start()
    folder = Path(tempfile.mkdtemp(prefix="govwatch-bench-peer-"))
    (folder / "hooks.py").write_text("", encoding="utf-8")
    url = await fresh_database(kind, label="peer")
    db = Database(url)
    out: dict[str, Any] = {"n": n, "workers": workers, "db": kind, "cpus": os.cpu_count()}
    try:
        await seed_accounts(db, n)
        await db.close()
        out["load_avg_before"] = [round(x, 2) for x in os.getloadavg()]
        out["urlwatch"] = _urlwatch(world, folder, n, venv_dir)
        out["govwatch"] = _govwatch(world, url, workers)
        out["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        world.stop()
        await drop_database(url)
    for label in ("first", "second"):
        ours, theirs = out["govwatch"][label], out["urlwatch"][label]
        out[f"ratio_{label}"] = _ratio(ours["pages_per_s"], theirs["pages_per_s"])
        # CPU per page: urlwatch's (start-up included) over govwatch's (net of it).
        out[f"cpu_ratio_{label}"] = _ratio(theirs["cpu_ms_per_page"], ours["cpu_ms_per_page"])
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return rnd(a / b, 2) if a and b else None


def ratios_line(out: dict[str, Any]) -> str:
    """One line of words: the same run's ratios for one ``--n``."""
    return (
        f"n={out['n']} workers={out['workers']} {out['db']}: govwatch/urlwatch pages/s "
        f"{out['ratio_first']} (first), {out['ratio_second']} (second); urlwatch/govwatch "
        f"CPU per page {out['cpu_ratio_first']}, {out['cpu_ratio_second']}; load "
        f"{out['load_avg_before'][0]} -> {out['load_avg_after'][0]}"
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: one JSON line per ``--n``, then the ratios in words."""
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[1000], help="channel pages")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    results = []
    for n in args.n:
        results.append(asyncio.run(measure(n, args.workers, args.db)))
        print(json.dumps(results[-1]), flush=True)
    for out in results:
        print(ratios_line(out), flush=True)


if __name__ == "__main__":
    main()
