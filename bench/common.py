"""Helpers shared by the benchmarks: percentiles, memory, databases, seeding, settings."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bot.config import Settings, load_settings
from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from bot.store.models import Account, Official

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PG_BENCH_PREFIX = "gw_bench"
ROOT = Path(__file__).resolve().parent.parent


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def rnd(value: float | None, digits: int = 1) -> float | None:
    """Round for printing, keeping None as None."""
    return None if value is None else round(value, digits)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (from getrusage)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class RssSampler:
    """Samples the RSS of some processes in a thread and keeps the peak of their sum."""

    def __init__(self, pids: Sequence[int], *, every: float = 0.2) -> None:
        import psutil

        self._procs = [psutil.Process(pid) for pid in pids]
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_mb = 0.0

    def _sample(self) -> None:
        total = 0
        for proc in self._procs:
            try:
                total += proc.memory_info().rss
            except Exception:
                continue
        self.peak_mb = max(self.peak_mb, total / 1_048_576)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def now_utc() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


async def pg_reachable() -> bool:
    """True when the local PostgreSQL answers."""
    import asyncpg

    try:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=5432, user="postgres", database="postgres", timeout=3
        )
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def fresh_database(kind: str, *, label: str) -> str:
    """Create an empty, migrated benchmark database and return its URL."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"govwatch-bench-{label}-"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    else:
        import asyncpg

        name = f"{PG_BENCH_PREFIX}_{label}"
        admin = await asyncpg.connect(
            host="127.0.0.1", port=5432, user="postgres", database="postgres"
        )
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    db = Database(url)
    try:
        await upgrade_database(db.engine)
    finally:
        await db.close()
    return url


async def drop_database(url: str) -> None:
    """Remove a benchmark database made by :func:`fresh_database`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        if path.parent.name.startswith("govwatch-bench-"):
            shutil.rmtree(path.parent, ignore_errors=True)
        return
    import asyncpg

    admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await admin.close()


async def database_bytes(db: Database) -> int:
    """Bytes the database occupies on disk (SQLite file after a WAL checkpoint, or PG)."""
    async with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            path = make_url(db.url).database or ""
            return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
        value = await conn.scalar(text("SELECT pg_database_size(current_database())"))
        return int(value or 0)


async def table_bytes(db: Database, tables: Sequence[str]) -> int:
    """Bytes used by ``tables`` (PostgreSQL: relation sizes; SQLite: dbstat when present)."""
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            total = 0
            for name in tables:
                total += int(
                    await conn.scalar(text(f"SELECT pg_total_relation_size('{name}')")) or 0
                )
            return total
        try:
            names = ", ".join(f"'{t}'" for t in tables)
            value = await conn.scalar(
                text(
                    "SELECT sum(pgsize) FROM dbstat WHERE name IN (" + names + ") OR name IN "
                    "(SELECT name FROM sqlite_master WHERE type='index' AND tbl_name IN ("
                    + names
                    + "))"
                )
            )
            return int(value or 0)
        except Exception:
            return -1


async def seed_accounts(db: Database, n: int, *, start: int = 0, batch: int = 5000) -> None:
    """Insert ``n`` officials with one Telegram account each (``bw000000``...), in batches."""
    from bench.world import handle_of

    now = now_utc()
    for lo in range(start, start + n, batch):
        hi = min(lo + batch, start + n)
        officials = [
            {
                "id": i + 1,
                "slug": f"bench-{i}",
                "name": f"Deputy {i}",
                "search_key": f"deputy {i}",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(lo, hi)
        ]
        accounts = [
            {
                "id": i + 1,
                "official_id": i + 1,
                "platform": "telegram",
                "handle": handle_of(i),
                "url": f"https://t.me/{handle_of(i)}",
                "next_poll_at": now,
                "created_at": now,
            }
            for i in range(lo, hi)
        ]
        async with db.sessions() as session, session.begin():
            await session.execute(insert(Official), officials)
            await session.execute(insert(Account), accounts)
    if db.dialect == "postgresql":
        async with db.engine.begin() as conn:
            for table in ("officials", "accounts"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )


def bench_settings(db_url: str, world_url: str, **sections: dict[str, Any]) -> Settings:
    """Settings pointing govwatch at ``db_url`` and the loopback world, unthrottled."""
    overrides: dict[str, dict[str, Any]] = {
        "database": {"url": db_url, "pool_size": 20},
        "http": {
            "allow_private_networks": True,
            "per_host_concurrency": 64,
            "per_host_rate": 1_000_000.0,
            "max_connections": 256,
            "timeout": "30s",
        },
        "sources": {
            "telegram": {
                "base_url": world_url,
                "fetch_plain_page": False,
                "per_host_rate": 1_000_000.0,
            }
        },
        "logging": {"level": "WARNING"},
    }
    for section, values in sections.items():
        merged = dict(overrides.get(section, {}))
        merged.update(values)
        overrides[section] = merged
    return load_settings(None, **overrides)


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that reproduce the bench-relevant parts of ``settings``."""
    env: dict[str, str] = {}

    def put(prefix: str, data: dict[str, Any]) -> None:
        for key, value in data.items():
            name = f"{prefix}__{key.upper()}" if prefix else key.upper()
            if isinstance(value, dict):
                put(name, value)
            else:
                env[f"GOVWATCH_{name}"] = value if isinstance(value, str) else json.dumps(value)

    dumped = settings.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    put("", dumped)
    return {k: v for k, v in env.items() if v != "null"}


def run_stage(module: str, args: Sequence[str], *, timeout: float) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process and return its last JSON line."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": f"{module} exited {proc.returncode}: " + " | ".join(tail)}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


class Timer:
    """A perf_counter stopwatch: ``elapsed`` seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the timer started."""
        return time.perf_counter() - self.start
