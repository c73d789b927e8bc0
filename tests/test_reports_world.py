"""A small, fully known world for report tests: officials, accounts, history and posts.

Rows are inserted through the real models. ``build_world`` returns the ids by name so
tests can assert exact orderings and counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.names import search_key
from bot.store.engine import Database
from bot.store.models import (
    Account,
    AccountState,
    Official,
    Post,
    Snapshot,
    Watchlist,
    WatchlistMember,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class Acc:
    platform: str
    handle: str
    #: (days before NOW, followers); the last one is the current value.
    history: list[tuple[float, int]] = field(default_factory=list)
    #: days before NOW of each post
    posts: list[float] = field(default_factory=list)
    status: str = "ok"
    last_ok_days: float | None = 0.0
    degraded: bool = False
    missing: bool = False
    exact: bool = True
    fetched: bool = True
    #: The stored reason of a failed or absent fetch (default "network").
    reason: str | None = None
    #: Failed fetches in a row (Account.consecutive_failures).
    failures: int = 0


@dataclass
class Off:
    name: str
    accounts: list[Acc] = field(default_factory=list)
    watchlists: list[str] = field(default_factory=list)
    name_ru: str | None = None
    position: str | None = None


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def build_world(db: Database, officials: list[Off]) -> dict[str, int]:
    """Insert the world; returns {official name: id} and {"platform:handle": account id}."""
    ids: dict[str, int] = {}
    async with db.sessions() as session, session.begin():
        lists: dict[str, Watchlist] = {}
        for spec in officials:
            for wl in spec.watchlists:
                if wl not in lists:
                    lists[wl] = Watchlist(name=wl, title=wl.upper())
                    session.add(lists[wl])
        await session.flush()
        for index, spec in enumerate(officials):
            official = Official(
                slug=f"o{index}",
                name=spec.name,
                name_ru=spec.name_ru,
                search_key=search_key([spec.name, spec.name_ru]),
                position=spec.position,
            )
            session.add(official)
            await session.flush()
            ids[spec.name] = official.id
            for wl in spec.watchlists:
                session.add(WatchlistMember(watchlist_id=lists[wl].id, official_id=official.id))
            for acc in spec.accounts:
                account = Account(
                    official_id=official.id,
                    platform=acc.platform,
                    handle=acc.handle,
                    url=f"https://example.org/{acc.handle}",
                    consecutive_failures=acc.failures,
                )
                session.add(account)
                await session.flush()
                ids[f"{acc.platform}:{acc.handle}"] = account.id
                await _history(session, account.id, acc)
    return ids


async def _history(session: object, account_id: int, acc: Acc) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    snaps = [
        {"account_id": account_id, "observed_at": ago(d), "followers": f, "followers_exact": True}
        for d, f in acc.history
    ]
    if snaps:
        await session.execute(insert(Snapshot), snaps)
    posts = [
        {
            "account_id": account_id,
            "platform_post_id": str(i),
            "url": f"https://example.org/{acc.handle}/{i}",
            "published_at": ago(d),
            "text": f"post {i} of {acc.handle}",
            "first_seen_at": ago(d),
            "last_seen_at": ago(0),
        }
        for i, d in enumerate(acc.posts)
    ]
    if posts:
        await session.execute(insert(Post), posts)
    if not acc.fetched:
        return
    first_seen = ago(max([d for d, _ in acc.history] or [30]))
    last_post = ago(min(acc.posts)) if acc.posts else None
    session.add(
        AccountState(
            account_id=account_id,
            status=acc.status,
            first_seen_at=first_seen,
            observed_at=ago(0),
            last_ok_at=ago(acc.last_ok_days) if acc.last_ok_days is not None else None,
            followers=acc.history[-1][1] if acc.history else None,
            followers_exact=acc.exact if acc.history else None,
            last_post_at=last_post,
            degraded=acc.degraded,
            missing=acc.missing,
            reason=None if acc.status == "ok" else acc.reason or "network",
        )
    )


def cabinet() -> list[Off]:
    """Six ministers in "gov" plus one official outside it."""
    return [
        Off("Aigerim Bekova", [
            Acc("telegram", "bekova", [(40, 1000), (8, 1100), (1, 1500)], posts=[0.5, 2, 3]),
            Acc("bluesky", "bekova.bsky", [(40, 200), (1, 210)], posts=[10]),
        ], ["gov"], name_ru="Айгерим Бекова", position="Minister of Culture"),
        Off("Dana Omarova", [
            Acc("telegram", "omarova", [(40, 5000), (8, 5000), (1, 5050)], posts=[20, 30, 40]),
        ], ["gov"], name_ru="Дана Омарова"),
        Off("Erlan Sadykov", [
            Acc("telegram", "sadykov", [(40, 3000), (8, 2000), (1, 2600)], posts=[1]),
        ], ["gov"]),
        Off("Marat Zhumabaev", [
            Acc("telegram", "zhumabaev", [(40, 900), (1, 900)], posts=[15],
                status="unknown", last_ok_days=10, degraded=True),
        ], ["gov"]),
        Off("Nurlan Abenov", [
            Acc("bluesky", "abenov.bsky", [(3, 100), (1, 160)], posts=[1, 2]),
        ], ["gov"]),
        Off("Saule Tokayeva", [], ["gov"]),
        Off("Outsider Person", [
            Acc("telegram", "outsider", [(40, 99999), (1, 100000)], posts=[0.1]),
        ], []),
    ]  # fmt: skip
