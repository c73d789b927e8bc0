"""The report commands end to end through the real command service, in all three locales."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from bot.commands.service import CommandService
from bot.config import Settings
from bot.reply import Caller, Reply, Table, render_plain
from bot.reports.charts import ChartCache
from bot.store.engine import Database
from bot.store.models import Chat
from tests.test_reports_world import NOW, Acc, Off, build_world, cabinet

LOCALES = ("ru", "kk", "en")


def service(database: Database, cache: ChartCache | None = None) -> CommandService:
    settings = Settings()
    services: dict[str, object] = {"clock": lambda: NOW, "chart_cache": cache or ChartCache()}
    return CommandService(db=database, settings=settings, services=services)


CALLER = Caller(backend="console", user_id="1", chat_id="100")


async def ask(svc: CommandService, text: str, locale: str = "en") -> Reply:
    return await svc.handle(CALLER, text, locale=locale)


def table_names(reply: Reply, column: int = 1) -> list[str]:
    table = next(b for b in reply.blocks if isinstance(b, Table))
    return [row[column].rstrip(" *~") for row in table.rows]


@pytest.mark.parametrize("locale", LOCALES)
async def test_no_data_is_said_plainly(database: Database, locale: str) -> None:
    svc = service(database)
    for text in ("/top", "/report", "/top growth 7d", "/silent"):
        reply = await ask(svc, text, locale)
        assert not any(isinstance(b, Table) for b in reply.blocks)
        assert len(render_plain(reply).splitlines()) == 1


@pytest.mark.parametrize("locale", LOCALES)
async def test_top_growth_in_every_locale(database: Database, locale: str) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/top 7d growth", locale)
    bekova = "Айгерим Бекова" if locale == "ru" else "Aigerim Bekova"
    assert table_names(reply)[:3] == ["Erlan Sadykov", bekova, "Nurlan Abenov"]
    text = render_plain(reply)
    assert "Saule Tokayeva" in text  # listed as "no data", not ranked
    assert "{" not in text


async def test_top_arguments_any_order_and_watchlist(database: Database) -> None:
    await build_world(database, cabinet())
    svc = service(database)
    a = await ask(svc, "/top gov telegram followers")
    b = await ask(svc, "/top followers gov telegram")
    assert table_names(a) == table_names(b)
    assert "Outsider Person" not in table_names(a)
    assert len(table_names(await ask(svc, "/top 3 growth"))) == 3
    unknown = render_plain(await ask(svc, "/top nosuchlist"))
    assert "nosuchlist" in unknown


async def test_top_chart_is_a_png(database: Database) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/top growth 7d chart")
    assert reply.attachment is not None
    assert reply.attachment.mime == "image/png"
    assert reply.attachment.data.startswith(b"\x89PNG")


@pytest.mark.parametrize("locale", LOCALES)
async def test_report_counts_and_lists(database: Database, locale: str) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/report telegram gov", locale)
    text = render_plain(reply)
    assert "{" not in text
    assert "4" in text
    assert "6" in text
    for name in ("Dana Omarova", "Marat Zhumabaev", "Nurlan Abenov", "Saule Tokayeva"):
        display = {"Dana Omarova": "Дана Омарова"}.get(name, name) if locale == "ru" else name
        assert display in text
    assert table_names(reply, 0)[0] in ("Dana Omarova", "Дана Омарова")


async def test_report_english_sentence(database: Database) -> None:
    await build_world(database, cabinet())
    text = render_plain(await ask(service(database), "/report gov telegram"))
    assert "4 of 6 members have an account on Telegram." in text
    assert "2 of the 6 members posted in the last 7\u00a0days (exactly a third)." in text
    assert "Did not post (1): Dana Omarova." in text
    assert "No account on Telegram (2): Nurlan Abenov, Saule Tokayeva." in text


async def test_report_csv(database: Database) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/report gov csv 30d")
    assert reply.attachment is not None
    assert reply.attachment.mime == "text/csv"
    assert reply.attachment.filename == "report-gov-all-30d.csv"
    lines = io.StringIO(reply.attachment.data.decode("utf-8-sig")).read().splitlines()
    assert len(lines) == 7


@pytest.mark.parametrize("locale", LOCALES)
async def test_official_card(database: Database, locale: str) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/official бекова", locale)
    text = render_plain(reply)
    assert "Minister of Culture" in text
    assert "bekova.bsky" in text
    assert "1" in text
    assert "{" not in text
    assert "+400" in text  # telegram growth over 7 days


async def test_official_ambiguous_and_missing(database: Database) -> None:
    await build_world(database, cabinet())
    svc = service(database)
    several = await ask(svc, "/official a")
    assert several.buttons
    missing = render_plain(await ask(svc, "/official Nobody Known"))
    assert "Nobody Known" in missing
    usage = render_plain(await ask(svc, "/official"))
    assert "/official" in usage


@pytest.mark.parametrize("locale", LOCALES)
async def test_silent(database: Database, locale: str) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/silent 7", locale)
    names = table_names(reply, 0)
    assert names == (["Дана Омарова"] if locale == "ru" else ["Dana Omarova"])
    assert "Marat Zhumabaev" in render_plain(reply)  # unknown, listed apart
    assert "×2" in render_plain(reply)


async def test_chart_official_and_cache(database: Database) -> None:
    await build_world(database, cabinet())
    cache = ChartCache()
    svc = service(database, cache)
    first = await ask(svc, "/chart Bekova 30d")
    assert first.attachment is not None
    assert first.attachment.data.startswith(b"\x89PNG")
    assert len(first.attachment.data) > 10_000
    second = await ask(svc, "/chart Bekova 30d")
    assert second.attachment is not None
    assert second.attachment.data == first.attachment.data
    assert cache.hits == 1


async def test_chart_watchlist_cyrillic(database: Database) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/chart gov 30d", "ru")
    assert reply.attachment is not None
    assert reply.attachment.is_image


async def test_chart_no_history(database: Database) -> None:
    await build_world(database, cabinet())
    reply = await ask(service(database), "/chart Saule")
    assert reply.attachment is None


async def test_digest_settings(database: Database) -> None:
    svc = service(database)
    reply = await ask(svc, "/digest daily 08:30")
    assert "08:30" in render_plain(reply)
    async with database.sessions() as session:
        chat = (await session.scalars(Chat.__table__.select())).first()
    assert chat is not None
    async with database.sessions() as session:
        row = await session.get(Chat, 1)
        assert row is not None
        assert (row.digest, row.digest_time) == ("daily", "08:30")
        assert row.digest_last_sent_at == NOW
    bad = render_plain(await ask(svc, "/digest daily 25:00"))
    assert "/digest" in bad
    off = await ask(svc, "/digest off")
    assert render_plain(off)
    async with database.sessions() as session:
        row = await session.get(Chat, 1)
        assert row is not None
        assert row.digest == "off"


def test_now_is_fixed() -> None:
    assert isinstance(NOW, datetime)


async def test_top_lists_the_first_missing_and_counts_the_rest(database: Database) -> None:
    ranked = [Off(f"Ranked {i}", accounts=[Acc("telegram", f"r{i}", history=[(1, 100 + i)])])
              for i in range(3)]  # fmt: skip
    absent = [Off(f"Absent {i:02d}") for i in range(30)]
    await build_world(database, ranked + absent)
    reply = await ask(service(database), "/top")
    text = render_plain(reply)
    assert table_names(reply) == ["Ranked 2", "Ranked 1", "Ranked 0"]
    # The first 25 by name, then how many more: 30 in all, not 25.
    assert "Absent 00" in text
    assert "Absent 24" in text
    assert "Absent 25" not in text
    assert "and 5 more" in text
