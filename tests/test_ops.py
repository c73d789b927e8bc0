"""/metrics and /healthz: the real ops server, a real database, a polled loopback world.

The app polls a scripted world (one account ok, one whose handle is hostile text, two
Telegram channels failing) and delivers through the fake Bot API; a scrape then shows the
live counts and the database's backlog, and no label ever carries a handle, a chat id
or the token. /healthz answers 503 naming the failed check when the database stops, the
scheduler stalls or the relay falls behind, and 200 again when they are back.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, select

from bot import metrics
from bot.app import App
from bot.config import Settings, load_settings
from bot.errors import ConfigError, UserInputError
from bot.ops.server import OpsServer
from bot.reply import Reply, reply_to_json
from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from bot.store.models import Account, AccountState, Chat, Delivery, Official, Subscription, utcnow
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.world import World

ROOT = Path(__file__).resolve().parent.parent
#: A journalist's chat id: it must never reach a label.
CHAT_ID = 987654321
HOSTILE = 'evil"} 1\n# TYPE x counter\nx{a="b'
#: Label values a govwatch_* series may have (``le``: histogram buckets).
ALLOWED = {
    "platform": metrics.PLATFORMS | {"other"},
    "status": metrics.STATUSES | {"other"},
    "backend": metrics.BACKENDS | {"other"},
    "result": metrics.RESULTS | {"other"},
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(30)) as resp,
    ):
        return resp.status, await resp.text()


async def scrape(port: int) -> tuple[str, Samples]:
    """The /metrics body and its samples by (name, sorted labels)."""
    status, body = await get(port, "/metrics")
    assert status == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return body, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def counted(name: str, **labels: str) -> float:
    """This process's counter right now (the baseline a test's deltas start from)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def healthz(port: int) -> tuple[int, dict[str, Any]]:
    status, body = await get(port, "/healthz")
    return status, json.loads(body)


async def wait_for(check: Callable[[], Awaitable[bool]], *, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await check():
        if loop.time() > end:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)


