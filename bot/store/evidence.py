"""The read queries of ``/evidence`` and ``govwatch evidence``: finding a stored post and
everything kept about it (versions with their fragments, the events, the last sighting).

Nothing here touches chats, subscriptions or deliveries: what is returned is public (an
official's post as the platform served it), so any chat may be given it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import EventKind
from bot.store.models import Account, AccountState, EventRow, Official, Post, PostVersion

#: The events that are about one post (their payload names it as ``post_id``).
POST_EVENTS = (EventKind.NEW_POST.value, EventKind.POST_EDITED.value, EventKind.POST_DELETED.value)
#: Posts offered as choices at most (a link or id matching more is not worth listing).
MAX_MATCHES = 10
#: The columns of a :class:`PostRef`, as one statement selects them.
_PostRows = Select[int, int, int, str, str, str, str | None, datetime | None]
#: How long before its publication an event about a post can be dated (clocks lie).
_EVENT_SLACK = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A watched account, enough to match a link against it."""

    id: int
    official_id: int
    platform: str
    handle: str
    url: str | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class PostRef:
    """A stored post that a link or id matched."""

    id: int
    account_id: int
    official_id: int
    platform: str
    handle: str
    platform_post_id: str
    url: str | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One row of ``post_versions``, as stored."""

    version: int
    text: str
    raw: str | None
    raw_sha256: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    views: int | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event about the post."""

    id: int
    kind: str
    occurred_at: datetime
    detected_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredPost:
    """Everything the store keeps about one post, for its evidence file."""

    id: int
    platform_post_id: str
    url: str | None
    published_at: datetime | None
    text: str
    views: int | None
    edited: bool
    deleted: bool
    deleted_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    is_reply: bool
    is_repost: bool
    forwarded_from: str | None
    text_hash: str | None
    account: AccountRef
    official_name: str
    official_names: dict[str, str]
    official_position: str | None
    official_organisation: str | None
    versions: tuple[StoredVersion, ...]
    events: tuple[StoredEvent, ...]
    #: ``account_state.extra["window_at"]``: when a page last showed the window, or None.
    window_at: str | None
    #: ``account_state.extra["window"][post id]`` when the post is in the window, else None.
    window_entry: tuple[Any, ...] | None


def _account_ref(row: Account) -> AccountRef:
    return AccountRef(row.id, row.official_id, row.platform, row.handle, row.url, row.enabled)


async def accounts_named(
    session: AsyncSession, platform: str, handles: Sequence[str]
) -> list[AccountRef]:
    """Accounts on ``platform`` whose handle (case ignored) or platform id is in ``handles``."""
    wanted = sorted({h.lower() for h in handles if h})
    if not wanted:
        return []
    named = or_(func.lower(Account.handle).in_(wanted), Account.platform_id.in_(sorted(handles)))
    stmt = select(Account).where(Account.platform == platform, named).order_by(Account.id)
    return [_account_ref(a) for a in (await session.scalars(stmt)).all()]


async def accounts_on(session: AsyncSession, platforms: Sequence[str]) -> list[AccountRef]:
    """Every account (enabled or not) on one of ``platforms``."""
    stmt = select(Account).where(Account.platform.in_(list(platforms))).order_by(Account.id)
    return [_account_ref(a) for a in (await session.scalars(stmt)).all()]


async def official_accounts(session: AsyncSession, official_id: int) -> list[AccountRef]:
    """Every account of one official."""
    stmt = select(Account).where(Account.official_id == official_id).order_by(Account.id)
    return [_account_ref(a) for a in (await session.scalars(stmt)).all()]


def _posts() -> _PostRows:
    return select(
        Post.id, Post.account_id, Account.official_id, Account.platform, Account.handle,
        Post.platform_post_id, Post.url, Post.published_at,
    ).join(Account, Account.id == Post.account_id)  # fmt: skip


async def _refs(session: AsyncSession, stmt: _PostRows) -> list[PostRef]:
    rows = await session.execute(stmt.order_by(Post.id).limit(MAX_MATCHES + 1))
    return [PostRef(*row) for row in rows.all()]


async def posts_with_id(
    session: AsyncSession,
    post_id: str,
    *,
    account_ids: Sequence[int] | None = None,
    platform: str | None = None,
) -> list[PostRef]:
    """Stored posts whose platform id is ``post_id``, of ``account_ids`` or on ``platform``."""
    stmt = _posts().where(Post.platform_post_id == post_id)
    if account_ids is not None:
        stmt = stmt.where(Post.account_id.in_(list(account_ids)))
    if platform is not None:
        stmt = stmt.where(Account.platform == platform)
    return await _refs(session, stmt)


