"""Which chats get which events: subscriptions, watchlists, mutes and inactive chats.

Keyword subscriptions (``/subscribe all words: тариф``) are decided from the event's text:
they receive only the new posts and edits (of the kinds they asked for) whose text
matches their words; an edit matches when its new text does, whether or not the old one
did (the figures of a post about tariffs changing is news to whoever follows tariffs).
A chat gets one delivery per event however many of its subscriptions want it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.detect.keywords import KeywordIndex, Query, stored_query
from bot.domain import OPERATOR_EVENTS, EventKind
from bot.store.models import (
    Chat,
    KeywordSubscription,
    Mute,
    Subscription,
    Watchlist,
    WatchlistMember,
)

PENDING = "pending"
DIGEST = "digest"
#: The only kinds a keyword subscription can receive: events whose payload has the text.
KEYWORD_KINDS = frozenset({EventKind.NEW_POST.value, EventKind.POST_EDITED.value})


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
class KeywordSub:
    """One keyword subscription of an active chat (its words live in the index)."""

    id: int
    chat_id: int
    target_type: str
    target_id: int
    kinds: frozenset[str]
    mode: str


@dataclass(frozen=True, slots=True)
class WatchlistRules:
    """A watchlist's overrides of the ``[detect]`` thresholds."""

    id: int
    silent_after_s: int | None
    follower_change_percent: float | None
    follower_change_min: int | None


class KeywordRules:
    """Keyword subscriptions compiled for the fanout: one index of all their words and,
    per target, the bits of the subscriptions that cover it, so only those are matched."""

    __slots__ = ("_all", "_official", "_watchlist", "index", "subs")

    def __init__(self, rules: Iterable[tuple[KeywordSub, Query]] = ()) -> None:
        self.subs: list[KeywordSub] = []
        queries: list[tuple[int, Query]] = []
        self._all = 0
        self._official: dict[int, int] = {}
        self._watchlist: dict[int, int] = {}
        for sub, query in rules:
            bit = 1 << len(self.subs)
            queries.append((len(self.subs), query))
            self.subs.append(sub)
            if sub.target_type == "all":
                self._all |= bit
            else:
                table = self._official if sub.target_type == "official" else self._watchlist
                table[sub.target_id] = table.get(sub.target_id, 0) | bit
        self.index = KeywordIndex(queries)

    def __len__(self) -> int:
        return len(self.subs)

    def matching(
        self, official_id: int | None, lists: Iterable[int], kind: str, text: str
    ) -> list[KeywordSub]:
        """The subscriptions covering the official whose words ``text`` matches."""
        among = self._all | self._official.get(official_id if official_id is not None else -1, 0)
        for watchlist_id in lists:
            among |= self._watchlist.get(watchlist_id, 0)
        found = (self.subs[n] for n in self.index.matching(text, among))
        return [sub for sub in found if kind in sub.kinds]


@dataclass(slots=True)
class Fanout:
    """The subscriptions that matter for a batch of officials, ready to match events."""

    subs: list[Sub] = field(default_factory=list)
    watchlists_of: dict[int, list[WatchlistRules]] = field(default_factory=dict)
    muted: set[tuple[int, int]] = field(default_factory=set)
    keywords: KeywordRules = field(default_factory=KeywordRules)
    #: False for ``load_fanout(deferred=True)``: the watchlists only, and no ``targets``.
    complete: bool = True

    def targets(
        self, official_id: int | None, kind: EventKind | str, text: str | None = None
    ) -> list[tuple[int, str]]:
        """``(chat_id, delivery status)`` for every chat that should get this event.

        ``text`` is the post's (new) text for ``new_post`` and ``post_edited``: keyword
        subscriptions get the event only when it matches their words.
        """
        if not self.complete:
            # a deferred fanout knows no subscriber: answering "nobody" would lose alerts
            raise RuntimeError("the subscriptions of this fanout were not loaded")
        kind = str(kind)
        lists = {w.id for w in self.watchlists_of.get(official_id or -1, ())}
        wanting = [
            (sub.chat_id, sub.mode)
            for sub in self.subs
            if _matches(sub, official_id, lists) and sub.wants(kind)
        ]
        if text and kind in KEYWORD_KINDS and len(self.keywords):
            found = self.keywords.matching(official_id, lists, kind, text)
            wanting += [(sub.chat_id, sub.mode) for sub in found]
        chosen: dict[int, str] = {}
        for chat_id, mode in wanting:
            if official_id is not None and (chat_id, official_id) in self.muted:
                continue
            # one delivery per chat; an immediate subscription wins over a digest one
            if chosen.get(chat_id) != PENDING:
                chosen[chat_id] = DIGEST if mode == "digest" else PENDING
        return sorted(chosen.items())


