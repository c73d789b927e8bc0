"""Job leases: a row in ``settings`` (``job:<name>``) so one process of many runs a job.

The row's value says who holds the job and until when, when it last finished and what
the job wants to remember between runs. Every change is a compare-and-set on the row's
``updated_by`` token, which each write replaces: of two processes that read the same row,
only the first to write wins (PostgreSQL's row lock, SQLite's single writer), and the
other's update matches nothing. A holder that dies leaves the lease to expire.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import LeaseLost
from bot.store.engine import Database
from bot.store.models import Setting

#: ``updated_by`` of a row no holder has written yet.
_NEW = "lease:new"


@dataclass(frozen=True, slots=True)
class LeaseState:
    """A job's row: its holder (if any), when it last finished, what it remembers."""

    owner: str | None = None
    until: datetime | None = None
    done_at: datetime | None = None
    memo: dict[str, Any] = field(default_factory=dict)

    def held_by_other(self, owner: str, now: datetime) -> bool:
        """True while someone else's lease has not expired."""
        return self.owner not in (None, owner) and self.until is not None and self.until > now

    def due(self, now: datetime, every: timedelta) -> bool:
        """True when the job has never finished or finished ``every`` ago or more."""
        # A minute of slack: a job finishing a little late must not slip a whole period.
        return self.done_at is None or now - self.done_at >= every - timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease this process holds: the row's token it last wrote."""

    key: str
    owner: str
    token: str
    state: LeaseState


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _encode(state: LeaseState) -> dict[str, Any]:
    return {"owner": state.owner, "until": _stamp(state.until),
            "done_at": _stamp(state.done_at), "memo": dict(state.memo)}  # fmt: skip


def _decode(value: dict[str, Any] | None) -> LeaseState:
    value = value or {}
    memo = value.get("memo")
    owner = value.get("owner")
    return LeaseState(
        owner=owner if isinstance(owner, str) else None,
        until=_time(value.get("until")),
        done_at=_time(value.get("done_at")),
        memo=dict(memo) if isinstance(memo, dict) else {},
    )


async def read_state(db: Database, key: str) -> LeaseState:
    """The job's row as stored (an empty state when there is none)."""
    async with db.sessions() as session:
        value = await session.scalar(select(Setting.value).where(Setting.key == key))
    return _decode(value)


async def _row(session: AsyncSession, key: str) -> tuple[LeaseState, str]:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(Setting).values(key=key, value={}, updated_by=_NEW).on_conflict_do_nothing()
    )
    row = (
        await session.execute(select(Setting.value, Setting.updated_by).where(Setting.key == key))
    ).one()
    return _decode(row[0]), row[1] or _NEW


async def _swap(
    session: AsyncSession, key: str, seen: str, state: LeaseState, now: datetime
) -> str | None:
    token = f"lease:{secrets.token_hex(8)}"
    result = await session.execute(
        update(Setting)
        .where(Setting.key == key, Setting.updated_by == seen)
        .values(value=_encode(state), updated_by=token, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE returns a CursorResult; the stubs type execute() as a plain Result.
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]


async def take(
    db: Database,
    key: str,
    owner: str,
    *,
    now: datetime,
    hold: timedelta,
    every: timedelta | None,
) -> Lease | LeaseState:
    """Take the job's lease until ``now + hold``: a Lease, or the state that refused it.

    Refused while another holder's lease runs, or (``every`` given) when the job finished
    less than ``every`` ago. ``every=None`` takes it whenever it is free (a manual run).
    """
    async with db.sessions() as session, session.begin():
        state, seen = await _row(session, key)
        if state.held_by_other(owner, now) or (every is not None and not state.due(now, every)):
            return state
        mine = replace(state, owner=owner, until=now + hold)
        token = await _swap(session, key, seen, mine, now)
    if token is None:
        return await read_state(db, key)
    return Lease(key, owner, token, mine)


async def renew(db: Database, lease: Lease, *, now: datetime, hold: timedelta) -> Lease:
    """Extend ``lease`` to ``now + hold``; LeaseLost when another process took it."""
    return await _write(db, lease, replace(lease.state, until=now + hold), now)


async def finish(db: Database, lease: Lease, *, now: datetime, memo: dict[str, Any]) -> Lease:
    """Release ``lease``, recording that the job finished at ``now`` and its ``memo``."""
    state = LeaseState(owner=None, until=None, done_at=now, memo=memo)
    return await _write(db, lease, state, now)


async def release(db: Database, lease: Lease, *, now: datetime) -> None:
    """Give ``lease`` up without recording a finished run (the job failed or stopped)."""
    state = replace(lease.state, owner=None, until=None)
    # Someone else holds it now: nothing of ours to give up.
    with contextlib.suppress(LeaseLost):
        await _write(db, lease, state, now)


async def _write(db: Database, lease: Lease, state: LeaseState, now: datetime) -> Lease:
    async with db.sessions() as session, session.begin():
        token = await _swap(session, lease.key, lease.token, state, now)
    if token is None:
        taken = await read_state(db, lease.key)
        raise LeaseLost(lease.key, taken.owner, taken.until)
    return replace(lease, token=token, state=state)
