"""What a found version shows: its post, account and official, its evidence event, names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.detect.state import text_hash
from bot.store.models import Account, EventRow, Official, Post, PostVersion
from bot.store.search.index import version_time

#: Ids per query when loading many versions (SQLite allows 32,766 parameters).
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Hit:
    """A found version with its post, account and official, as answers show it."""

    version_id: int
    version: int
    versions: int
    text: str
    at: datetime
    post_id: int
    platform_post_id: str
    url: str | None
    published_at: datetime | None
    edited: bool
    deleted: bool
    account_id: int
    platform: str
    handle: str
    official_id: int
    name: str
    name_ru: str | None
    name_kk: str | None
    name_en: str | None


def _hit_columns() -> tuple[Any, ...]:
    return (
        PostVersion.id, PostVersion.version, Post.versions, PostVersion.text, version_time(),
        Post.id, Post.platform_post_id, Post.url, Post.published_at, Post.edited, Post.deleted,
        Account.id, Account.platform, Account.handle, Official.id, Official.name,
        Official.name_ru, Official.name_kk, Official.name_en,
    )  # fmt: skip


async def load_hits(conn: AsyncConnection, version_ids: Sequence[int]) -> list[Hit]:
    """The versions ``version_ids`` with what shows them, in the order given."""
    found: dict[int, Hit] = {}
    for lo in range(0, len(version_ids), CHUNK):
        chunk = list(version_ids[lo : lo + CHUNK])
        stmt = (
            select(*_hit_columns())
            .join(Post, Post.id == PostVersion.post_id)
            .join(Account, Account.id == Post.account_id)
            .join(Official, Official.id == Account.official_id)
            .where(PostVersion.id.in_(chunk))
        )
        for row in await conn.execute(stmt):
            values: tuple[Any, ...] = tuple(row)
            found[values[0]] = Hit(*values)
    return [found[v] for v in version_ids if v in found]


async def version_texts(conn: AsyncConnection, version_ids: Sequence[int]) -> dict[int, str]:
    """Version id -> its text."""
    out: dict[int, str] = {}
    for lo in range(0, len(version_ids), CHUNK):
        chunk = list(version_ids[lo : lo + CHUNK])
        stmt = select(PostVersion.id, PostVersion.text).where(PostVersion.id.in_(chunk))
        out.update({int(v): str(body or "") for v, body in await conn.execute(stmt)})
    return out


async def evidence_events(conn: AsyncConnection, hits: Sequence[Hit]) -> dict[int, int]:
    """Version id -> the event that announced it (or its post's new_post event), if any."""
    own: dict[int, str] = {}
    first: dict[int, str] = {}
    for hit in hits:
        new_post = f"{hit.account_id}:new_post:{hit.platform_post_id}"[:300]
        first[hit.version_id] = new_post
        own[hit.version_id] = (
            new_post
            if hit.version == 1
            else f"{hit.account_id}:post_edited:{hit.platform_post_id}:{text_hash(hit.text)}"[:300]
        )
    keys = sorted(set(own.values()) | set(first.values()))
    if not keys:
        return {}
    stmt = select(EventRow.dedup_key, EventRow.id).where(EventRow.dedup_key.in_(keys))
    ids = {key: event_id for key, event_id in await conn.execute(stmt)}
    out: dict[int, int] = {}
    for version_id in own:
        event_id = ids.get(own[version_id]) or ids.get(first[version_id])
        if event_id is not None:
            out[version_id] = event_id
    return out


@dataclass(frozen=True, slots=True)
class OfficialName:
    """An official's names (``bot.names.localized_name`` picks one)."""

    id: int
    name: str
    name_ru: str | None
    name_kk: str | None
    name_en: str | None


async def official_names(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, OfficialName]:
    """The names of officials ``ids``."""
    out: dict[int, OfficialName] = {}
    for lo in range(0, len(ids), CHUNK):
        stmt = select(
            Official.id, Official.name, Official.name_ru, Official.name_kk, Official.name_en
        ).where(Official.id.in_(list(ids[lo : lo + CHUNK])))
        for row in await conn.execute(stmt):
            out[row[0]] = OfficialName(*row)
    return out