def outbox_row(event_id: int, chat_id: int, status: str, at: datetime) -> dict[str, Any]:
    """The ``deliveries`` row queueing event ``event_id`` for chat ``chat_id``."""
    return {
        "event_id": event_id,
        "chat_id": chat_id,
        "status": status,
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


def _matches(sub: Sub, official_id: int | None, lists: set[int]) -> bool:
    if sub.target_type == "all":
        return True
    if sub.target_type == "official":
        return sub.target_id == official_id
    return sub.target_type == "watchlist" and sub.target_id in lists


# -- the queries, built once (SQLAlchemy reuses their compiled form) ------------------


@cache
def _subs_select() -> Select[Any]:
    return (
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


@cache
def _keywords_select() -> Select[Any]:
    return (
        select(
            KeywordSubscription.id,
            KeywordSubscription.chat_id,
            KeywordSubscription.target_type,
            KeywordSubscription.target_id,
            KeywordSubscription.words,
            KeywordSubscription.event_kinds,
            KeywordSubscription.mode,
        )
        .join(Chat, Chat.id == KeywordSubscription.chat_id)
        .where(Chat.active.is_(True))
        .order_by(KeywordSubscription.id)
    )


@cache
def _watchlists_select() -> Select[int, int, int | None, float | None, int | None]:
    return (
        select(
            WatchlistMember.official_id,
            Watchlist.id,
            Watchlist.silent_after_s,
            Watchlist.follower_change_percent,
            Watchlist.follower_change_min,
        )
        .join(Watchlist, Watchlist.id == WatchlistMember.watchlist_id)
        .where(WatchlistMember.official_id.in_(bindparam("ids", expanding=True)))
    )


@cache
def _mutes_select() -> Select[int, int]:
    return select(Mute.chat_id, Mute.official_id).where(
        Mute.official_id.in_(bindparam("ids", expanding=True)),
        or_(Mute.until.is_(None), Mute.until > bindparam("now", type_=Mute.until.type)),
    )


async def load_fanout(
    conn: AsyncConnection,
    official_ids: Iterable[int],
    *,
    now: datetime,
    deferred: bool = False,
    watchlists_of: dict[int, list[WatchlistRules]] | None = None,
) -> Fanout:
    """Subscriptions of active chats, plus watchlists and mutes of ``official_ids``.

    ``deferred``: the watchlists alone (what detection needs), marked incomplete; the write
    of a batch with events loads the rest in its transaction (``bot.store.observe_events``),
    passing the ``watchlists_of`` already read. A poll batch without events then costs one
    query here instead of four.
    """
    ids = sorted(set(official_ids))
    if deferred:
        return Fanout(watchlists_of=await _watchlists(conn, ids) if ids else {}, complete=False)
    out = Fanout()
    rows = await conn.execute(_subs_select())
    out.subs = [
        Sub(r.chat_id, r.target_type, r.target_id, frozenset(r.event_kinds or ()), r.mode)
        for r in rows
    ]
    await _load_keywords(conn, out)
    if not ids:
        return out
    if watchlists_of is None:
        out.watchlists_of = await _watchlists(conn, ids)
    else:
        wanted = set(ids)
        out.watchlists_of = {k: v for k, v in watchlists_of.items() if k in wanted}
    if out.subs or len(out.keywords):
        mutes = await conn.execute(_mutes_select(), {"ids": ids, "now": now})
        out.muted = {(r.chat_id, r.official_id) for r in mutes}
    return out


async def _load_keywords(conn: AsyncConnection, out: Fanout) -> None:
    """Keyword subscriptions of active chats, compiled into one index (words re-read
    from their stored form, so a refined normaliser applies to old subscriptions too)."""
    rows = await conn.execute(_keywords_select())
    found = tuple(
        (r.id, r.chat_id, r.target_type, r.target_id, tuple(r.words or ()),
         tuple(r.event_kinds or ()), r.mode)
        for r in rows
    )  # fmt: skip
    if _compiled and _compiled[0][0] == found:
        out.keywords = _compiled[0][1]  # nothing changed since the last batch
        return
    rules = []
    for sub_id, chat_id, target_type, target_id, words, event_kinds, mode in found:
        query = stored_query(words)
        kinds = frozenset(event_kinds or KEYWORD_KINDS) & KEYWORD_KINDS
        if query is not None and kinds:
            sub = KeywordSub(sub_id, chat_id, target_type, target_id, kinds, mode)
            rules.append((sub, query))
    out.keywords = KeywordRules(rules)
    _compiled[:] = [(found, out.keywords)]


#: The keyword rules compiled last and the rows they were compiled from: every poll batch
#: loads the fanout, and recompiling 1,000 subscriptions would cost each one ~10 ms.
_compiled: list[tuple[tuple[Any, ...], KeywordRules]] = []


async def _watchlists(conn: AsyncConnection, ids: list[int]) -> dict[int, list[WatchlistRules]]:
    rows = await conn.execute(_watchlists_select(), {"ids": ids})
    found: dict[int, list[WatchlistRules]] = defaultdict(list)
    for r in rows:
        found[r.official_id].append(
            WatchlistRules(r.id, r.silent_after_s, r.follower_change_percent, r.follower_change_min)
        )
    return dict(found)
