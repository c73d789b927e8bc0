"""Which chats get which events: subscriptions, watchlists, mutes and inactive chats."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import OPERATOR_EVENTS, EventKind
from bot.store.models import Chat, Mute, Subscription, Watchlist, WatchlistMember

PENDING = "pending"
DIGEST = "digest"


@dataclass(frozen=True, slots=True)
class Sub:
    """One subscription of an active chat."""

    chat_id: int
    target_type: str
    target_id: int
    kinds: frozenset[str]
    mode: str

    def wants(self, kind: str) -> bool:
        """True when this subscription asks for ``kind``."""
        if not self.kinds:
            return kind not in OPERATOR_EVENTS
        return kind in self.kinds


@dataclass(frozen=True, slots=True)
class WatchlistRules:
    """A watchlist's overrides of the ``[detect]`` thresholds."""

    id: int
    silent_after_s: int | None
    follower_change_percent: float | None
    follower_change_min: int | None


@dataclass(slots=True)
class Fanout:
    """The subscriptions that matter for a batch of officials, ready to match events."""

    subs: list[Sub] = field(default_factory=list)
    watchlists_of: dict[int, list[WatchlistRules]] = field(default_factory=dict)
    muted: set[tuple[int, int]] = field(default_factory=set)

    def targets(self, official_id: int | None, kind: EventKind | str) -> list[tuple[int, str]]:
        """``(chat_id, delivery status)`` for every chat that should get this event."""
        kind = str(kind)
        lists = {w.id for w in self.watchlists_of.get(official_id or -1, ())}
        chosen: dict[int, str] = {}
        for sub in self.subs:
            if not _matches(sub, official_id, lists) or not sub.wants(kind):
                continue
            if official_id is not None and (sub.chat_id, official_id) in self.muted:
                continue
            status = DIGEST if sub.mode == "digest" else PENDING
            # one delivery per chat; an immediate subscription wins over a digest one
            if chosen.get(sub.chat_id) != PENDING:
                chosen[sub.chat_id] = status
        return sorted(chosen.items())


def _matches(sub: Sub, official_id: int | None, lists: set[int]) -> bool:
    if sub.target_type == "all":
        return True
    if sub.target_type == "official":
        return sub.target_id == official_id
    return sub.target_type == "watchlist" and sub.target_id in lists


async def load_fanout(
    conn: AsyncConnection, official_ids: Iterable[int], *, now: datetime
) -> Fanout:
    """Subscriptions of active chats, plus watchlists and mutes of ``official_ids``."""
    ids = sorted(set(official_ids))
    out = Fanout()
    rows = await conn.execute(
        select(
            Subscription.chat_id,
            Subscription.target_type,
            Subscription.target_id,
            Subscription.event_kinds,
            Subscription.mode,
        )
        .join(Chat, Chat.id == Subscription.chat_id)
        .where(Chat.active.is_(True))
    )
    out.subs = [
        Sub(r.chat_id, r.target_type, r.target_id, frozenset(r.event_kinds or ()), r.mode)
        for r in rows
    ]
    if not ids:
        return out
    out.watchlists_of = await _watchlists(conn, ids)
    if out.subs:
        mutes = await conn.execute(
            select(Mute.chat_id, Mute.official_id).where(
                Mute.official_id.in_(ids), or_(Mute.until.is_(None), Mute.until > now)
            )
        )
        out.muted = {(r.chat_id, r.official_id) for r in mutes}
    return out


async def _watchlists(conn: AsyncConnection, ids: list[int]) -> dict[int, list[WatchlistRules]]:
    rows = await conn.execute(
        select(
            WatchlistMember.official_id,
            Watchlist.id,
            Watchlist.silent_after_s,
            Watchlist.follower_change_percent,
            Watchlist.follower_change_min,
        )
        .join(Watchlist, Watchlist.id == WatchlistMember.watchlist_id)
        .where(WatchlistMember.official_id.in_(ids))
    )
    found: dict[int, list[WatchlistRules]] = defaultdict(list)
    for r in rows:
        found[r.official_id].append(
            WatchlistRules(r.id, r.silent_after_s, r.follower_change_percent, r.follower_change_min)
        )
    return dict(found)