async def posts_with_link(
    session: AsyncSession, account_ids: Sequence[int], links: Sequence[str]
) -> list[PostRef]:
    """Stored posts of ``account_ids`` whose link (or id, for feed guids) is one of ``links``."""
    if not account_ids or not links:
        return []
    candidates = list(links)
    stmt = _posts().where(
        Post.account_id.in_(list(account_ids)),
        or_(Post.url.in_(candidates), Post.platform_post_id.in_(candidates)),
    )
    return await _refs(session, stmt)


async def post_by_row(session: AsyncSession, post_row_id: int) -> list[PostRef]:
    """The stored post with row id ``post_row_id`` (a list of one, or empty)."""
    if not 0 < post_row_id < 2**63:
        return []
    return await _refs(session, _posts().where(Post.id == post_row_id))


async def event_post(session: AsyncSession, event_id: int) -> tuple[int, str] | None:
    """(account id, post id) of a post event, or None when ``event_id`` is no such event."""
    if not 0 < event_id < 2**63:
        return None
    row = await session.get(EventRow, event_id)
    if row is None or row.kind not in POST_EVENTS or row.account_id is None:
        return None
    post_id = (row.payload or {}).get("post_id")
    return (row.account_id, str(post_id)) if post_id is not None else None


async def load_post(session: AsyncSession, post_row_id: int) -> StoredPost | None:
    """Everything stored about post ``post_row_id`` (its row id), or None."""
    post = await session.get(Post, post_row_id)
    if post is None:
        return None
    account = await session.get(Account, post.account_id)
    assert account is not None  # posts.account_id is a foreign key
    official = await session.get(Official, account.official_id)
    assert official is not None  # accounts.official_id is a foreign key
    state = await session.get(AccountState, account.id)
    extra = (state.extra if state is not None else None) or {}
    window = extra.get("window")
    entry = window.get(post.platform_post_id) if isinstance(window, dict) else None
    window_at = extra.get("window_at")
    names = {k: v for k, v in (("ru", official.name_ru), ("kk", official.name_kk),
             ("en", official.name_en)) if v}  # fmt: skip
    return StoredPost(
        id=post.id, platform_post_id=post.platform_post_id, url=post.url,
        published_at=post.published_at, text=post.text, views=post.views, edited=post.edited,
        deleted=post.deleted, deleted_at=post.deleted_at, first_seen_at=post.first_seen_at,
        last_seen_at=post.last_seen_at, is_reply=post.is_reply, is_repost=post.is_repost,
        forwarded_from=post.forwarded_from, text_hash=post.text_hash,
        account=_account_ref(account), official_name=official.name, official_names=names,
        official_position=official.position, official_organisation=official.organisation,
        versions=await _versions(session, post.id),
        events=await _events(session, post),
        window_at=window_at if isinstance(window_at, str) else None,
        window_entry=tuple(entry) if isinstance(entry, list) else None,
    )  # fmt: skip


async def _versions(session: AsyncSession, post_row_id: int) -> tuple[StoredVersion, ...]:
    stmt = (
        select(PostVersion).where(PostVersion.post_id == post_row_id).order_by(PostVersion.version)
    )
    return tuple(
        StoredVersion(v.version, v.text, v.raw, v.raw_sha256, v.first_seen_at, v.last_seen_at,
                      v.views)
        for v in (await session.scalars(stmt)).all()
    )  # fmt: skip


async def _events(session: AsyncSession, post: Post) -> tuple[StoredEvent, ...]:
    """The account's post events naming this post, oldest first.

    Payloads are not queried by (JSON): the account's post events since shortly before
    the post appeared are read by index and the post id is checked here.
    """
    since = min(filter(None, (post.published_at, post.first_seen_at))) - _EVENT_SLACK
    stmt = (
        select(EventRow)
        .where(
            EventRow.account_id == post.account_id,
            EventRow.kind.in_(POST_EVENTS),
            EventRow.occurred_at >= since,
        )
        .order_by(EventRow.occurred_at, EventRow.id)
    )
    return tuple(
        StoredEvent(e.id, e.kind, e.occurred_at, e.detected_at, dict(e.payload or {}))
        for e in (await session.scalars(stmt)).all()
        if str((e.payload or {}).get("post_id")) == post.platform_post_id
    )


async def has_accounts(session: AsyncSession, platform: str) -> bool:
    """True when at least one account on ``platform`` is (or was) watched."""
    stmt = select(Account.id).where(Account.platform == platform).limit(1)
    return (await session.scalar(stmt)) is not None
