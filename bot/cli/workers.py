"""Several polling processes on one database: ``run --workers N``, ``poll-once --workers N``.

The parent migrates the schema once, then starts N children running the same command
(``python -m bot <command> --worker-index I``: subprocesses that inherit only the
environment and the config path) and supervises them. Accounts are shared out by the
database's claim-and-lease, so no account is polled twice, on SQLite (WAL) as on
PostgreSQL, and several machines on one PostgreSQL do the same.

``run``: worker 0 is the whole application (chat backends, the relay, digests, /metrics
and /healthz), the others only poll; a worker that dies is started again after a pause
that grows while it keeps dying; SIGTERM or SIGINT is passed on to every worker and the
parent waits for them to stop. Every worker's counters reach /metrics through
``PROMETHEUS_MULTIPROC_DIR``, which the parent makes when it is not set. Children get
SIGTERM when the parent dies, however it dies. Exit status: 0 after a requested stop, 2
when a worker reports a usage or configuration mistake (starting it again cannot help),
1 when workers keep crashing.

``poll-once``: every worker polls from the parent's start time, so each account is
polled once in the pass; the parent adds up their counts into one summary. Its workers
are forked once the parent has imported everything (start-up is mostly imports), or
started as subprocesses where forking is not safe.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from types import FrameType

from bot.config import Settings
from bot.errors import UserInputError
from bot.poll.pipeline import PollStats
from bot.store.migrate import migrate_database

log = logging.getLogger(__name__)

EXIT_USAGE = 2
#: Seconds a stopping worker gets before it is killed (the app's own grace is 10 s).
STOP_TIMEOUT_S = 30.0
#: Restarts within ``CRASH_WINDOW_S`` after which the parent gives up (exit 1).
MAX_RESTARTS = 5
CRASH_WINDOW_S = 60.0
#: The longest pause before a crashing worker is started again.
MAX_PAUSE_S = 30.0
#: How often the parent looks at its workers.
WATCH_S = 0.2
_PR_SET_PDEATHSIG = 1


def worker_count(requested: int | None, settings: Settings) -> int:
    """How many processes: ``--workers``, else ``scheduler.workers``, where 0 means per core."""
    n = requested if requested is not None else settings.scheduler.workers
    return n if n > 0 else max(1, os.cpu_count() or 1)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: a parent killed with SIGKILL cannot pass
    # SIGTERM on, so the kernel does it (Linux; elsewhere children watch their parent).
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _config_args(args: argparse.Namespace) -> list[str]:
    config = getattr(args, "config", None)
    return ["--config", str(config)] if config else []


def _spawn(
    argv: Sequence[str], env: dict[str, str], *, stdout: int | None = None
) -> subprocess.Popen[bytes]:
    # Our own interpreter and module, with arguments built here: nothing from outside.
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bot", *argv],
        env=env,
        stdout=stdout,
        preexec_fn=_die_with_parent,  # the parent runs no threads of its own
    )


def _migrate(settings: Settings) -> None:
    # Once, before any worker starts: N processes must not race to upgrade one schema.
    asyncio.run(migrate_database(settings))


# --- run -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Slot:
    """One worker's place: its process, and when it last (re)started and died."""

    index: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restart_at: float = 0.0
    crashes: list[float] = field(default_factory=list)


class Supervisor:
    """Starts N ``run`` workers, restarts the ones that die, stops all on a signal."""

    def __init__(self, settings: Settings, args: argparse.Namespace, count: int) -> None:
        self.settings = settings
        self.args = args
        self.slots = [_Slot(i) for i in range(count)]
        self.stopping = False
        self.status = 0
        self.env = dict(os.environ)
        self._metrics_dir: str | None = None

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("stopping %d workers (%s)", len(self.slots), signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        """Supervise until stopped; the exit status."""
        signals = (signal.SIGTERM, signal.SIGINT)
        previous = {s: signal.signal(s, self._request_stop) for s in signals}
        try:
            self._prepare_metrics()
            _migrate(self.settings)
            for slot in self.slots:
                self._start(slot)
            while not self.stopping:
                time.sleep(WATCH_S)
                for slot in self.slots:
                    self._watch(slot)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self._metrics_dir is not None:
                shutil.rmtree(self._metrics_dir, ignore_errors=True)
        return self.status

    def _prepare_metrics(self) -> None:
        if not self.settings.ops.enabled or self.env.get("PROMETHEUS_MULTIPROC_DIR"):
            return
        self._metrics_dir = tempfile.mkdtemp(prefix="govwatch-metrics-")
        self.env["PROMETHEUS_MULTIPROC_DIR"] = self._metrics_dir

    def _start(self, slot: _Slot) -> None:
        argv = ["run", *_config_args(self.args), "--worker-index", str(slot.index)]
        slot.proc = _spawn(argv, self.env)
        slot.started = time.monotonic()
        log.info("worker %d started (pid %d)", slot.index, slot.proc.pid)

    def _watch(self, slot: _Slot) -> None:
        now = time.monotonic()
        if slot.proc is None:
            if now >= slot.restart_at:
                self._start(slot)
            return
        code = slot.proc.poll()
        if code is None:
            return
        self._dead(slot.proc.pid)
        slot.proc = None
        if code == EXIT_USAGE:
            log.error("worker %d stopped: usage or configuration problem (exit 2)", slot.index)
            self.status, self.stopping = EXIT_USAGE, True
            return
        slot.crashes = [t for t in slot.crashes if now - t < CRASH_WINDOW_S] + [now]
        if len(slot.crashes) > MAX_RESTARTS:
            log.error("worker %d keeps dying (exit %s); giving up", slot.index, code)
            self.status, self.stopping = 1, True
            return
        pause = min(MAX_PAUSE_S, 0.5 * 2 ** (len(slot.crashes) - 1))
        slot.restart_at = now + pause
        log.warning("worker %d died (exit %s); restarting in %.1f s", slot.index, code, pause)

    def _dead(self, pid: int) -> None:
        if self._metrics_dir is None and not self.env.get("PROMETHEUS_MULTIPROC_DIR"):
            return
        from prometheus_client import multiprocess

        # prometheus_client ships no type hints for its multiprocess helpers.
        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid, self.env["PROMETHEUS_MULTIPROC_DIR"])  # type: ignore[no-untyped-call]

    def _stop_all(self) -> None:
        running = [s.proc for s in self.slots if s.proc is not None and s.proc.poll() is None]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for slot in self.slots:
            if slot.proc is None:
                continue
            try:
                code = slot.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in time; killed", slot.index)
                slot.proc.kill()
                code = slot.proc.wait()
                self.status = self.status or 1
            if code not in (0, -signal.SIGTERM, -signal.SIGINT) and self.status == 0:
                log.error("worker %d exited with %s while stopping", slot.index, code)
                self.status = 1
            self._dead(slot.proc.pid)
            slot.proc = None


