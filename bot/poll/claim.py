"""Claiming due accounts under a lease, safely shared by several workers.

On PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so two
workers never take the same account; on SQLite a single ``UPDATE ... RETURNING`` runs
under the database's one write lock, which is just as exclusive. A lease that is not
released (the worker crashed) expires after ``scheduler.lease`` and the account becomes
claimable again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.detect.state import AccountInfo
from bot.domain import AccountRef, Platform
from bot.handles import canonical_url
from bot.store.models import Account


@dataclass(frozen=True, slots=True)
class ClaimedAccount:
    """An account this worker holds the lease of."""

    id: int
    official_id: int
    platform: Platform
    handle: str
    url: str | None
    platform_id: str | None
    options: dict[str, Any] = field(default_factory=dict)
    validators: dict[str, Any] = field(default_factory=dict)
    poll_interval_s: int | None = None
    consecutive_failures: int = 0

    def ref(self) -> AccountRef:
        """The read-only view a source fetches."""
        return AccountRef(
            platform=self.platform,
            handle=self.handle,
            id=self.id,
            url=self.url,
            platform_id=self.platform_id,
            options=self.options,
            validators={str(k): str(v) for k, v in self.validators.items()},
        )

    def info(self) -> AccountInfo:
        """What event payloads need to know about the account."""
        return AccountInfo(
            id=self.id,
            official_id=self.official_id,
            platform=self.platform,
            handle=self.handle,
            url=self.url or _profile_url(self.platform, self.handle),
        )


def _profile_url(platform: Platform, handle: str) -> str:
    try:
        return canonical_url(platform, handle)
    except ValueError:
        return handle


RETURNED = (
    Account.id,
    Account.official_id,
    Account.platform,
    Account.handle,
    Account.url,
    Account.platform_id,
    Account.options,
    Account.http_validators,
    Account.poll_interval_s,
    Account.consecutive_failures,
)


def _claimable(
    now: datetime,
    *,
    due: bool,
    account_id: int | None,
    not_polled_since: datetime | None,
    platforms: Collection[Platform] | None,
) -> ColumnElement[bool]:
    cond = and_(
        Account.enabled.is_(True), or_(Account.lease_until.is_(None), Account.lease_until < now)
    )
    # accounts of a disabled source wait for it instead of failing every poll
    known = Platform if platforms is None else platforms
    cond = and_(cond, Account.platform.in_(sorted(p.value for p in known)))
    if account_id is not None:
        return and_(cond, Account.id == account_id)
    if due:
        cond = and_(cond, Account.next_poll_at <= now)
    if not_polled_since is not None:
        # one pass polls each account at most once, whatever its interval
        cond = and_(
            cond, or_(Account.last_polled_at.is_(None), Account.last_polled_at < not_polled_since)
        )
    return cond


async def claim_accounts(
    engine: AsyncEngine,
    *,
    owner: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    due: bool = True,
    account_id: int | None = None,
    not_polled_since: datetime | None = None,
    platforms: Collection[Platform] | None = None,
) -> list[ClaimedAccount]:
    """Lease up to ``limit`` claimable accounts (of ``platforms``) to ``owner``."""
    if limit <= 0 or (platforms is not None and not platforms):
        return []
    cond = _claimable(
        now,
        due=due,
        account_id=account_id,
        not_polled_since=not_polled_since,
        platforms=platforms,
    )
    # A CTE, not "id IN (subquery)": PostgreSQL may re-run such a subquery while the
    # UPDATE proceeds, and each run skips the rows the UPDATE already changed, so a
    # claim could take more than ``limit`` rows. A locking CTE is evaluated once.
    pick = (
        select(Account.id)
        .where(cond)
        .order_by(Account.next_poll_at, Account.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    stmt = (
        update(Account)
        .where(Account.id == pick.c.id, cond)
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(*RETURNED)
    )
    async with engine.begin() as conn:
        rows = list(await conn.execute(stmt))
    return sorted((_row(r) for r in rows), key=lambda c: c.id)


def _row(r: Any) -> ClaimedAccount:
    return ClaimedAccount(
        id=r.id,
        official_id=r.official_id,
        platform=Platform(r.platform),
        handle=r.handle,
        url=r.url,
        platform_id=r.platform_id,
        options=dict(r.options or {}),
        validators=dict(r.http_validators or {}),
        poll_interval_s=r.poll_interval_s,
        consecutive_failures=r.consecutive_failures or 0,
    )


async def release_accounts(engine: AsyncEngine, *, owner: str, account_ids: list[int]) -> None:
    """Give back leases without polling (e.g. on shutdown), so others need not wait."""
    if not account_ids:
        return
    async with engine.begin() as conn:
        await conn.execute(
            update(Account)
            .where(Account.id.in_(account_ids), Account.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
