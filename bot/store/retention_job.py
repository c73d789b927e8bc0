"""The retention job under its lease: one run per period however many processes share
the database (``govwatch run`` on several machines), and ``govwatch db prune`` beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.errors import LeaseHeld
from bot.store import leases
from bot.store.engine import Database
from bot.store.retention import JOB_KEY, Policy, Report, prune

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def run_retention(
    db: Database,
    policy: Policy,
    *,
    owner: str,
    hold: timedelta,
    every: timedelta | None,
    full: bool = False,
    clock: Clock = _utcnow,
) -> Report | None:
    """Prune under the job's lease; None when the job is not due (``every`` given).

    LeaseHeld when another process holds the lease; LeaseLost when it took the lease
    while this run went on (the run stops at the next batch; what it removed stays
    removed, and the next run reads those rows again and finds them gone).
    """
    got = await leases.take(db, JOB_KEY, owner, now=clock(), hold=hold, every=every)
    if isinstance(got, leases.LeaseState):
        if got.held_by_other(owner, clock()):
            raise LeaseHeld(JOB_KEY, got.owner, got.until)
        return None
    lease = got

    async def between() -> None:
        nonlocal lease  # LeaseLost when another process took it: the run stops here
        lease = await leases.renew(db, lease, now=clock(), hold=hold)

    try:
        report = await prune(
            db, policy, now=clock(), full=full, memo=lease.state.memo, between=between
        )
    except BaseException:
        await leases.release(db, lease, now=clock())
        raise
    await leases.finish(db, lease, now=clock(), memo=report.memo)
    return report


async def dry_run(
    db: Database, policy: Policy, *, full: bool = False, clock: Clock = _utcnow
) -> Report:
    """What a run now would remove (no lease taken, nothing deleted)."""
    state = await leases.read_state(db, JOB_KEY)
    return await prune(db, policy, now=clock(), dry_run=True, full=full, memo=state.memo)
