"""The command layer end to end on a real database: lookups, auth, audit, languages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.commands.parsing import split_command
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.names import search_key
from bot.reply import Caller, Reply, render_plain
from bot.store.engine import Database
from bot.store.models import (
    Account,
    AuditLog,
    Chat,
    Editor,
    Mute,
    Official,
    Subscription,
    Watchlist,
    WatchlistMember,
)
from bot.store.officials import find_officials

EDITOR_ID = 1001


def _settings(db_url: str, **extra: Any) -> Settings:
    return load_settings(None, database={"url": db_url}, telegram={"editors": [EDITOR_ID]}, **extra)


def user(
    uid: int = 7,
    *,
    chat: int | None = None,
    kind: str = "private",
    admin: bool = False,
    lang: str | None = "en",
) -> Caller:
    return Caller(
        backend="telegram",
        user_id=str(uid),
        chat_id=str(chat if chat is not None else uid),
        chat_kind=kind,  # type: ignore[arg-type]
        is_chat_admin=admin,
        language_hint=lang,
    )


EDITOR = user(EDITOR_ID)


async def _official(
    db: Database, name: str, *, name_ru: str | None = None, slug: str | None = None
) -> Official:
    async with db.sessions() as session:
        official = Official(
            slug=slug or name.lower().replace(" ", "-"),
            name=name,
            name_ru=name_ru,
            search_key=search_key([name, name_ru]),
        )
        session.add(official)
        await session.commit()
        return official


@pytest.fixture
async def service(database: Database, db_url: str) -> CommandService:
    return CommandService(db=database, settings=_settings(db_url))


def text(reply: Reply) -> str:
    return render_plain(reply)


async def count(db: Database, model: Any) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("raw", "name", "args"),
    [
        ("/top growth 7d", "top", ["growth", "7d"]),
        ("top", "top", []),
        ("/Subscribe@govwatch_bot all", "subscribe", ["all"]),
        (
            '/watch add "Dana Omarova" telegram dana_ch',
            "watch",
            ["add", "Dana Omarova", "telegram", "dana_ch"],
        ),
        ("/official «Дана Омарова»", "official", ["Дана Омарова"]),
        ('/official "unbalanced', "official", ["unbalanced"]),
        ("   ", "", []),
    ],
)
def test_split_command(raw: str, name: str, args: list[str]) -> None:
    assert split_command(raw) == (name, args)


async def test_start_creates_the_chat_in_the_users_language(
    service: CommandService, database: Database
) -> None:
    reply = await service.handle(user(5, lang="kk"), "/start")
    assert "Сәлеметсіз бе" in text(reply)
    assert "/subscribe" in text(reply)
    assert "/watch " not in text(reply)  # editor commands are not offered to readers
    async with database.sessions() as session:
        chat = (await session.scalars(select(Chat))).one()
    assert (chat.backend, chat.external_id, chat.locale) == ("telegram", "5", "kk")
    again = await service.handle(user(5, lang="en"), "/help")
    assert "/top" in text(again)
    assert "рейтинг" in text(again)
    assert await count(database, Chat) == 1


async def test_unknown_command_and_unsupported_language_default(service: CommandService) -> None:
    reply = await service.handle(user(6, lang="de"), "/frobnicate")
    assert "/frobnicate" in text(reply)
    assert "/help" in text(reply)
    assert "Я не знаю" in text(reply)  # default locale is ru


async def test_lang_switches_the_chat(service: CommandService, database: Database) -> None:
    assert "English" in text(await service.handle(user(), "/lang en"))
    assert "қазақша" in text(await service.handle(user(), "/lang kk"))
    assert "Қолданылуы" in text(await service.handle(user(), "/lang xx"))
    assert "Жазылымдар" in text(
        await service.handle(user(), "/subscriptions")
    ) or "жазылым" in text(await service.handle(user(), "/subscriptions"))
    async with database.sessions() as session:
        actions = (await session.scalars(select(AuditLog.action))).all()
    assert list(actions) == ["lang", "lang"]


@pytest.mark.parametrize("query", ["Aimagambetov", "аймагамбетов", "AIMAG", "Askhat Aim", "Асхат"])
async def test_forgiving_lookup(database: Database, query: str) -> None:
    await _official(database, "Askhat Aimagambetov", name_ru="Асхат Аймагамбетов")
    await _official(database, "Dana Omarova", name_ru="Дана Омарова")
    async with database.sessions() as session:
        found = await find_officials(session, query)
    assert [o.name for o in found] == ["Askhat Aimagambetov"]


async def test_lookup_by_id_slug_and_ambiguity(database: Database) -> None:
    a = await _official(database, "Dana Omarova")
    await _official(database, "Dana Omarbekova")
    await _official(database, "Serik Dana")
    async with database.sessions() as session:
        assert [o.id for o in await find_officials(session, f"#{a.id}")] == [a.id]
        assert [o.id for o in await find_officials(session, "dana-omarova")] == [a.id]
        assert len(await find_officials(session, "dana")) == 3
        assert len(await find_officials(session, "Dana Omar")) == 2
        assert [o.id for o in await find_officials(session, "omarova dana")] == [a.id]
        assert await find_officials(session, "nobody") == []
        assert await find_officials(session, "%") == []


async def test_subscribe_to_an_official_by_partial_name(
    service: CommandService, database: Database
) -> None:
    dana = await _official(database, "Dana Omarova", name_ru="Дана Омарова")
    reply = await service.handle(user(), "/subscribe омарова posts")
    assert "Dana Omarova" in text(reply)
    async with database.sessions() as session:
        sub = (await session.scalars(select(Subscription))).one()
    assert (sub.target_type, sub.target_id, sub.mode) == ("official", dana.id, "immediate")
    assert sub.event_kinds == ["new_post", "post_edited", "post_deleted"]
    # Subscribing again updates the kinds instead of adding a row.
    await service.handle(user(), "/subscribe Dana followers_up")
    async with database.sessions() as session:
        subs = (await session.scalars(select(Subscription))).all()
    assert [s.event_kinds for s in subs] == [["followers_up"]]


async def test_ambiguous_name_offers_choices_as_buttons(
    service: CommandService, database: Database
) -> None:
    a = await _official(database, "Dana Omarova")
    b = await _official(database, "Dana Omarbekova")
    reply = await service.handle(user(), "/subscribe Dana new_post")
    actions = [button.action for row in reply.buttons for button in row]
    assert sorted(actions) == sorted(
        [f"cmd:/subscribe #{a.id} new_post", f"cmd:/subscribe #{b.id} new_post"]
    )
    assert await count(database, Subscription) == 0
    chosen = await service.handle_action(user(), f"cmd:/subscribe #{b.id} new_post")
    assert "Dana Omarbekova" in text(chosen)
    assert await count(database, Subscription) == 1


async def test_subscribe_all_watchlist_and_unsubscribe(
    service: CommandService, database: Database
) -> None:
    async with database.sessions() as session:
        session.add(Watchlist(name="kz-government"))
        await session.commit()
    await service.handle(user(), "/subscribe all")
    await service.handle(user(), "/subscribe kz-government digest")
    listing = await service.handle(user(), "/subscriptions")
    assert "all officials" in text(listing)
    assert "kz-government" in text(listing)
    assert len(listing.buttons) == 2
    async with database.sessions() as session:
        subs = {
            (s.target_type, s.mode) for s in (await session.scalars(select(Subscription))).all()
        }
    assert subs == {("all", "immediate"), ("watchlist", "digest")}
    assert "Unsubscribed" in text(await service.handle(user(), "/unsubscribe all"))
    drop = listing.buttons[1][0].action
    assert drop.startswith("unsub:s:")
    await service.handle_action(user(), drop)
    assert await count(database, Subscription) == 0
    assert "no subscriptions" in text(await service.handle(user(), "/subscriptions"))


async def test_bad_arguments_get_a_usage_line(service: CommandService, database: Database) -> None:
    for command in ("/subscribe", "/unsubscribe", "/lang", "/lang ru kk"):
        assert "Usage:" in text(await service.handle(user(), command)), command
    for command in ("/watch", "/watch frob a b c", "/watchlist create", "/settings x y", "/editor"):
        assert "Usage:" in text(await service.handle(EDITOR, command)), command
    reply = await service.handle(user(), "/subscribe nobody-at-all")
    assert "couldn't find" in text(reply)


async def test_group_subscriptions_need_a_group_admin(
    service: CommandService, database: Database
) -> None:
    member = user(7, chat=-100, kind="group")
    admin = user(8, chat=-100, kind="group", admin=True)
    refused = await service.handle(member, "/subscribe all")
    assert "administrators" in text(refused)
    assert await count(database, Subscription) == 0
    assert "/top" not in text(refused)
    # Reading is open to everyone in the group.
    assert "administrators" not in text(await service.handle(member, "/subscriptions"))
    await service.handle(admin, "/subscribe all")
    assert await count(database, Subscription) == 1
    async with database.sessions() as session:
        audit = [
            (a.action, a.user_id)
            for a in (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
        ]
    assert audit == [("denied", "7"), ("subscribe", "8")]


async def test_non_editor_is_refused_before_arguments_and_nothing_changes(
    service: CommandService, database: Database
) -> None:
    for command in (
        "/watch add Dana telegram dana_channel",
        "/watch",
        "/settings",
        "/editor add 5",
        "/watchlist create x",
        "/watchlist add x y",
    ):
        reply = await service.handle(user(), command)
        assert "only editors" in text(reply), command
        assert "Usage" not in text(reply)
    assert await count(database, Official) == 0
    assert await count(database, Watchlist) == 0
    async with database.sessions() as session:
        actions = set((await session.scalars(select(AuditLog.action))).all())
    assert actions == {"denied"}
    assert "There are no watchlists" in text(await service.handle(user(), "/watchlist list"))


async def test_editor_watch_add_and_remove(service: CommandService, database: Database) -> None:
    dana = await _official(database, "Dana Omarova")
    reply = await service.handle(EDITOR, "/watch add Omarova telegram https://t.me/dana_channel")
    assert "Dana Omarova" in text(reply)
    assert "dana_channel" in text(reply)
    new = await service.handle(EDITOR, '/watch add "Serik New" bluesky serik.bsky.social')
    assert "new official" in text(new)
    async with database.sessions() as session:
        accounts = {
            (a.platform, a.handle): a for a in (await session.scalars(select(Account))).all()
        }
        assert accounts[("telegram", "dana_channel")].official_id == dana.id
        assert accounts[("telegram", "dana_channel")].url == "https://t.me/dana_channel"
        serik = (await session.scalars(select(Official).where(Official.name == "Serik New"))).one()
        assert serik.slug == "serik-new"
        assert "serik" in serik.search_key
    taken = await service.handle(EDITOR, "/watch add Serik telegram dana_channel")
    assert "already belongs to Dana Omarova" in text(taken)
    bad = await service.handle(EDITOR, "/watch add Dana telegram 'not a handle!'")
    assert "didn't work" in text(bad)
    gone = await service.handle(EDITOR, "/watch remove Dana telegram dana_channel")
    assert "Stopped watching" in text(gone)
    async with database.sessions() as session:
        account = (
            await session.scalars(select(Account).where(Account.handle == "dana_channel"))
        ).one()
        assert account.enabled is False
        actions = list((await session.scalars(select(AuditLog.action).order_by(AuditLog.id))).all())
    assert actions == ["watch_add", "watch_add", "watch_remove"]


async def test_editors_added_in_chat(service: CommandService, database: Database) -> None:
    assert "only editors" in text(await service.handle(user(42), "/watchlist create kz"))
    assert "is now an editor" in text(await service.handle(EDITOR, "/editor add 42"))
    assert "Created watchlist kz" in text(
        await service.handle(user(42), "/watchlist create kz Cabinet")
    )
    listing = await service.handle(EDITOR, "/editor list")
    assert "1001" in text(listing)
    assert "42" in text(listing)
    await service.handle(EDITOR, "/editor remove 42")
    assert await count(database, Editor) == 0
    assert "only editors" in text(await service.handle(user(42), "/watchlist delete kz"))


async def test_watchlists_and_settings(service: CommandService, database: Database) -> None:
    await _official(database, "Dana Omarova")
    await service.handle(EDITOR, "/watchlist create kz-gov Government")
    assert "already exists" in text(await service.handle(EDITOR, "/watchlist create KZ-gov"))
    assert "Added Dana Omarova" in text(
        await service.handle(EDITOR, "/watchlist add kz-gov omarova")
    )
    listing = await service.handle(user(), "/watchlist list")
    assert "kz-gov" in text(listing)
    assert "1" in text(listing)
    assert "Dana Omarova" in text(await service.handle(user(), "/watchlist list kz-gov"))
    assert await count(database, WatchlistMember) == 1
    done = await service.handle(EDITOR, "/settings kz-gov silent_after 10d")
    assert "silent_after" in text(done)
    await service.handle(EDITOR, "/settings kz-gov follower_change_percent 2,5")
    async with database.sessions() as session:
        wl = (await session.scalars(select(Watchlist))).one()
        assert (wl.silent_after_s, wl.follower_change_percent) == (864000, 2.5)
    shown = await service.handle(EDITOR, "/settings")
    assert "silent_after = 10\u00a0days" in text(shown)
    assert "silent_after = 7\u00a0days" in text(shown)
    await service.handle(EDITOR, "/settings kz-gov silent_after default")
    assert "Usage" in text(await service.handle(EDITOR, "/settings kz-gov silent_after soon"))
    async with database.sessions() as session:
        assert (await session.scalars(select(Watchlist))).one().silent_after_s is None
    await service.handle(EDITOR, "/watchlist remove kz-gov Dana")
    assert await count(database, WatchlistMember) == 0


async def test_mute_button_and_unmute(service: CommandService, database: Database) -> None:
    dana = await _official(database, "Dana Omarova")
    await service.handle(user(), "/subscribe all")
    reply = await service.handle_action(user(), f"mute:{dana.id}")
    assert "Dana Omarova" in text(reply)
    assert await count(database, Mute) == 1
    # The unsubscribe button of an alert that came through "all" offers muting.
    offer = await service.handle_action(user(), f"unsub:o:{dana.id}")
    assert offer.buttons
    assert offer.buttons[0][0].action == f"mute:{dana.id}"
    assert "Muted" in text(await service.handle(user(), "/subscriptions"))
    await service.handle_action(user(), f"unmute:{dana.id}")
    assert await count(database, Mute) == 0


async def test_hostile_names_stay_plain_text(service: CommandService, database: Database) -> None:
    await _official(database, '<b>&</b><a href="x">', slug="hostile")
    reply = await service.handle(user(), "/subscribe hostile")
    assert '<b>&</b><a href="x">' in text(reply)


async def test_report_commands_are_registered(service: CommandService) -> None:
    names = [name for name, _ in service.command_menu("ru")]
    for name in ("top", "silent", "official", "report", "subscribe", "lang"):
        assert name in names
    kazakh = service.command_menu("kk")
    assert [name for name, _ in kazakh] == names
    assert all(description for _, description in kazakh)
