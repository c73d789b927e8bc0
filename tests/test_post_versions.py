"""Every version of every post is stored with its fragment; edit and deletion events quote them.

A scripted account is polled through detection and the real write path on each database:
storage grows with changes, not polls, and reposts never become post events.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.detect.state import _spaced_hash
from bot.domain import EventKind, PostSeen
from bot.poll.writer import BatchWriter
from bot.store.engine import Database
from bot.store.fanout import Fanout
from bot.store.models import Account, AccountState, EventRow, Post, PostVersion
from bot.store.observations import load_states
from tests.test_poll_store import NOW, make_accounts, observation, pending_write

OLD = PostSeen("1", "https://bsky.app/p/1", NOW - timedelta(days=3), "an old post", raw='{"id":1}')


def post(pid: str, text: str, *, views: int | None = None, repost: bool = False) -> PostSeen:
    hours = {"2": 30, "3": 20, "r": 1}.get(pid, 10)
    return PostSeen(
        pid,
        f"https://bsky.app/p/{pid}",
        NOW - timedelta(hours=hours),
        text,
        views=views,
        is_repost=repost,
        raw=f'{{"id": "{pid}", "text": "{text}"}}',
    )


class Account1:
    """One account polled again and again through detection and the batch writer."""

    def __init__(self, db: Database, account_id: int) -> None:
        self.db, self.account_id, self.step = db, account_id, 0

    async def poll(self, *posts: PostSeen) -> list[EventKind]:
        self.step += 1
        async with self.db.sessions() as s, s.begin():
            await s.execute(update(Account).values(lease_owner="me"))
        async with self.db.engine.connect() as conn:
            prev = (await load_states(conn, [self.account_id])).get(self.account_id)
        at = NOW + timedelta(minutes=15 * self.step)
        item = pending_write(self.account_id, 1, "me", prev, observation(at, *posts), Fanout())
        writer = BatchWriter(self.db, batch=1, clock=lambda: at)
        assert await writer.write(item) is not None
        return [e.kind for e in item.detection.events if e.kind.value.startswith("post")]


async def versions(db: Database, pid: str) -> list[Any]:
    async with db.sessions() as s:
        rows = await s.execute(
            select(PostVersion)
            .join(Post, Post.id == PostVersion.post_id)
            .where(Post.platform_post_id == pid)
            .order_by(PostVersion.version)
        )
        return list(rows.scalars())


async def payload(db: Database, kind: EventKind) -> dict[str, Any]:
    async with db.sessions() as s:
        row = await s.scalar(select(EventRow).where(EventRow.kind == kind.value))
    assert row is not None
    return dict(row.payload)


def at(step: int) -> str:
    return (NOW + timedelta(minutes=15 * step)).isoformat()


async def test_versions_grow_with_edits_not_polls(database: Database) -> None:
    (account_id,) = await make_accounts(database, 1)
    acc = Account1(database, account_id)
    assert await acc.poll(OLD, post("2", "first words here", views=10)) == []
    for views in (20, 30, 40):  # seen again, whitespace moved, views up: no new version
        assert await acc.poll(OLD, post("2", "first  words\nhere", views=views)) == []
    stored = await versions(database, "2")
    assert [(v.version, v.text) for v in stored] == [(1, "first words here")]
    assert stored[0].raw_sha256 == hashlib.sha256((stored[0].raw or "").encode()).hexdigest()
    assert await acc.poll(OLD, post("2", "rewritten first words here", views=50)) == [
        EventKind.POST_EDITED
    ]
    stored = await versions(database, "2")
    assert [(v.version, v.text) for v in stored] == [
        (1, "first words here"),
        (2, "rewritten first words here"),
    ]
    # the superseded version was last seen on the poll before the edit, with its views
    assert stored[0].last_seen_at.isoformat() == at(4)
    assert stored[0].views == 40
    edit = await payload(database, EventKind.POST_EDITED)
    assert edit["old_text"] == "first words here"
    assert edit["text"] == "rewritten first words here"
    assert edit["version"] == 2
    assert edit["previous_seen_at"] == at(4)


async def test_a_deletion_quotes_the_text_and_when_it_vanished(database: Database) -> None:
    (account_id,) = await make_accounts(database, 1)
    acc = Account1(database, account_id)
    await acc.poll(OLD, post("3", "to be deleted", views=7), post("2", "stays"))
    await acc.poll(OLD, post("3", "to be deleted", views=9), post("2", "stays"))
    assert await acc.poll(OLD, post("2", "stays")) == []  # one miss: not yet confirmed
    assert await acc.poll(OLD, post("2", "stays")) == [EventKind.POST_DELETED]
    gone = await payload(database, EventKind.POST_DELETED)
    assert gone["text"] == "to be deleted"
    assert gone["url"] == "https://bsky.app/p/3"
    assert (gone["last_seen_at"], gone["first_missed_at"]) == (at(2), at(3))
    assert (gone["views"], gone["misses"], gone["versions"]) == (9, 2, 1)
    (only,) = await versions(database, "3")
    assert only.last_seen_at.isoformat() == at(2)
    assert only.views == 9
    async with database.sessions() as s:
        row = await s.scalar(select(Post).where(Post.platform_post_id == "3"))
    assert row is not None
    assert row.deleted


async def test_a_repost_and_its_undoing_raise_nothing(database: Database) -> None:
    (account_id,) = await make_accounts(database, 1)
    acc = Account1(database, account_id)
    await acc.poll(OLD, post("2", "mine"))
    assert await acc.poll(post("r", "someone else's", repost=True), OLD, post("2", "mine")) == []
    for _ in range(3):  # un-reposted: not a deletion
        assert await acc.poll(OLD, post("2", "mine")) == []
    async with database.sessions() as s:
        repost = await s.scalar(select(Post).where(Post.platform_post_id == "r"))
        state = (await load_states(await s.connection(), [account_id]))[account_id]
    assert repost is not None
    assert repost.is_repost  # kept as activity, dated by the repost
    assert await versions(database, "r") == []  # someone else's text is not evidence
    assert state.last_post_at == NOW - timedelta(hours=1)


async def test_a_change_of_spacing_alone_is_no_edit_even_from_an_old_window(
    database: Database,
) -> None:
    (account_id,) = await make_accounts(database, 1)
    acc = Account1(database, account_id)
    await acc.poll(OLD, post("2", "x y ab"))
    # A window stored before hashing ignored all whitespace, by a parser that read list
    # items run together ("ab"); today's parser ends the line there ("a\nb").
    async with database.sessions() as s, s.begin():
        state = await s.get(AccountState, account_id)
        assert state is not None
        window = dict(state.extra["window"])
        window["2"] = [window["2"][0], _spaced_hash("x y ab"), False]
        state.extra = {**state.extra, "window": window}
    assert await acc.poll(OLD, post("2", "x y a\nb")) == [EventKind.POST_EDITED]  # detection
    async with database.sessions() as s:
        assert await s.scalar(select(EventRow).where(EventRow.kind == "post_edited")) is None
    assert [v.text for v in await versions(database, "2")] == ["x y ab"]
    assert await acc.poll(OLD, post("2", "x  y a\nb")) == []  # and it stays quiet
