"""/tz: a chat sets its own time zone, and times shown there name their zone (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.commands.service import CommandService
from bot.config import load_settings
from bot.notify.render import render_event
from bot.reply import Caller, render_plain
from bot.store.engine import Database
from bot.store.models import Account, AuditLog, Chat, EventRow, Official

NOW = datetime(2026, 5, 5, 12, 54, tzinfo=UTC)


def _caller(uid: int, *, chat: int | None = None, admin: bool = False) -> Caller:
    return Caller(
        backend="telegram",
        user_id=str(uid),
        chat_id=str(chat if chat is not None else uid),
        chat_kind="private" if chat is None else "group",
        is_chat_admin=admin,
        language_hint="en",
    )


def _service(database: Database, db_url: str) -> CommandService:
    settings = load_settings(None, database={"url": db_url}, i18n={"timezone": "Asia/Almaty"})
    return CommandService(db=database, settings=settings, services={"clock": lambda: NOW})


async def _zone_of(database: Database, external_id: str) -> str | None:
    async with database.sessions() as session:
        chat = (await session.scalars(select(Chat).where(Chat.external_id == external_id))).one()
        return chat.timezone


async def test_tz_alone_shows_the_bot_default(database: Database, db_url: str) -> None:
    reply = render_plain(await _service(database, db_url).handle(_caller(7), "/tz"))
    assert reply.startswith(
        "This chat uses the bot's time zone: Asia/Almaty. "
        "It is May 5, 2026, 17:54 (Asia/Almaty) here now."
    )
    assert "/tz Area/City" in reply


async def test_tz_sets_the_chat_zone_and_alerts_show_it(database: Database, db_url: str) -> None:
    service = _service(database, db_url)
    reply = render_plain(await service.handle(_caller(7), "/tz europe/moscow"))
    assert reply == (
        "This chat's time zone is now Europe/Moscow: alerts, reports and digests show times "
        "in it. It is May 5, 2026, 15:54 (Europe/Moscow) there now."
    )
    assert await _zone_of(database, "7") == "Europe/Moscow"
    shown = render_plain(await service.handle(_caller(7), "/tz"))
    assert shown.startswith("This chat's time zone: Europe/Moscow. It is May 5, 2026, 15:54")
    async with database.sessions() as session:
        audit = (await session.scalars(select(AuditLog).where(AuditLog.action == "tz"))).one()
    assert audit.target == "Europe/Moscow"
    # the relay renders a chat's alerts in the chat's zone: the time names it
    event = EventRow(id=1, account_id=3, official_id=2, kind="new_post", occurred_at=NOW,
                     payload={"platform": "telegram", "handle": "chan", "text": "hi"},
                     dedup_key="k")  # fmt: skip
    alert = render_event(
        event,
        official=Official(id=2, slug="o", name="Someone", search_key=""),
        account=Account(id=3, official_id=2, platform="telegram", handle="chan"),
        locale="en",
        tz=await _zone_of(database, "7"),
    )
    assert "May 5, 2026, 15:54 (Europe/Moscow)" in render_plain(alert)


async def test_tz_refuses_an_unknown_zone(database: Database, db_url: str) -> None:
    service = _service(database, db_url)
    reply = render_plain(await service.handle(_caller(7), "/tz Mars/Olympus"))
    assert reply.startswith('I don\'t know the time zone "Mars/Olympus".')
    assert await _zone_of(database, "7") is None
    for bad in ("/tz Asia", "/tz Asia Almaty"):
        assert "Area/City" in render_plain(await service.handle(_caller(7), bad))
    assert await _zone_of(database, "7") is None


async def test_tz_default_gives_the_bot_zone_back(database: Database, db_url: str) -> None:
    service = _service(database, db_url)
    await service.handle(_caller(7), "/tz UTC")
    assert await _zone_of(database, "7") == "UTC"
    reply = render_plain(await service.handle(_caller(7), "/tz default"))
    assert reply == "This chat uses the bot's time zone again: Asia/Almaty."
    assert await _zone_of(database, "7") is None


async def test_in_groups_only_admins_set_the_zone(database: Database, db_url: str) -> None:
    service = _service(database, db_url)
    refused = render_plain(await service.handle(_caller(7, chat=-100), "/tz Europe/Moscow"))
    assert "administrators" in refused
    assert await _zone_of(database, "-100") is None
    # like /digest, the whole command is the admins' in a group
    await service.handle(_caller(8, chat=-100, admin=True), "/tz Europe/Moscow")
    assert await _zone_of(database, "-100") == "Europe/Moscow"


async def test_help_lists_tz(database: Database, db_url: str) -> None:
    reply = render_plain(await _service(database, db_url).handle(_caller(7), "/help"))
    assert "/tz — this chat's time zone" in reply


async def test_a_digest_names_the_zone_of_its_times(database: Database, db_url: str) -> None:
    from bot.notify.digest import DigestQueue

    settings = load_settings(None, database={"url": db_url}, i18n={"timezone": "Asia/Almaty"})
    queue = DigestQueue(db=database, settings=settings, backends={})
    chat = Chat(backend="telegram", external_id="7", locale="en", digest="daily",
                timezone="Europe/Moscow")  # fmt: skip
    reply = queue.compose(chat, [], NOW)
    assert reply.summary == "Daily digest, May 5, 2026 (Europe/Moscow)"
