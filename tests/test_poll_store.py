"""Claiming, fan-out and the guarded, idempotent observation write on a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.config import load_settings
from bot.detect import AccountInfo, Rules, detect
from bot.domain import EventKind, Observation, Platform, PostSeen, Status
from bot.poll.claim import claim_accounts
from bot.poll.pipeline import Poller
from bot.poll.writer import BatchWriter
from bot.store.engine import Database
from bot.store.fanout import Fanout, load_fanout
from bot.store.models import (
    Account,
    Chat,
    Delivery,
    EventRow,
    Mute,
    Official,
    Post,
    Subscription,
    Watchlist,
    WatchlistMember,
)
from bot.store.observations import Bookkeeping, PendingWrite, load_states

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def make_accounts(db: Database, n: int, *, due: datetime = NOW) -> list[int]:
    async with db.sessions() as s, s.begin():
        official = Official(slug="o", name="O")
        accounts = [
            Account(
                official=official, platform="bluesky", handle=f"a{i}.bsky.social", next_poll_at=due
            )
            for i in range(n)
        ]
        s.add_all(accounts)
        await s.flush()
        return [a.id for a in accounts]


async def test_claim_respects_leases_due_times_and_expiry(database: Database) -> None:
    ids = await make_accounts(database, 3)
    async with database.sessions() as s, s.begin():
        s.add(Account(official_id=1, platform="bluesky", handle="off.bsky.social", enabled=False))
        s.add(
            Account(
                official_id=1,
                platform="bluesky",
                handle="later.bsky.social",
                next_poll_at=NOW + LEASE,
            )
        )
    kw = {"lease": LEASE, "now": NOW}
    first = await claim_accounts(database.engine, owner="w1", limit=2, **kw)
    second = await claim_accounts(database.engine, owner="w2", limit=5, **kw)
    assert [a.id for a in first] == ids[:2]
    assert [a.id for a in second] == ids[2:]
    assert await claim_accounts(database.engine, owner="w2", limit=5, **kw) == []
    # w1 and w2 crashed: their leases expire and someone else takes the accounts
    later = await claim_accounts(
        database.engine, owner="w3", limit=5, lease=LEASE, now=NOW + LEASE + timedelta(seconds=1)
    )
    assert sorted(a.handle for a in later) == [
        "a0.bsky.social",
        "a1.bsky.social",
        "a2.bsky.social",
        "later.bsky.social",
    ]
    every = await claim_accounts(
        database.engine, owner="w4", limit=9, lease=LEASE, now=NOW + 3 * LEASE, due=False
    )
    assert len(every) == 4  # never the disabled one
    none = await claim_accounts(
        database.engine,
        owner="w5",
        limit=9,
        lease=LEASE,
        now=NOW + 9 * LEASE,
        platforms=[Platform.TELEGRAM],
    )
    assert none == []  # no Telegram accounts; Bluesky ones wait for their own source
    ref = every[0].ref()
    assert ref.platform is Platform.BLUESKY
    assert every[0].info().url.startswith("https://bsky.app/profile/")


async def test_concurrent_claims_never_overlap(database: Database) -> None:
    await make_accounts(database, 60)

    async def claim(owner: str) -> list[int]:
        got: list[int] = []
        for _ in range(4):
            batch = await claim_accounts(
                database.engine, owner=owner, limit=7, lease=LEASE, now=NOW
            )
            assert len(batch) <= 7  # never more than asked for
            got += [a.id for a in batch]
        return got

    results = await asyncio.gather(*(claim(f"w{i}") for i in range(5)))
    flat = [i for r in results for i in r]
    assert len(flat) == len(set(flat))
    assert len(flat) == 60


async def make_audience(db: Database) -> dict[str, int]:
    async with db.sessions() as s, s.begin():
        o1, o2 = Official(slug="o1", name="One"), Official(slug="o2", name="Two")
        wl = Watchlist(name="cabinet")
        s.add_all([o1, o2, wl])
        await s.flush()
        s.add(WatchlistMember(watchlist_id=wl.id, official_id=o1.id))
        chats = {name: Chat(backend="telegram", external_id=name) for name in "ABCDEFGH"}
        chats["D"].active = False
        s.add_all(chats.values())
        await s.flush()
        subs = [
            ("A", "all", 0, [], "immediate"),
            ("B", "official", o1.id, [], "digest"),
            ("C", "watchlist", wl.id, ["new_post"], "immediate"),
            ("D", "all", 0, [], "immediate"),
            ("E", "all", 0, [], "immediate"),
            ("F", "all", 0, [], "immediate"),
            ("G", "all", 0, ["source_degraded"], "immediate"),
            ("H", "all", 0, [], "digest"),
            ("H", "official", o1.id, [], "immediate"),
        ]
        for chat, kind, target, kinds, mode in subs:
            s.add(
                Subscription(
                    chat_id=chats[chat].id,
                    target_type=kind,
                    target_id=target,
                    event_kinds=kinds,
                    mode=mode,
                )
            )
        s.add(Mute(chat_id=chats["E"].id, official_id=o1.id, until=NOW + timedelta(days=1)))
        s.add(Mute(chat_id=chats["F"].id, official_id=o1.id, until=NOW - timedelta(days=1)))
        ids = {name: c.id for name, c in chats.items()}
        ids["o1"], ids["o2"] = o1.id, o2.id
        return ids


async def test_fanout_rules(database: Database) -> None:
    ids = await make_audience(database)
    async with database.engine.connect() as conn:
        fanout = await load_fanout(conn, [ids["o1"], ids["o2"]], now=NOW)

    def names(official: int, kind: EventKind) -> dict[str, str]:
        back = {v: k for k, v in ids.items() if len(k) == 1}
        return {back[c]: status for c, status in fanout.targets(official, kind)}

    assert names(ids["o1"], EventKind.NEW_POST) == {
        "A": "pending",
        "B": "digest",
        "C": "pending",
        "F": "pending",
        "H": "pending",
    }
    assert names(ids["o1"], EventKind.FOLLOWERS_UP) == {
        "A": "pending",
        "B": "digest",
        "F": "pending",
        "H": "pending",
    }
    assert names(ids["o2"], EventKind.NEW_POST) == {
        "A": "pending",
        "E": "pending",
        "F": "pending",
        "H": "digest",
    }
    assert names(ids["o1"], EventKind.SOURCE_DEGRADED) == {"G": "pending"}
    assert len(fanout.watchlists_of[ids["o1"]]) == 1
    assert ids["o2"] not in fanout.watchlists_of


def pending_write(
    account_id: int, official_id: int, owner: str, prev: object, obs: Observation, fanout: Fanout
) -> PendingWrite:
    info = AccountInfo(
        account_id, official_id, Platform.BLUESKY, "a0.bsky.social", "https://bsky.app/profile/a0"
    )
    detection = detect(prev, obs, info=info, rules=Rules())  # type: ignore[arg-type]
    book = Bookkeeping(
        account_id=account_id,
        official_id=official_id,
        owner=owner,
        polled_at=obs.fetched_at,
        next_poll_at=obs.fetched_at + timedelta(minutes=15),
        consecutive_failures=0,
        validators={},
        platform_id="did:plc:x",
    )
    return PendingWrite(book=book, obs=obs, detection=detection, fanout=fanout)


def observation(at: datetime, *posts: PostSeen, followers: int = 1000) -> Observation:
    return Observation(
        Platform.BLUESKY,
        "a0.bsky.social",
        Status.OK,
        at,
        followers=followers,
        followers_exact=True,
        posts=posts,
    )


async def test_write_is_guarded_by_the_lease_and_idempotent(database: Database) -> None:
    ids = await make_audience(database)
    (account_id,) = [a for a in await make_accounts(database, 1)]
    official_id = ids["o1"]
    async with database.sessions() as s, s.begin():
        await s.execute(
            update(Account).where(Account.id == account_id).values(official_id=official_id)
        )
        await s.execute(update(Account).values(lease_owner="me"))
    async with database.engine.connect() as conn:
        fanout = await load_fanout(conn, [official_id], now=NOW)
    writer = BatchWriter(database, batch=10, clock=lambda: NOW)
    p1 = PostSeen("1", None, NOW - timedelta(hours=2), "old")
    first = pending_write(account_id, official_id, "me", None, observation(NOW, p1), fanout)
    assert (await writer.write(first)) is not None
    async with database.engine.connect() as conn:
        prev = (await load_states(conn, [account_id]))[account_id]
    p2 = PostSeen("2", None, NOW, "news")
    second = pending_write(
        account_id,
        official_id,
        "me",
        prev,
        observation(NOW + timedelta(hours=1), p2, p1, followers=2000),
        fanout,
    )
    assert [e.kind for e in second.detection.events] == [EventKind.FOLLOWERS_UP, EventKind.NEW_POST]
    # not ours any more: nothing is written
    assert await writer.write(second) is None
    assert await count(database, EventRow) == 0
    # ours again; the same change written twice (a worker whose lease expired mid-write,
    # or a replay) still gives one event and one delivery per chat
    for _ in range(2):
        async with database.sessions() as s, s.begin():
            await s.execute(update(Account).values(lease_owner="me"))
        await writer.write(second)
    assert await count(database, EventRow) == 2
    assert await count(database, Delivery) == 4 + 5  # A B F H, and C for the new post
    assert await count(database, Post) == 2
    async with database.sessions() as s:
        acc = await s.get(Account, account_id)
    assert acc is not None
    assert acc.lease_owner is None
    assert acc.platform_id == "did:plc:x"
    assert acc.last_status == "ok"


async def count(db: Database, model: type) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_bad_item_does_not_sink_its_batch(database: Database) -> None:
    ids = await make_accounts(database, 3)
    async with database.sessions() as s, s.begin():
        await s.execute(update(Account).values(lease_owner="me"))
    writer = BatchWriter(database, batch=10, clock=lambda: NOW)
    items = [pending_write(i, 1, "me", None, observation(NOW), Fanout()) for i in ids]
    items[1].detection.state.extra["bad"] = {1, 2}  # not JSON: this write must fail
    results = await asyncio.gather(*(writer.write(i) for i in items), return_exceptions=True)
    assert results[0] is not None
    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], Exception)
    assert results[2] is not None
    assert not isinstance(results[2], BaseException)
    async with database.engine.connect() as conn:
        assert sorted(await load_states(conn, ids)) == [ids[0], ids[2]]


@pytest.mark.parametrize("batch", [1, 50])
async def test_writer_batches_many(database: Database, batch: int) -> None:
    ids = await make_accounts(database, 40)
    async with database.sessions() as s, s.begin():
        await s.execute(update(Account).values(lease_owner="me"))
    writer = BatchWriter(database, batch=batch, clock=lambda: NOW)
    p = PostSeen("1", None, NOW, "x")
    results = await asyncio.gather(
        *(writer.write(pending_write(i, 1, "me", None, observation(NOW, p), Fanout())) for i in ids)
    )
    assert all(r is not None and r.posts == 1 for r in results)
    assert await count(database, Post) == 40


async def test_hostile_values_are_stored_safely(database: Database) -> None:
    (account_id,) = await make_accounts(database, 1)
    async with database.sessions() as s, s.begin():
        await s.execute(update(Account).values(lease_owner="me"))
    writer = BatchWriter(database, batch=1, clock=lambda: NOW)
    post = PostSeen(
        "9" * 300, "https://x/" + "a" * 3000, NOW, "nul\x00inside", forwarded_from="f" * 900
    )
    obs = Observation(
        Platform.BLUESKY,
        "a0.bsky.social",
        Status.OK,
        NOW,
        display_name="N" * 900 + "\x00",
        description="d\x00",
        avatar_url="https://a/" + "b" * 3000,
        posts=(post,),
    )
    assert await writer.write(pending_write(account_id, 1, "me", None, obs, Fanout())) is not None
    async with database.sessions() as s:
        stored = (await s.execute(select(Post.text, Post.platform_post_id))).one()
    assert stored.text == "nulinside"
    assert len(stored.platform_post_id) == 200


async def test_watchlist_overrides_pick_the_most_sensitive(database: Database, db_url: str) -> None:
    (account_id,) = await make_accounts(database, 1)
    async with database.sessions() as s, s.begin():
        lists = [
            Watchlist(name="a", silent_after_s=3 * 86400, follower_change_percent=2.0),
            Watchlist(name="b", silent_after_s=5 * 86400, follower_change_min=10),
        ]
        s.add_all(lists)
        await s.flush()
        s.add_all([WatchlistMember(watchlist_id=w.id, official_id=1) for w in lists])
    settings = load_settings(None, database={"url": db_url})
    poller = Poller(database, {}, settings)
    claimed = await poller.claim(5, due=False)
    assert claimed == []  # no sources: nothing to poll
    accounts = await claim_accounts(
        database.engine, owner=poller.owner, limit=5, lease=LEASE, now=NOW
    )
    ctx = await poller.load_context(accounts)
    rules = ctx.rules[1]
    assert rules.silent_after == timedelta(days=3)
    assert rules.change_percent == 2.0
    assert rules.change_min == 10
    assert rules.confirm_polls == settings.detect.confirm_polls
    assert accounts[0].id == account_id
