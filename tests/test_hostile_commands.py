"""Hostile chat commands: oversized, malformed, SQL-looking, from non-editors and other teams.

Every command gets an answer (never an exception), a refused one changes no row but the
audit log, and an editor-only command is refused before its arguments are looked at.
Forged Slack signatures and Telegram webhook calls without the secret are refused by the
adapters (tests/test_slack_http.py, tests/test_telegram_e2e.py); here the same guarantee
is checked for the command layer every adapter shares.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.commands.auth import editor_key
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.reply import Caller, render_plain
from bot.store.engine import Database
from bot.store.models import (
    Account,
    AuditLog,
    Base,
    Chat,
    Editor,
    Official,
    Setting,
    Subscription,
    Watchlist,
    WatchlistMember,
)
from tests.crash_summary import Tally

EDITOR_TEAM, EDITOR_USER = "T0HOME", "U0EDIT"
SETTINGS = load_settings(
    None,
    telegram={"editors": [1001]},
    slack={"editors": [f"{EDITOR_TEAM}:{EDITOR_USER}"]},
    i18n={"default_locale": "en"},
)
WATCHED = (Official, Account, Watchlist, WatchlistMember, Subscription, Setting, Editor)

MALFORMED = [
    "",
    "/",
    "//",
    "/ watch",
    '/watch add "Dana Omarova telegram dana_ch',  # unbalanced quote
    "/watch add 'Dana' \"",
    "/subscribe \x00\x01\x02",
    "/official \u202eavoramO anaD",
    "/top " + "x" * 100_000,
    "/" + "a" * 10_000,
    "/report " + " ".join(["kz"] * 5000),
    "/top\n/watch add x telegram y",
    "/subscribe all all all all all all all all",
    "/lang xx",
    "/digest daily 25:99",
    "/digest daily 99999999999999999999:00",
    "/silent -5",
    "/silent 999999999999999999999",
    "/top telegram followers 99999999999d",
    "/chart x 0d",
    "/official #99999999999999999999",
    "/official #²",
    "/unsubscribe =99999999999999999999",
]
SQLISH = [
    "/official '; DROP TABLE officials; --",
    "/official x' OR '1'='1",
    "/subscribe ' OR 1=1 --",
    "/silent 7 '; DELETE FROM accounts; --",
    '/report "; TRUNCATE events; --"',
    "/top telegram followers 7d %",
    "/official %",
    "/official _",
]
EDITOR_ONLY = [
    '/watch add "Dana Omarova" telegram dana_ch',
    "/watch remove telegram dana_ch",
    "/watchlist create hijack",
    "/watchlist add kz-government Dana",
    "/watchlist delete kz-government",
    "/settings kz-government silent_after 1",
    "/editor add 666",
    "/editor add T0OTHER:U0EVIL",
]


async def _counts(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in WATCHED
        }


async def _seed(db: Database) -> None:
    async with db.sessions() as session:
        official = Official(slug="dana", name="Dana Omarova", search_key="dana omarova")
        official.accounts.append(Account(platform="telegram", handle="dana_ch"))
        watchlist = Watchlist(name="kz-government", title="Government")
        session.add_all([official, watchlist])
        await session.flush()
        session.add(WatchlistMember(watchlist_id=watchlist.id, official_id=official.id))
        await session.commit()


def _telegram(user: int = 2002, chat: int = 2002, kind: str = "private") -> Caller:
    return Caller(
        backend="telegram",
        user_id=str(user),
        chat_id=str(chat),
        chat_kind=kind,  # type: ignore[arg-type]
        language_hint="en",
    )


def _slack(team: str, user: str) -> Caller:
    return Caller(backend="slack", user_id=user, chat_id="D0DM", team_id=team, language_hint="en")


@pytest.mark.parametrize("text", [*MALFORMED, *SQLISH], ids=range(len(MALFORMED) + len(SQLISH)))
async def test_malformed_and_sql_looking_commands_get_an_answer(
    text: str, database: Database, crash_tally: Tally
) -> None:
    await _seed(database)
    service = CommandService(db=database, settings=SETTINGS)
    before = await _counts(database)
    reply = render_plain(await service.handle(_telegram(), text))
    assert reply.strip()
    assert "Traceback" not in reply
    assert len(reply) < 20_000  # the answer does not echo 100 kB back
    after = await _counts(database)
    # Only a subscription of the caller's own private chat may appear, nothing else.
    assert {k: v for k, v in after.items() if k != "subscriptions"} == {
        k: v for k, v in before.items() if k != "subscriptions"
    }
    async with database.sessions() as session:
        names = [t for (t,) in (await session.execute(select(Official.name))).all()]
    assert names == ["Dana Omarova"]
    crash_tally.refusal()


@pytest.mark.parametrize(
    "who",
    [
        "telegram_user",
        "telegram_group_admin",
        "slack_user",
        "slack_editor_id_in_other_team",
        "console_without_editor",
    ],
)
async def test_non_editors_cannot_edit(who: str, database: Database, crash_tally: Tally) -> None:
    await _seed(database)
    caller = {
        "telegram_user": _telegram(),
        "telegram_group_admin": Caller(
            backend="telegram",
            user_id="3003",
            chat_id="-100123",
            chat_kind="group",
            is_chat_admin=True,
            language_hint="en",
        ),
        "slack_user": _slack(EDITOR_TEAM, "U0NOBODY"),
        # The editor's user id, but in another workspace: a different person.
        "slack_editor_id_in_other_team": _slack("T0OTHER", EDITOR_USER),
        "console_without_editor": Caller(backend="console", user_id="console", chat_id="c"),
    }[who]
    service = CommandService(db=database, settings=SETTINGS)
    before = await _counts(database)
    for text in EDITOR_ONLY:
        reply = render_plain(await service.handle(caller, text))
        assert await _counts(database) == before, (text, reply)
        assert "editor" in reply.lower(), reply
        crash_tally.refusal()
    async with database.sessions() as session:
        denied = (await session.scalars(select(AuditLog).where(AuditLog.action == "denied"))).all()
    assert [d.user_id for d in denied] == [editor_key(caller)] * len(EDITOR_ONLY)


async def test_the_real_editor_still_can(database: Database) -> None:
    """Control: the same command from the configured editor does change the store."""
    await _seed(database)
    service = CommandService(db=database, settings=SETTINGS)
    reply = render_plain(await service.handle(_slack(EDITOR_TEAM, EDITOR_USER), EDITOR_ONLY[2]))
    async with database.sessions() as session:
        names = set((await session.scalars(select(Watchlist.name))).all())
    assert "hijack" in names, reply


async def test_group_members_cannot_change_the_groups_subscriptions(
    database: Database, crash_tally: Tally
) -> None:
    await _seed(database)
    service = CommandService(db=database, settings=SETTINGS)
    member = Caller(
        backend="telegram", user_id="4004", chat_id="-100555", chat_kind="group", language_hint="en"
    )
    for text in ["/subscribe all", "/unsubscribe all", "/lang kk", "/digest daily 09:00"]:
        await service.handle(member, text)
        crash_tally.refusal()
    async with database.sessions() as session:
        subs = await session.scalar(select(func.count()).select_from(Subscription))
        chat = (await session.scalars(select(Chat).where(Chat.external_id == "-100555"))).first()
    assert subs == 0
    assert chat is None or (chat.locale in (None, "en") and chat.digest == "off")


def test_every_watched_table_is_a_model() -> None:
    assert all(model.__tablename__ in Base.metadata.tables for model in WATCHED)
