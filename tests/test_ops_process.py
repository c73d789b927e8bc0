"""``govwatch run`` with ``[ops] enabled``, as a real process: what an operator's curl sees.

/metrics shows live polling counts while it runs; /healthz turns 503 when the database
stops (PostgreSQL behind a relay that is shut, or SQLite's folder renamed away) and 200
again once it is back; SIGTERM still ends the process cleanly.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from tests.fakes.world import World, seed
from tests.test_ops import Outage, free_port, healthz, scrape, value
from tests.test_run_process import SPAWNED, Worker


def write_config(path: Path, db_url: str, world: World, port: int) -> Path:
    path.write_text(
        f"""
[database]
url = "{db_url}"

[http]
allow_private_networks = true
per_host_rate = 1000.0

[scheduler]
tick = "200ms"
poll_interval = "1s"
jitter = "0s"

[ops]
enabled = true
port = {port}
max_tick_age = "5s"
db_timeout = "2s"

[sources.bluesky]
base_url = "{world.url()}"
""",
        encoding="utf-8",
    )
    return path


async def eventually(check: object, *, timeout: float = 90.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await check():  # type: ignore[operator]
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.2)


async def test_curl_during_run_sees_live_metrics_and_health_follows_the_database(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    outage = Outage(db_url, tmp_path)
    url = await outage.start()
    db = Database(url)
    await upgrade_database(db.engine)
    handles = [f"m{i}.bsky.social" for i in range(3)]
    for handle in handles:
        world.add_bluesky(handle, name=handle, followers=1000).post("hello")
    await seed(db, [("bluesky", h) for h in handles])
    port = free_port()
    worker = Worker(write_config(tmp_path / "ops.toml", url, world, port))
    try:
        await worker.start()
        await worker.ready()

        async def polled_twice() -> bool:
            try:
                _, samples = await scrape(port)
            except OSError:
                # With one worker per core, another worker may say "running" before worker
                # 0 (the one serving /metrics) listens: wait for the server too.
                return False
            ok = value(samples, "govwatch_polls_total", platform="bluesky", status="ok") or 0
            return ok >= 2 * len(handles)

        await eventually(polled_twice)
        assert await healthz(port) == (
            200, {"ok": True, "checks": {"database": "ok", "scheduler": "ok",
                                         "relay": "skipped: no chat backend in this process"}},
        )  # fmt: skip

        await outage.stop_database()

        async def unhealthy() -> bool:
            status, body = await healthz(port)
            return status == 503 and body["checks"]["database"].startswith("unavailable")

        await eventually(unhealthy)
        await outage.restart_database()

        async def healthy() -> bool:
            return (await healthz(port))[0] == 200

        await eventually(healthy)
        assert await worker.finish(signal.SIGTERM) == 0
        assert b"ops: /metrics and /healthz on http://127.0.0.1:" in worker.stderr
    finally:
        for spawned in SPAWNED:
            if spawned.proc is not None and spawned.proc.returncode is None:
                spawned.proc.kill()
                await spawned.proc.wait()
        SPAWNED.clear()
        await db.close()
        await outage.close()
