"""Building events with the payload keys every kind shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.detect.state import AccountInfo
from bot.domain import Event, EventKind


def make_event(
    info: AccountInfo,
    kind: EventKind,
    *,
    occurred_at: datetime,
    key: str,
    url: str | None = None,
    **payload: Any,
) -> Event:
    """An event for ``info`` whose dedup key is ``"<account>:<kind>:<key>"``."""
    base: dict[str, Any] = {
        "platform": info.platform.value,
        "handle": info.handle,
        "url": url or info.url,
        "profile_url": info.url,
    }
    base.update(payload)
    return Event(
        kind=kind,
        account_id=info.id,
        occurred_at=occurred_at,
        dedup_key=f"{info.id}:{kind.value}:{key}"[:300],
        payload=base,
    )
