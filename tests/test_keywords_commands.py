"""Keyword subscriptions and watchwords through the command layer, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.commands.service import CommandService
from bot.detect.keywords import AlertWords
from bot.reply import Reply, render_plain
from bot.store.engine import Database
from bot.store.fanout import PENDING, load_fanout
from bot.store.keywords import alert_words
from bot.store.models import (
    AuditLog,
    Chat,
    KeywordSubscription,
    Subscription,
    Watchlist,
    WatchlistMember,
    WatchlistWords,
)
from tests.test_chat_commands import EDITOR, _official, _settings, user

NOW = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
async def service(database: Database, db_url: str) -> CommandService:
    return CommandService(db=database, settings=_settings(db_url))


def text(reply: Reply) -> str:
    return render_plain(reply)


async def rows(db: Database, model: Any) -> list[Any]:
    async with db.sessions() as session:
        return list(await session.scalars(select(model).order_by(*model.__mapper__.primary_key)))


async def audited(db: Database, action: str) -> list[AuditLog]:
    async with db.sessions() as session:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await session.scalars(stmt)).all())


async def test_subscribe_by_words_is_stored_listed_and_audited(
    service: CommandService, database: Database
) -> None:
    await _official(database, "Bagdat Musin")
    reply = await service.handle(user(), '/subscribe all words: тариф, "цены на газ", -реклама')
    assert text(reply).splitlines()[:3] == [
        "Keyword alerts set: all officials.",
        "Words: тариф, “цены на газ”.",
        "Except posts that have: реклама.",
    ]
    assert "new posts, edited posts" in text(reply)
    (sub,) = await rows(database, KeywordSubscription)
    assert (sub.target_type, sub.target_id, sub.mode) == ("all", 0, "immediate")
    assert sub.words == ["тариф", '"цены на газ"', "-реклама"]
    assert sub.event_kinds == ["new_post", "post_edited"]
    assert await rows(database, Subscription) == []  # not a plain subscription
    (entry,) = await audited(database, "subscribe_words")
    assert entry.target == "all:0"
    assert entry.details["words"] == sub.words

    # The same words again update that row; other words add another.
    again = await service.handle(
        user(), "/subscribe all new_post digest words: ТАРИФ, -реклама, «цены на газ»"
    )
    assert "Keyword alerts updated" in text(again)
    assert "They will come in the digest." in text(again)
    await service.handle(user(), "/subscribe Musin words: бюджет")
    subs = await rows(database, KeywordSubscription)
    assert [(s.target_type, s.event_kinds, s.mode) for s in subs] == [
        ("all", ["new_post"], "digest"),
        ("official", ["new_post", "post_edited"], "immediate"),
    ]

    await service.handle(user(), "/subscribe all posts")
    listing = await service.handle(user(), "/subscriptions")
    assert text(listing).splitlines()[1:4] == [
        "• all officials — new posts, edited posts, deleted posts",
        "• all officials — words: тариф, “цены на газ”; except: реклама"
        " — new posts (in the digest)",
        "• Bagdat Musin — words: бюджет — new posts, edited posts",
    ]
    actions = [b.action for row in listing.buttons for b in row]
    assert actions[1:] == [f"cmd:/unsubscribe words ={s.id}" for s in subs]


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/subscribe all words:", "Write the words after “words:”."),
        ("/subscribe all words: -реклама", "at least one word to look for"),
        ("/subscribe all words: тариф, -тариф", "“тариф” is both looked for and excluded."),
        ("/subscribe all followers words: тариф", "new posts and edits only"),
        ("/subscribe all post_deleted words: тариф", "new posts and edits only"),
        ("/subscribe all digest immediate words: тариф", "Choose one delivery mode"),
        ("/subscribe words: тариф", "Usage:"),
        ("/subscribe Nobody words: тариф", "Nobody"),
    ],
)
async def test_words_that_cannot_be_a_subscription(
    service: CommandService, database: Database, command: str, answer: str
) -> None:
    reply = text(await service.handle(user(), command))
    assert answer in reply
    assert await rows(database, KeywordSubscription) == []


async def test_posts_means_new_posts_and_edits(service: CommandService, database: Database) -> None:
    await service.handle(user(), "/subscribe all posts words: тариф")
    (sub,) = await rows(database, KeywordSubscription)
    assert sub.event_kinds == ["new_post", "post_edited"]


@pytest.mark.parametrize(
    ("lang", "command", "expected"),
    [
        ("ru", "/subscribe all слова: тариф", "Оповещения по словам включены: все чиновники."),
        ("kk", '/subscribe all сөздер: тариф, "газ бағасы"', "Сөздер: тариф, «газ бағасы»."),
        ("en", "/subscribe all words:тариф", "Words: тариф."),
    ],
)
async def test_the_words_clause_in_every_language(
    service: CommandService, database: Database, lang: str, command: str, expected: str
) -> None:
    assert expected in text(await service.handle(user(lang=lang), command))
    assert len(await rows(database, KeywordSubscription)) == 1


async def test_choosing_an_official_keeps_the_words(
    service: CommandService, database: Database
) -> None:
    a = await _official(database, "Dana Omarova")
    b = await _official(database, "Dana Omarbekova")
    reply = await service.handle(user(), "/subscribe Dana words: тариф")
    actions = sorted(b.action for row in reply.buttons for b in row)
    assert actions == [f"cmd:/subscribe #{i} words: тариф" for i in sorted((a.id, b.id))]
    chosen = await service.handle_action(user(), f"cmd:/subscribe #{b.id} words: тариф")
    assert "Dana Omarbekova" in text(chosen)
    (sub,) = await rows(database, KeywordSubscription)
    assert (sub.target_type, sub.target_id, sub.words) == ("official", b.id, ["тариф"])
    # Words too long for a button: no button would keep them, so the reply says what to type.
    long = '"цены на природный газ", "тарифы на электроэнергию"'
    reply = await service.handle(user(), f"/subscribe Dana words: {long}")
    assert reply.buttons == ()
    assert text(reply).splitlines()[1:3] == [
        f"• Dana Omarbekova — #{b.id}",
        f"• Dana Omarova — #{a.id}",
    ]
    assert text(reply).endswith(f"e.g. /subscribe #{b.id} words: {long}")


async def test_unsubscribe_plain_words_and_buttons(
    service: CommandService, database: Database
) -> None:
    official = await _official(database, "Bagdat Musin")
    await service.handle(user(), "/subscribe Musin")
    await service.handle(user(), "/subscribe Musin words: тариф")
    await service.handle(user(), "/subscribe Musin words: бюджет")
    first = text(await service.handle(user(), "/unsubscribe Musin"))
    assert first.splitlines() == [
        "Unsubscribed: Bagdat Musin.",
        "Keyword alerts for Bagdat Musin stay (тариф; бюджет). To drop them too: "
        f"/unsubscribe #{official.id} words",
    ]
    assert await rows(database, Subscription) == []
    listing = await service.handle(user(), "/subscriptions")
    drop = listing.buttons[0][0].action
    assert "Keyword alerts removed: Bagdat Musin (тариф)." in text(
        await service.handle_action(user(), drop)
    )
    assert "no such subscription" in text(await service.handle_action(user(), drop))
    # With nothing but keyword alerts left, "/unsubscribe Musin" means those.
    assert "Keyword alerts removed: Bagdat Musin (бюджет)." in text(
        await service.handle(user(), "/unsubscribe Musin")
    )
    assert "no keyword alerts for Bagdat Musin" in text(
        await service.handle(user(), "/unsubscribe Musin words")
    )
    assert "no subscriptions" in text(await service.handle(user(), "/subscriptions"))
    assert len(await audited(database, "unsubscribe_words")) == 2
    # Another chat's subscription is not this chat's to drop.
    await service.handle(user(8), "/subscribe all words: газ")
    (other,) = await rows(database, KeywordSubscription)
    refused = await service.handle(user(), f"/unsubscribe words ={other.id}")
    assert "no such subscription" in text(refused)
    assert len(await rows(database, KeywordSubscription)) == 1


async def test_a_chat_has_at_most_fifty_keyword_subscriptions(
    service: CommandService, database: Database
) -> None:
    for n in range(50):
        await service.handle(user(), f"/subscribe all words: слово{n}")
    refused = await service.handle(user(), "/subscribe all words: ещё")
    assert "50 keyword alerts" in text(refused)
    assert len(await rows(database, KeywordSubscription)) == 50


async def test_watchwords_are_for_editors_and_audited(
    service: CommandService, database: Database
) -> None:
    official = await _official(database, "Bagdat Musin")
    async with database.sessions() as session:
        watchlist = Watchlist(name="kz-government")
        session.add(watchlist)
        await session.flush()
        session.add(WatchlistMember(watchlist_id=watchlist.id, official_id=official.id))
        await session.commit()
    refused = await service.handle(user(), "/watchlist words kz-government тариф")
    assert "only editors" in text(refused)
    assert [a.target for a in await audited(database, "denied")] == ["/watchlist words"]
    assert await rows(database, WatchlistWords) == []
    shown = await service.handle(user(), "/watchlist words kz-government")
    assert "has no watchwords" in text(shown)

    done = await service.handle(EDITOR, '/watchlist words kz-government тариф, "цены на газ"')
    assert "Watchwords of kz-government: тариф, “цены на газ”." in text(done)
    assert "who gets the alerts does not change" in text(done)
    (row,) = await rows(database, WatchlistWords)
    assert row.words == ["тариф", '"цены на газ"']
    listed = await service.handle(user(8, lang="ru"), "/watchlist list kz-government")
    assert "Слова-метки: тариф, «цены на газ»" in text(listed)
    await service.handle(EDITOR, "/watchlist words kz-government off")
    assert await rows(database, WatchlistWords) == []
    changes = [
        (a.details["old"], a.details["new"]) for a in await audited(database, "watchlist_words")
    ]
    assert changes == [([], ["тариф", '"цены на газ"']), (["тариф", '"цены на газ"'], [])]
    assert "no watchlist" in text(await service.handle(EDITOR, "/watchlist words nope тариф"))


async def test_deleting_a_watchlist_drops_its_keyword_subscriptions_and_watchwords(
    service: CommandService, database: Database
) -> None:
    await service.handle(EDITOR, "/watchlist create cabinet")
    await service.handle(EDITOR, "/watchlist words cabinet тариф")
    await service.handle(user(), "/subscribe cabinet words: газ")
    await service.handle(user(), "/subscribe all words: газ")
    assert len(await rows(database, KeywordSubscription)) == 2
    await service.handle(EDITOR, "/watchlist delete cabinet")
    assert [s.target_type for s in await rows(database, KeywordSubscription)] == ["all"]
    assert await rows(database, WatchlistWords) == []


async def test_fanout_and_marks_from_the_database(
    service: CommandService, database: Database
) -> None:
    musin = await _official(database, "Bagdat Musin")
    tsoy = await _official(database, "Alexey Tsoy")
    await service.handle(EDITOR, "/watchlist create cabinet")
    await service.handle(EDITOR, "/watchlist add cabinet Musin")
    await service.handle(EDITOR, "/watchlist words cabinet бюджет")
    await service.handle(user(1), "/subscribe all words: тариф")
    await service.handle(user(2), "/subscribe cabinet words: газ")
    await service.handle(user(3), "/subscribe all words: тариф")
    async with database.sessions() as session:
        chats = {c.external_id: c.id for c in (await session.scalars(select(Chat))).all()}
        gone = await session.get(Chat, chats["3"])
        assert gone is not None
        gone.active = False  # an inactive chat's keyword subscriptions do not count
        await session.commit()
    async with database.engine.connect() as conn:
        fanout = await load_fanout(conn, [musin.id, tsoy.id], now=NOW)
    assert fanout.targets(musin.id, "new_post", "Тарифы и газ") == [
        (chats["1"], PENDING),
        (chats["2"], PENDING),
    ]
    assert fanout.targets(tsoy.id, "post_edited", "Тарифы и газ") == [(chats["1"], PENDING)]
    assert fanout.targets(tsoy.id, "post_deleted", "Тарифы и газ") == []
    # a mute holds even when the chat has nothing but keyword subscriptions; a new keyword
    # subscription counts at the next load (the compiled rules are reused only unchanged)
    await service.handle(user(2), "/mute Musin")
    await service.handle(user(4), "/subscribe all words: газ")
    async with database.sessions() as session:
        chats = {c.external_id: c.id for c in (await session.scalars(select(Chat))).all()}
    async with database.engine.connect() as conn:
        fanout = await load_fanout(conn, [musin.id, tsoy.id], now=NOW)
    assert fanout.targets(musin.id, "new_post", "Тарифы и газ") == [
        (chats["1"], PENDING),
        (chats["4"], PENDING),
    ]
    await service.handle(user(2), "/unmute Musin")

    async with database.sessions() as session:
        found = await alert_words(
            session, [(chats["1"], musin.id), (chats["2"], tsoy.id), (chats["2"], musin.id)]
        )
    assert set(found) == {(chats["1"], musin.id), (chats["2"], musin.id)}
    marks = found[(chats["2"], musin.id)].marks("Бюджет на газ")
    assert [i.text for i in marks.matched] == ["газ"]
    assert [(name, [i.text for i in items]) for name, items in marks.watch] == [
        ("cabinet", ["бюджет"])
    ]
    assert isinstance(found[(chats["1"], musin.id)], AlertWords)
    async with database.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(KeywordSubscription))
    assert total == 4


async def test_a_migrated_group_keeps_its_keyword_subscriptions(
    service: CommandService, database: Database
) -> None:
    old, new = (
        user(7, chat=-100, kind="group", admin=True),
        user(7, chat=-200, kind="group", admin=True),
    )
    await service.handle(old, "/subscribe all followers")
    await service.handle(old, "/subscribe all words: тариф")
    await service.handle(old, "/subscribe all words: газ")
    await service.handle(new, "/subscribe all words: ТАРИФ")
    assert await service.migrate_chat("telegram", "-100", "-200")
    async with database.sessions() as session:
        chats = {c.id: c.external_id for c in (await session.scalars(select(Chat))).all()}
    found = sorted((chats[s.chat_id], s.words) for s in await rows(database, KeywordSubscription))
    assert found == [("-100", ["тариф"]), ("-200", ["ТАРИФ"]), ("-200", ["газ"])]
    # the plain subscription moved too (the merge used to fail on the chats' unique key)
    assert [chats[s.chat_id] for s in await rows(database, Subscription)] == ["-200"]
