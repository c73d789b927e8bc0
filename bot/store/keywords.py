"""Watchwords of watchlists, and the words each alert is marked with when it is sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.detect.keywords import AlertWords, Query, stored_query
from bot.store.models import KeywordSubscription, Watchlist, WatchlistMember, WatchlistWords


async def watchwords(session: AsyncSession, watchlist_id: int) -> list[str]:
    """The stored watchwords of one watchlist (empty when it has none)."""
    row = await session.get(WatchlistWords, watchlist_id)
    return [str(w) for w in row.words] if row is not None else []


async def set_watchwords(
    session: AsyncSession, watchlist_id: int, words: Sequence[str], *, updated_by: str
) -> list[str]:
    """Replace a watchlist's watchwords (none clears them); returns the previous ones."""
    row = await session.get(WatchlistWords, watchlist_id)
    old = [str(w) for w in row.words] if row is not None else []
    if not words:
        if row is not None:
            await session.delete(row)
        return old
    if row is None:
        row = WatchlistWords(watchlist_id=watchlist_id)
        session.add(row)
    row.words, row.updated_by = list(words), updated_by
    return old


async def alert_words(
    session: AsyncSession, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], AlertWords]:
    """For each ``(chat_id, official_id)``: the chat's keywords covering the official and
    the watchwords of the official's watchlists (pairs with neither are left out)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    chats = sorted({c for c, _ in wanted})
    officials = sorted({o for _, o in wanted})
    rules = await _keyword_rules(session, chats)
    lists = await _watchlists_of(session, officials)
    words = await _watchwords(session, {w for found in lists.values() for w, _ in found})
    out: dict[tuple[int, int], AlertWords] = {}
    for chat_id, official_id in wanted:
        mine = lists.get(official_id, [])
        ids = {w for w, _ in mine}
        keywords = tuple(
            q
            for kind, target, q in rules.get(chat_id, [])
            if kind == "all"
            or (kind == "official" and target == official_id)
            or (kind == "watchlist" and target in ids)
        )
        marking = tuple((name, words[w]) for w, name in mine if w in words)
        if keywords or marking:
            out[(chat_id, official_id)] = AlertWords(keywords, marking)
    return out


async def _keyword_rules(
    session: AsyncSession, chat_ids: list[int]
) -> dict[int, list[tuple[str, int, Query]]]:
    rows = await session.execute(
        select(
            KeywordSubscription.chat_id,
            KeywordSubscription.target_type,
            KeywordSubscription.target_id,
            KeywordSubscription.words,
        )
        .where(KeywordSubscription.chat_id.in_(chat_ids))
        .order_by(KeywordSubscription.id)
    )
    found: dict[int, list[tuple[str, int, Query]]] = defaultdict(list)
    for chat_id, kind, target, stored in rows:
        query = stored_query(stored or [])
        if query is not None:
            found[chat_id].append((kind, target, query))
    return found


async def _watchlists_of(
    session: AsyncSession, official_ids: list[int]
) -> dict[int, list[tuple[int, str]]]:
    """``official_id -> [(watchlist id, name)]`` by name."""
    rows = await session.execute(
        select(WatchlistMember.official_id, Watchlist.id, Watchlist.name)
        .join(Watchlist, Watchlist.id == WatchlistMember.watchlist_id)
        .where(WatchlistMember.official_id.in_(official_ids))
        .order_by(Watchlist.name)
    )
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for official_id, watchlist_id, name in rows:
        found[official_id].append((watchlist_id, name))
    return found


async def _watchwords(session: AsyncSession, watchlist_ids: set[int]) -> dict[int, Query]:
    if not watchlist_ids:
        return {}
    rows = await session.execute(
        select(WatchlistWords.watchlist_id, WatchlistWords.words).where(
            WatchlistWords.watchlist_id.in_(sorted(watchlist_ids))
        )
    )
    found: dict[int, Query] = {}
    for watchlist_id, stored in rows:
        query = stored_query(stored or [])
        if query is not None:
            found[watchlist_id] = query
    return found