def ops_settings(db_url: str, port: int, **sections: dict[str, Any]) -> Settings:
    base: dict[str, dict[str, Any]] = {
        "database": {"url": db_url},
        "http": {"allow_private_networks": True, "per_host_rate": 1000.0},
        "scheduler": {"tick": "200ms", "poll_interval": "1s", "jitter": "0s"},
        "relay": {"tick": "100ms", "per_chat_interval": "10ms"},
        # ticks every 200 ms; 5 s of slack for a busy machine
        "ops": {"enabled": True, "port": port, "max_tick_age": "5s", "db_timeout": "2s"},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return load_settings(None, **base)


async def add_account(db: Database, platform: str, handle: str, **values: Any) -> int:
    async with db.sessions() as session, session.begin():
        account = Account(
            official=Official(slug=f"o-{platform}-{len(handle)}-{abs(hash(handle))}",
                              name=f"Official {len(handle)}"),
            platform=platform, handle=handle, **values,
        )  # fmt: skip
        session.add(account)
        await session.flush()
        return account.id


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def world2() -> AsyncIterator[World]:
    """The world on two loopback hosts: Bluesky on 127.0.0.1, t.me on 127.0.0.2."""
    w = World()
    await w.start(hosts=("127.0.0.1", "127.0.0.2"))
    yield w
    await w.stop()


async def test_a_scrape_shows_live_values_and_never_a_handle_chat_or_token(
    database: Database, db_url: str, world2: World, api: FakeTelegramAPI
) -> None:
    world = world2
    port = free_port()
    settings = ops_settings(
        db_url, port,
        telegram={"token": api.token, "base_url": api.base_url, "poll_timeout": "1s"},
        sources={"bluesky": {"base_url": world.url("127.0.0.1")},
                 "telegram": {"base_url": world.url("127.0.0.2"), "fetch_plain_page": False}},
        scheduler={"degraded_after": 1},
    )  # fmt: skip
    alice = world.add_bluesky("alice.bsky.social", name="Alice", followers=5000)
    alice.post("hello")
    world.add_telegram("broken_ch", name="Broken", followers=10, mode="server_error")
    world.add_telegram("throttled_ch", name="Slow", followers=10, mode="rate_limited",
                       retry_after="3600")  # fmt: skip
    for platform, handle in [("bluesky", "alice.bsky.social"), ("bluesky", HOSTILE),
                             ("telegram", "broken_ch"), ("telegram", "throttled_ch")]:  # fmt: skip
        await add_account(database, platform, handle)
    now = utcnow()
    # Due an hour ago, but leased by a worker that died: overdue, and nobody may take it.
    hour = timedelta(hours=1)
    await add_account(database, "bluesky", "held.bsky.social", next_poll_at=now - hour,
                      lease_owner="dead-worker", lease_until=now + hour)  # fmt: skip
    async with database.sessions() as session, session.begin():
        chat = Chat(backend="telegram", external_id=str(CHAT_ID))
        slack = Chat(backend="slack", external_id="C0SECRETCHAN", team_id="T0TEAM")
        session.add_all([chat, slack])
        await session.flush()
        session.add(Subscription(chat_id=chat.id, target_type="all", target_id=0))
        # Queued two hours ago for Slack, which this process does not run.
        queued = now - timedelta(hours=2)
        session.add(Delivery(chat_id=slack.id, payload=reply_to_json(Reply.text("x")),
                             created_at=queued, next_attempt_at=queued))  # fmt: skip

    before = {
        "ok": counted("govwatch_polls_total", platform="bluesky", status="ok"),
        "absent": counted("govwatch_polls_total", platform="bluesky", status="absent"),
        "tg_unknown": counted("govwatch_polls_total", platform="telegram", status="unknown"),
        "limited": counted("govwatch_poll_failures_total", platform="telegram",
                           reason="rate_limited"),
        "sent": counted("govwatch_deliveries_total", backend="telegram", result="sent"),
    }  # fmt: skip
    app = App(settings, db=database)
    assert app.ops is not None
    await app.start()
    try:
        states = select(AccountState).where(AccountState.degraded.is_(True))

        async def baselines_and_failures() -> bool:
            async with database.sessions() as s:
                return len((await s.scalars(states)).all()) == 2 and bool(
                    (await s.scalars(select(AccountState))).all()
                )

        await wait_for(baselines_and_failures)
        alice.post("news")
        await api.wait_for(lambda: any("news" in m.text for m in api.messages_to(CHAT_ID)))

        latest: list[tuple[str, Samples]] = []

        async def settled() -> bool:
            latest[:] = [await scrape(port)]
            samples = latest[0][1]
            sent = value(samples, "govwatch_deliveries_total", backend="telegram", result="sent")
            pending = value(samples, "govwatch_outbox_pending", backend="telegram")
            # The live accounts poll every second, so a scrape may catch one of them due for
            # a moment (or before the cooldown was sampled): wait for a scrape where only
            # the account held by the dead worker is overdue, whatever the machine's load.
            quiet = (
                value(samples, "govwatch_accounts_overdue", platform="bluesky") == 1
                and value(samples, "govwatch_accounts_overdue", platform="telegram") == 0
                and value(samples, "govwatch_host_cooldowns") == 1
            )
            return (sent or 0) > before["sent"] and pending == 0 and quiet

        await wait_for(settled)
        body, samples = latest[0]
        status, health = await healthz(port)
    finally:
        await app.stop()

    # Counters, live: what the pipeline and the relay counted.
    def grew(name: str, base: str, by: int, **labels: str) -> bool:
        return (value(samples, name, **labels) or 0) >= before[base] + by

    assert grew("govwatch_polls_total", "ok", 2, platform="bluesky", status="ok")
    assert grew("govwatch_polls_total", "absent", 1, platform="bluesky", status="absent")
    assert grew("govwatch_polls_total", "tg_unknown", 2, platform="telegram", status="unknown")
    assert grew("govwatch_poll_failures_total", "limited", 1, platform="telegram",
                reason="rate_limited")  # fmt: skip
    polled = sum(
        v for (name, labels), v in samples.items()
        if name == "govwatch_polls_total" and ("platform", "bluesky") in labels
    )  # fmt: skip
    # every Bluesky poll fetched, and every fetch was timed (same process, same moment)
    assert value(samples, "govwatch_fetch_seconds_count", platform="bluesky") == polled
    assert value(samples, "govwatch_fetch_seconds_bucket", platform="bluesky", le="+Inf") == polled
    sent = value(samples, "govwatch_deliveries_total", backend="telegram", result="sent")
    assert sent is not None
    assert before["sent"] + 1 <= sent <= before["sent"] + len(api.messages_to(CHAT_ID))
    assert value(samples, "govwatch_db_errors_total") is not None
    # t.me asked to wait an hour: one host cooling down in this process.
    assert value(samples, "govwatch_host_cooldowns") == 1

    # Gauges read from the database at scrape time.
    assert value(samples, "govwatch_database_up") == 1
    assert value(samples, "govwatch_accounts_overdue", platform="bluesky") == 1
    overdue_for = value(samples, "govwatch_oldest_overdue_seconds", platform="bluesky")
    assert overdue_for is not None
    assert 3600 <= overdue_for < 3600 + 600
    assert value(samples, "govwatch_accounts_overdue", platform="telegram") == 0
    assert value(samples, "govwatch_sources_degraded", platform="telegram") == 2
    assert value(samples, "govwatch_sources_degraded", platform="bluesky") == 0
    assert value(samples, "govwatch_outbox_pending", backend="slack") == 1
    waited = value(samples, "govwatch_outbox_oldest_pending_seconds", backend="slack")
    assert waited is not None
    assert 7200 <= waited < 7200 + 600
    assert (value(samples, "govwatch_outbox_oldest_due_seconds", backend="slack") or 0) >= 7200
    assert value(samples, "govwatch_outbox_pending", backend="telegram") == 0
    assert value(samples, "govwatch_outbox_oldest_pending_seconds", backend="telegram") == 0

    # Labels: closed sets only; no handle, chat id or token anywhere in the exposition.
    for (name, labels), _ in samples.items():
        if name.startswith("govwatch_"):
            for key, label in labels:
                if key == "reason":
                    assert metrics.reason_label(label) == label
                elif key != "le":
                    assert label in ALLOWED[key], (name, key, label)
    for secret in ("alice", "broken_ch", "throttled_ch", "held", 'evil"', str(CHAT_ID),
                   "C0SECRETCHAN", "T0TEAM", api.token, api.token.split(":")[1]):  # fmt: skip
        assert secret not in body

    # Healthy: the relay keeps up with Telegram (Slack's queue is not this process's).
    assert status == 200
    assert health == {"ok": True, "checks": {"database": "ok", "scheduler": "ok", "relay": "ok"}}


async def test_a_scrape_is_two_statements(database: Database) -> None:
    server = OpsServer(
        ops_settings(database.url, free_port()), db=database, platforms=["bluesky"],
        backends=["telegram"], multiprocess_dir=None,
    )  # fmt: skip
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    await server.start()
    try:
        _, samples = await scrape(server.settings.port)
    finally:
        await server.stop()
        event.remove(database.engine.sync_engine, "before_cursor_execute", seen)
    assert len(statements) == 2, statements
    # nothing due, nothing degraded, nothing queued: zeros, for what this process does
    assert value(samples, "govwatch_accounts_overdue", platform="bluesky") == 0
    assert value(samples, "govwatch_outbox_pending", backend="telegram") == 0
    assert value(samples, "govwatch_accounts_overdue", platform="telegram") is None


class Outage:
    """Stops and restarts the database under test: PostgreSQL behind a relay, or SQLite
    in a folder that is renamed away (every new connection then fails to open it)."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.pg = db_url.startswith("postgresql")
        self.proxy: TcpProxy | None = None
        self.folder = tmp_path / "data"
        self.url = db_url

    async def start(self) -> str:
        if self.pg:
            from sqlalchemy.engine import make_url

            parsed = make_url(self.url)
            self.proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
            await self.proxy.start()
            return parsed.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
                hide_password=False
            )
        self.folder.mkdir()
        return f"sqlite+aiosqlite:///{self.folder / 'govwatch.db'}"

    async def stop_database(self) -> None:
        if self.proxy is not None:
            await self.proxy.stop()
        else:
            self.folder.rename(self.folder.with_name("away"))

    async def restart_database(self) -> None:
        if self.proxy is not None:
            await self.proxy.start()
        else:
            self.folder.with_name("away").rename(self.folder)

    async def close(self) -> None:
        if self.proxy is not None:
            await self.proxy.stop()


async def test_healthz_fails_while_the_database_is_stopped_and_recovers(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    outage = Outage(db_url, tmp_path)
    url = await outage.start()
    db = Database(url)
    await upgrade_database(db.engine)
    port = free_port()
    app = App(ops_settings(url, port), db=db, sources={}, chat=False)
    errors = counted("govwatch_db_errors_total")
    await app.start()
    try:
        await wait_for(lambda: _status_is(port, 200))
        assert (await healthz(port))[1]["checks"]["relay"].startswith("skipped")

        await outage.stop_database()
        status, health = await healthz(port)
        assert status == 503
        assert health["ok"] is False
        assert health["checks"]["database"].startswith("unavailable")
        assert health["checks"]["scheduler"] == "ok"
        if outage.pg:
            # The pool's connections were cut too: scrapes cannot read the backlog.
            _, samples = await scrape(port)
            assert value(samples, "govwatch_database_up") == 0
            assert value(samples, "govwatch_accounts_overdue", platform="bluesky") is None
        assert counted("govwatch_db_errors_total") > errors

        await outage.restart_database()
        await wait_for(lambda: _status_is(port, 200))
        _, samples = await scrape(port)
        assert value(samples, "govwatch_database_up") == 1
    finally:
        await app.stop()
        await db.close()
        await outage.close()


async def _status_is(port: int, expected: int) -> bool:
    return (await healthz(port))[0] == expected


async def test_healthz_names_a_stalled_scheduler(database: Database, db_url: str) -> None:
    port = free_port()
    app = App(ops_settings(db_url, port), db=database, sources={}, chat=False)
    await app.start()
    try:
        await wait_for(lambda: _status_is(port, 200))
        app.scheduler.pause()  # the loop stops ticking; nothing else changes
        await wait_for(lambda: _status_is(port, 503))
        _, health = await healthz(port)
        assert health["checks"]["scheduler"].startswith("stale: last tick")
        assert health["checks"]["database"] == "ok"
        app.scheduler.resume()
        await wait_for(lambda: _status_is(port, 200))
    finally:
        await app.stop()


async def test_healthz_names_a_relay_that_fell_behind(database: Database, db_url: str) -> None:
    settings = ops_settings(db_url, free_port(), ops={"max_outbox_age": "5m", "max_tick_age": "1m"})
    metrics.ticked()
    # This process relays Telegram (no relay runs in the test, as if it had hung).
    server = OpsServer(
        settings, db=database, platforms=[], backends=["telegram"], multiprocess_dir=None
    )
    now = utcnow()
    async with database.sessions() as session, session.begin():
        chat = Chat(backend="telegram", external_id="1")
        session.add(chat)
        await session.flush()
        late = Delivery(chat_id=chat.id, payload=reply_to_json(Reply.text("x")),
                        next_attempt_at=now - timedelta(minutes=2))  # fmt: skip
        session.add(late)
    await server.start()
    try:
        assert (await healthz(settings.ops.port))[0] == 200  # two minutes late: within bounds
        async with database.sessions() as session, session.begin():
            row = await session.get(Delivery, late.id)
            assert row is not None
            row.next_attempt_at = now - timedelta(minutes=20)
        status, health = await healthz(settings.ops.port)
        assert status == 503
        assert health["checks"]["relay"].startswith("behind: a due alert has waited 1200 s")
        assert health["checks"]["database"] == "ok"
    finally:
        await server.stop()


async def test_a_taken_port_is_one_clear_line(database: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = OpsServer(ops_settings(database.url, port), db=database, platforms=[], backends=[])
        where = f"cannot serve ops.listen/ops.port 127.0.0.1:{port}"
        with pytest.raises(UserInputError, match=where):
            await server.start()
        await server.stop()


@pytest.mark.parametrize(
    ("ops", "key", "words"),
    [({"listen": "http://0.0.0.0"}, "ops.listen", "not an address"),
     ({"listen": "0.0.0.0:9108"}, "ops.listen", "not an address"),
     ({"port": 0}, "ops.port", "greater than or equal to 1"),
     ({"port": 70000}, "ops.port", "less than or equal to 65535"),
     ({"max_tick_age": "5s"}, "ops.max_tick_age", "at least twice scheduler.tick (5s)"),
     ({"max_outbox_age": "1s"}, "ops.max_outbox_age", "at least twice relay.tick (1s)"),
     ({"db_timeout": "0s"}, "ops.db_timeout", "longer than 0s"),
     ({"db_timeout": "soon"}, "ops.db_timeout", "not a duration"),
     ({"enable": True}, "ops.enable", "unknown key")],
)  # fmt: skip
def test_bad_ops_settings_are_named(ops: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, ops=ops)
    assert [(k, words in reason) for _, k, reason in info.value.problems] == [(key, True)]


def test_ops_defaults() -> None:
    ops = load_settings(None).ops
    assert (ops.enabled, ops.listen, ops.port) == (False, "127.0.0.1", 9108)
    assert load_settings(None, ops={"listen": "::", "enabled": True}).ops.listen == "::"


# --- several processes --------------------------------------------------------------------


async def _run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_counts_of_several_processes_add_up(
    database: Database, db_url: str, world: World, tmp_path: Path
) -> None:
    handles = [f"p{i}.bsky.social" for i in range(3)]
    for handle in handles:
        world.add_bluesky(handle, name=handle, followers=100).post("hi")
        await add_account(database, "bluesky", handle)
    shared = tmp_path / "prom"
    shared.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env |= {"PROMETHEUS_MULTIPROC_DIR": str(shared), "GOVWATCH_DATABASE__URL": db_url,
            "GOVWATCH_HTTP__ALLOW_PRIVATE_NETWORKS": "true", "GOVWATCH_HTTP__PER_HOST_RATE": "1000",
            "GOVWATCH_SOURCES__BLUESKY__BASE_URL": world.url()}  # fmt: skip
    # Two polling processes, one after the other: each polls every account once.
    for _ in range(2):
        code, out = await _run("-m", "bot", "poll-once", "--all", env=env)
        assert code == 0, out
    # A third one only ticks, as a long-running worker's scheduler does.
    code, out = await _run("-c", "import bot.metrics as m, os; m.ticked(); print(os.getpid())",
                           env=env)  # fmt: skip
    assert code == 0, out
    ticker = int(out.split()[-1])

    server = OpsServer(
        ops_settings(db_url, free_port(), ops={"max_tick_age": "1m"}), db=database,
        platforms=["bluesky"], backends=[], multiprocess_dir=str(shared),
    )  # fmt: skip
    await server.start()
    try:
        port = server.settings.port
        _, samples = await scrape(port)
        assert value(samples, "govwatch_polls_total", platform="bluesky", status="ok") == 6
        assert value(samples, "govwatch_fetch_seconds_count", platform="bluesky") == 6
        assert value(samples, "govwatch_accounts_overdue", platform="bluesky") == 0
        ticks = [v for (n, _), v in samples.items() if n == metrics.LAST_TICK_NAME and v > 0]
        assert len(ticks) == 1  # 0: the poll-once processes, which have no scheduler
        status, health = await healthz(port)
        assert (status, health["checks"]["scheduler"]) == (200, "ok")
        # The parent sees the worker exit and says so: its tick no longer counts.
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(ticker, str(shared))
        status, health = await healthz(port)
        assert (status, health["checks"]["scheduler"]) == (503, "stale: no tick yet")
    finally:
        await server.stop()