def supervise_run(settings: Settings, args: argparse.Namespace, count: int) -> int:
    """``govwatch run --workers N`` (N > 1): the parent process."""
    return Supervisor(settings, args, count).run()


# --- poll-once -------------------------------------------------------------------------


def stats_to_json(stats: PollStats) -> str:
    """One line a ``poll-once`` worker prints for its parent."""
    return json.dumps(asdict(stats))


def stats_from_json(line: str) -> PollStats:
    """The counts a worker printed with ``stats_to_json``."""
    data = json.loads(line)
    data["reasons"] = Counter(data.get("reasons") or {})
    return PollStats(**data)


PollJob = Callable[[datetime], PollStats]


def poll_in_workers(
    settings: Settings, args: argparse.Namespace, count: int, since: datetime, job: PollJob
) -> tuple[PollStats, list[int], list[int]]:
    """Run ``count`` ``poll-once`` workers from ``since``: summed counts, each one's exit
    code and how many accounts each polled.

    Forked from this process when it runs no thread (the workers start with everything
    already imported, which is most of a pass's start-up), else started as subprocesses.
    """
    _migrate(settings)
    settle_database_threads()
    t0 = time.perf_counter()
    if hasattr(os, "fork") and threading.active_count() == 1:
        log.debug("forking %d poll-once workers", count)
        outcomes = _forked(count, since, job)
    else:
        log.debug("starting %d poll-once workers as subprocesses", count)
        outcomes = _spawned(settings, args, count, since)
    total, codes, shares = PollStats(), [], []
    for code, stats in outcomes:
        codes.append(code)
        shares.append(stats.claimed if stats is not None else 0)
        if stats is not None:
            total.add(stats)
    total.seconds = time.perf_counter() - t0
    return total, codes, shares


def settle_database_threads(timeout: float = 5.0) -> None:
    """Wait for aiosqlite's connection threads, still finishing after their engine closed."""
    for thread in threading.enumerate():
        # Python names it "Thread-N (_connection_worker_thread)" after its target: a
        # thread left running here would make the parent start subprocesses, not fork.
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=timeout)


def _forked(count: int, since: datetime, job: PollJob) -> list[tuple[int, PollStats | None]]:
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe(duplex=False) for _ in range(count)]
    procs = [
        context.Process(target=_poll_child, args=(job, since, sender), name=f"poll-worker-{i}")
        for i, (_, sender) in enumerate(pipes)
    ]
    # What the parent imported stays as it is: kept out of the workers' garbage
    # collections (each full one would walk it all) and out of copy-on-write faults.
    gc.freeze()
    for proc in procs:
        proc.start()
    gc.unfreeze()
    for _, sender in pipes:
        sender.close()  # the children hold their ends: EOF comes when they finish
    outcomes: list[tuple[int, PollStats | None]] = []
    for proc, (receiver, _) in zip(procs, pipes, strict=True):
        stats = None
        with contextlib.suppress(EOFError, OSError, ValueError, TypeError):
            stats = stats_from_json(receiver.recv())
        proc.join()
        outcomes.append((proc.exitcode if proc.exitcode is not None else 1, stats))
    return outcomes


def _poll_child(job: PollJob, since: datetime, sender: Connection) -> None:
    _die_with_parent()
    try:
        stats = job(since)
    except UserInputError as exc:
        print(f"govwatch: {exc}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    sender.send(stats_to_json(stats))
    sender.close()


def _spawned(
    settings: Settings, args: argparse.Namespace, count: int, since: datetime
) -> list[tuple[int, PollStats | None]]:
    argv = ["poll-once", *_config_args(args), "--since", since.isoformat()]
    if getattr(args, "all", False):
        argv.append("--all")
    env = dict(os.environ)
    procs = [
        _spawn([*argv, "--worker-index", str(i)], env, stdout=subprocess.PIPE) for i in range(count)
    ]
    outcomes: list[tuple[int, PollStats | None]] = []
    for proc in procs:
        out, _ = proc.communicate()
        lines = out.decode("utf-8", "replace").strip().splitlines()
        stats = None
        if lines:
            with contextlib.suppress(ValueError, TypeError):
                stats = stats_from_json(lines[-1])
        outcomes.append((proc.returncode, stats))
    return outcomes
