"""A small known archive for search tests: officials, accounts, posts with their versions.

``seed`` writes it through the real models (the version rows get their index terms from
the model's default, as the write path's rows do); posts are named by their platform
post id so tests can assert exactly which ones a search finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.detect.state import text_hash
from bot.names import search_key
from bot.store.engine import Database
from bot.store.models import (
    Account,
    EventRow,
    Official,
    Post,
    PostVersion,
    Watchlist,
    WatchlistMember,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class P:
    """One post: its id, author's account handle, days before NOW, and each text it had."""

    id: str
    account: str
    days: float
    texts: tuple[str, ...]
    deleted: bool = False
    #: Whether the detector announced it (a new_post event, and post_edited per edit).
    announced: bool = True


@dataclass(frozen=True)
class Off:
    """An official and their accounts (platform, handle)."""

    name: str
    name_ru: str
    accounts: tuple[tuple[str, str], ...]
    watchlists: tuple[str, ...] = ()


OFFICIALS = (
    Off("Bagdat Musin", "Багдат Мусин", (("telegram", "musin_digital"),), ("kz-government",)),
    Off(
        "Askhat Aimagambetov",
        "Асхат Аймагамбетов",
        (("telegram", "aimagambetov_edu"), ("facebook", "100021")),
        ("kz-government",),
    ),
    Off("Alexey Tsoy", "Алексей Цой", (("bluesky", "tsoy.bsky.social"),)),
    Off("Aigerim Bekova", "Айгерим Бекова", (("telegram", "bekova_a"),)),
    Off("Saule Bekova", "Сауле Бекова", (("telegram", "bekova_s"),)),
)

POSTS = (
    P("m1", "musin_digital", 1, ("Тарифы на электроэнергию не вырастут до конца года.",)),
    P(
        "a1",
        "aimagambetov_edu",
        2,
        ("Цены на газ останутся прежними.", "Цены на газ вырастут с 1 июля."),
    ),
    P("a2", "100021", 3, ("Мектептерде жаңа тарифтер енгізіледі.",)),
    P("t1", "tsoy.bsky.social", 4, ("Референдумға дайындық басталды.",), deleted=True),
    P("m2", "musin_digital", 5, ("Газета «Егемен Қазақстан» вышла с интервью.",)),
    P("t2", "tsoy.bsky.social", 6, ("Итоги референдума подведены. Реклама: подпишитесь.",)),
    P("b1", "bekova_a", 7, ("Газ на цены не влияет.",)),
    P("m3", "musin_digital", 400, ("Тариф на воду утверждён.",), announced=False),
    P("b2", "bekova_s", 8, ("Цены на бензин и газ выросли.",)),
    P("b3", "bekova_a", 9, ("Цены на газ, а на бензин нет.",)),
    P("b4", "bekova_s", 10, ("Цены на бензин в регионах растут.",)),
    P(
        "a3",
        "aimagambetov_edu",
        11,
        ("Школы готовы к учебному году.", "Школы готовы. Тарифы на питание снижены."),
        announced=False,
    ),
)


@dataclass
class Seeded:
    """Ids by name: officials by name, accounts by handle, posts and versions by post id."""

    officials: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)
    versions: dict[int, str] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)


def ago(days: float) -> datetime:
    """``days`` before NOW."""
    return NOW - timedelta(days=days)


async def seed(
    db: Database, posts: tuple[P, ...] = POSTS, officials: tuple[Off, ...] = OFFICIALS
) -> Seeded:
    """Write the archive; return its ids."""
    out = Seeded()
    async with db.engine.begin() as conn:
        lists: dict[str, int] = {}
        for off in officials:
            official_id = (
                await conn.execute(
                    insert(Official).returning(Official.id),
                    {
                        "slug": off.name.lower().replace(" ", "-"),
                        "name": off.name,
                        "name_ru": off.name_ru,
                        "search_key": search_key([off.name, off.name_ru]),
                    },
                )
            ).scalar_one()
            out.officials[off.name] = official_id
            for platform, handle in off.accounts:
                out.accounts[handle] = (
                    await conn.execute(
                        insert(Account).returning(Account.id),
                        {
                            "official_id": official_id,
                            "platform": platform,
                            "handle": handle,
                            "url": f"https://example.org/{handle}",
                        },
                    )
                ).scalar_one()
            for name in off.watchlists:
                if name not in lists:
                    lists[name] = (
                        await conn.execute(
                            insert(Watchlist).returning(Watchlist.id), {"name": name}
                        )
                    ).scalar_one()
                await conn.execute(
                    insert(WatchlistMember),
                    {"watchlist_id": lists[name], "official_id": official_id},
                )
        for post in posts:
            await _post(conn, out, post)
    return out


async def _post(conn: AsyncConnection, out: Seeded, post: P) -> None:
    account_id = out.accounts[post.account]
    published = ago(post.days)
    last = post.texts[-1]
    post_id = (
        await conn.execute(
            insert(Post).returning(Post.id),
            {
                "account_id": account_id,
                "platform_post_id": post.id,
                "url": f"https://example.org/{post.account}/{post.id}",
                "published_at": published,
                "text": last,
                "edited": len(post.texts) > 1,
                "deleted": post.deleted,
                "first_seen_at": published,
                "last_seen_at": published,
                "deleted_at": ago(post.days - 0.5) if post.deleted else None,
                "text_hash": text_hash(last),
                "versions": len(post.texts),
            },
        )
    ).scalar_one()
    out.posts[post.id] = post_id
    for number, body in enumerate(post.texts, start=1):
        seen = published + timedelta(hours=number - 1)
        version_id = (
            await conn.execute(
                insert(PostVersion).returning(PostVersion.id),
                {
                    "post_id": post_id,
                    "version": number,
                    "text": body,
                    "first_seen_at": seen,
                    "last_seen_at": seen,
                },
            )
        ).scalar_one()
        out.versions[version_id] = post.id if number == 1 else f"{post.id}.v{number}"
        if post.announced:
            edit_key = f"{post.id}:{text_hash(body)}"
            kind, key = ("new_post", post.id) if number == 1 else ("post_edited", edit_key)
            event_id = (
                await conn.execute(
                    insert(EventRow).returning(EventRow.id),
                    {
                        "account_id": account_id,
                        "kind": kind,
                        "payload": {"post_id": post.id},
                        "occurred_at": seen,
                        "detected_at": seen,
                        "dedup_key": f"{account_id}:{kind}:{key}",
                    },
                )
            ).scalar_one()
            out.events[out.versions[version_id]] = event_id
