"""The loopback world: a Telegram channel hides its web preview and shows it again, a
Bluesky account hides from logged-out readers. One ``visibility_changed`` each way, and
the hidden posts never become deletions nor the hidden account silent."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
import time_machine
from sqlalchemy import select, update

from bot.commands.service import CommandService
from bot.config import Settings
from bot.names import search_key
from bot.reply import Caller, Table, render_plain
from bot.store.engine import Database
from bot.store.models import AccountState, Delivery, EventRow, Official, Post
from tests.fakes.world import World, hours_ago, seed
from tests.test_poll_scenario import START, Rounds, make_settings

CALLER = Caller(backend="console", user_id="1", chat_id="100")


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    await w.start(("127.0.0.1", "127.0.0.2"))
    try:
        yield w
    finally:
        await w.stop()


async def _payloads(database: Database, kind: str) -> list[dict[str, object]]:
    async with database.sessions() as session:
        stmt = select(EventRow.payload).where(EventRow.kind == kind).order_by(EventRow.id)
        return [dict(p) for p in (await session.scalars(stmt)).all()]


async def test_a_channel_hides_its_preview_and_comes_back(
    database: Database, db_url: str, world: World
) -> None:
    with time_machine.travel(START, tick=True) as traveller:
        channel = world.add_telegram("minister_ch", name="Minister", followers=6_905)
        for h in (3, 2, 1):
            channel.post(f"minister post {h}", at=hours_ago(h))
        ids = await seed(database, [("telegram", "minister_ch")], chats=1)
        rounds = Rounds(database, make_settings(db_url, world), traveller)
        assert await rounds.poll(hours=0) == Counter()  # the baseline

        channel.preview = False
        assert await rounds.poll() == Counter()  # one answer is not yet news
        assert await rounds.poll() == Counter({("minister_ch", "visibility_changed"): 1})
        # Hidden for longer than silent_after (2 days) and for many polls: its posts are
        # out of sight, not deleted, and the account is not silent.
        for _ in range(3):
            assert await rounds.poll(hours=20) == Counter()
        # /silent puts it apart, by name, instead of listing it as silent.
        commands = CommandService(db=database, settings=Settings())
        silent = render_plain(await commands.handle(CALLER, "/silent 2", locale="en"))
        assert "not counted as silent (1): Official minister_ch." in silent
        assert not any(
            isinstance(b, Table) for b in (await commands.handle(CALLER, "/silent 2")).blocks
        )
        channel.post("written while the preview was off")

        channel.preview = True
        # Its posts are read again at once (the post written meanwhile is news); the
        # change itself is announced once a second answer confirms it.
        assert await rounds.poll() == Counter({("minister_ch", "new_post"): 1})
        assert await rounds.poll() == Counter({("minister_ch", "visibility_changed"): 1})
        assert await rounds.poll() == Counter()

    hidden, shown = await _payloads(database, "visibility_changed")
    assert (hidden["before"], hidden["after"], hidden["posts_hidden"]) == (
        "public",
        "preview_off",
        True,
    )
    assert (shown["before"], shown["after"], shown["posts_hidden"]) == (
        "preview_off",
        "public",
        False,
    )
    async with database.sessions() as session:
        deleted = (await session.scalars(select(Post.id).where(Post.deleted))).all()
        state = await session.get(AccountState, ids["minister_ch"])
        kinds = (await session.scalars(select(EventRow.kind))).all()
        sent = (await session.scalars(select(Delivery.event_id))).all()
    assert deleted == []
    assert "post_deleted" not in kinds
    assert "went_silent" not in kinds
    assert state is not None
    assert state.followers == 6_905  # read from the plain page meanwhile
    assert state.visibility == "public"
    assert len(sent) == len(kinds)  # the subscriber to everything got each event once


async def test_a_bluesky_account_hidden_from_logged_out_readers(
    database: Database, db_url: str, world: World
) -> None:
    with time_machine.travel(START, tick=True) as traveller:
        alice = world.add_bluesky("alice.bsky.social", name="Alice", followers=1_200)
        alice.post("alice 1", at=hours_ago(2))
        await seed(database, [("bluesky", "alice.bsky.social")], chats=1)
        rounds = Rounds(database, make_settings(db_url, world), traveller)
        assert await rounds.poll(hours=0) == Counter()

        alice.labels = ["!no-unauthenticated"]
        assert await rounds.poll() == Counter()
        alice.post("alice 2")  # the public API still serves the posts: they are news
        assert await rounds.poll() == Counter(
            {("alice.bsky.social", "visibility_changed"): 1, ("alice.bsky.social", "new_post"): 1}
        )
        alice.labels = []
        await rounds.poll()
        assert await rounds.poll() == Counter({("alice.bsky.social", "visibility_changed"): 1})

    first, second = await _payloads(database, "visibility_changed")
    assert (first["after"], first["posts_hidden"]) == ("logged_in_only", False)
    assert (second["before"], second["after"]) == ("logged_in_only", "public")


async def test_the_card_says_the_channel_is_hidden(
    database: Database, db_url: str, world: World
) -> None:
    with time_machine.travel(START, tick=True) as traveller:
        channel = world.add_telegram("hidden_ch", name="Hidden", followers=300)
        channel.post("a post", at=hours_ago(1))
        await seed(database, [("telegram", "hidden_ch")], chats=0)
        async with database.sessions() as session, session.begin():
            await session.execute(
                update(Official).values(search_key=search_key(["Hidden Channel"]))
            )
        rounds = Rounds(database, make_settings(db_url, world), traveller)
        await rounds.poll(hours=0)
        channel.preview = False
        await rounds.poll()
        await rounds.poll()
        commands = CommandService(db=database, settings=Settings())
        card = render_plain(await commands.handle(CALLER, "/official Hidden Channel", locale="en"))
    assert "turned off its web preview" in card
