"""The scrape-time queries read index ranges as long as the backlog, never whole tables.

A database with many accounts and a long delivered outbox, a few of each due, degraded or
unsent, and fresh planner statistics (ANALYZE, which is what makes SQLite prefer a full
scan of the outbox unless told the unsent rows are rare): the plan of every statement
``/metrics`` and ``/healthz`` run must use the index meant for it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert

from bot.store.engine import Database
from bot.store.health import outbox_health, platform_health
from bot.store.models import Account, AccountState, Chat, Delivery, Official, utcnow

ACCOUNTS = 20_000
DELIVERED = 40_000


async def _fill(db: Database) -> None:
    now = utcnow()
    later = now + timedelta(minutes=10)
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(Official),
            [{"id": i + 1, "slug": f"o{i}", "name": f"Official {i}"} for i in range(ACCOUNTS)],
        )
        await conn.execute(
            insert(Account),
            [
                {
                    "id": i + 1,
                    "official_id": i + 1,
                    "platform": ("telegram", "bluesky")[i % 2],
                    "handle": f"h{i}",
                    "next_poll_at": now - timedelta(seconds=i) if i < 50 else later,
                }
                for i in range(ACCOUNTS)
            ],
        )
        await conn.execute(
            insert(AccountState),
            [
                {
                    "account_id": i + 1,
                    "status": "ok",
                    "first_seen_at": now,
                    "observed_at": now,
                    "degraded": i % 700 == 0,
                }
                for i in range(ACCOUNTS)
            ],
        )
        await conn.execute(
            insert(Chat),
            [
                {"id": i + 1, "backend": ("telegram", "slack")[i % 2], "external_id": str(i)}
                for i in range(200)
            ],
        )
        await conn.execute(
            insert(Delivery),
            [
                {
                    "chat_id": i % 200 + 1,
                    "status": "sent" if i >= 20 else "pending",
                    "next_attempt_at": now - timedelta(days=1),
                    "payload": {},
                }
                for i in range(DELIVERED)
            ],
        )
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("ANALYZE")


async def _plans(db: Database) -> list[tuple[str, str]]:
    """(statement, plan) of every statement the scrape and health queries run."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        seen.append((statement, params))

    now = utcnow()
    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.engine.connect() as conn:
            platforms = await platform_health(conn, now)
            outbox = await outbox_health(conn, now)
            await outbox_health(conn, now, backends=["telegram"])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert platforms["telegram"].due == 25
    assert platforms["bluesky"].degraded + platforms["telegram"].degraded == 29
    assert outbox["telegram"].unsent + outbox["slack"].unsent == 20
    explain = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
    plans = []
    async with db.engine.connect() as conn:
        for statement, params in seen:
            rows = (await conn.exec_driver_sql(explain + statement, params)).all()
            plans.append((statement, "\n".join(str(r[-1]) for r in rows)))
    return plans


async def test_scrape_queries_use_their_indexes(database: Database) -> None:
    await _fill(database)
    plans = await _plans(database)
    assert len(plans) == 3
    (_, accounts), (_, outbox), (_, outbox_one) = plans
    assert "ix_accounts_due" in accounts, accounts
    assert "ix_account_state_degraded" in accounts, accounts
    for plan in (outbox, outbox_one):
        assert "ix_deliveries_due" in plan, plan
    for _, plan in plans:
        for line in plan.splitlines():
            words = line.strip(" ->")
            # a table read whole: SQLite's "SCAN t" without an index, PostgreSQL's Seq Scan
            assert not (words.startswith("SCAN ") and "INDEX" not in words), plan
            for table in ("accounts", "account_state", "deliveries"):
                assert f"Seq Scan on {table} " not in line + " ", plan
