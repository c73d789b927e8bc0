"""/search end to end through the command service: counts, marks, highlights, evidence
buttons, paging, scopes, every locale, and how Telegram and Slack show it."""

from __future__ import annotations

import pytest

from bot.chat.slack_blocks import reply_blocks
from bot.chat.telegram_html import render_html
from bot.commands.search import quoted, snippet, sort_words
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.i18n import LOCALES, t
from bot.reply import Button, Caller, Reply, Span, render_plain
from bot.store.engine import Database
from bot.store.search import parse_query
from tests.search_world import NOW, P, Seeded, seed

CALLER = Caller(backend="telegram", user_id="1", chat_id="100")


def service(database: Database) -> CommandService:
    # English by default, so a pressed button (no locale of its own) answers in English too
    settings = load_settings(None, i18n={"default_locale": "en"})
    return CommandService(db=database, settings=settings, services={"clock": lambda: NOW})


async def ask(svc: CommandService, text: str, locale: str = "en") -> Reply:
    return await svc.handle(CALLER, text, locale=locale)


def plain(reply: Reply) -> str:
    """The reply as the console shows it, no-break spaces as spaces."""
    return render_plain(reply).replace("\u00a0", " ")


def buttons(reply: Reply) -> list[Button]:
    return [b for row in reply.buttons for b in row]


def bold(reply: Reply) -> list[str]:
    return [
        s.text
        for block in reply.blocks
        for line in getattr(block, "lines", ())
        for s in line
        if s.bold
    ]


@pytest.fixture
async def world(database: Database) -> Seeded:
    return await seed(database)


async def test_search_counts_marks_and_highlights(database: Database, world: Seeded) -> None:
    reply = await ask(service(database), "/search газ")
    text = plain(reply)
    assert "4 posts by 3 officials" in text  # a1 counts once for its two versions
    assert "5 texts match" in text
    assert "Askhat Aimagambetov: 1" in text
    assert "edited: text 2 of 2" in text
    assert "earlier text 1 of 2" in text
    assert "Газета" not in text
    assert bold(reply).count("газ") == 5
    assert "Газ" in bold(reply)
    # newest first: the edit (2 days and an hour ago) before the text it replaced
    assert text.index("вырастут с 1 июля") < text.index("останутся прежними")
    assert "Nov 18, 2026, 18:00 (Asia/Almaty)" in text  # the chat's zone, as elsewhere


async def test_deleted_posts_are_found_and_marked(database: Database, world: Seeded) -> None:
    text = plain(await ask(service(database), "/search референдум"))
    assert "Референдумға" in text
    assert text.split("Референдумға")[0].splitlines()[-1].endswith(" · deleted")


async def test_evidence_buttons_name_the_event_or_the_post(
    database: Database, world: Seeded
) -> None:
    reply = await ask(service(database), "/search тариф")
    actions = [b.action for b in buttons(reply)]
    assert f"ev:{world.events['m1']}" in actions
    assert "cmd:/evidence https://example.org/aimagambetov_edu/a3" in actions  # no event
    assert all(len(a.encode()) <= 64 for a in actions)
    assert [b.text for b in buttons(reply)][:2] == ["🧾 1", "🧾 2"]


async def test_pages_go_older_and_newer(database: Database, world: Seeded) -> None:
    many = tuple(P(f"n{i}", "bekova_s", 20 + i, (f"Новый тариф номер {i}.",)) for i in range(25))
    await seed_more(database, world, many)
    svc = service(database)
    first = await ask(svc, "/search тариф")
    assert "Page 1 of 3, newest first." in plain(first)
    older = [b for b in buttons(first) if b.text == "Older ▶"]
    assert [b.action for b in older] == ["cmd:/search тариф page:2"]
    assert not [b for b in buttons(first) if b.text == "◀ Newer"]
    second = await svc.handle_action(CALLER, older[0].action)
    text = plain(second)
    assert "Page 2 of 3" in text
    assert "\n11. " in "\n" + text
    assert "\n21. " not in text
    assert {b.text for b in buttons(second)} >= {"◀ Newer", "Older ▶"}
    last = await ask(svc, "/search тариф page:9")  # past the end: the last page
    assert "Page 3 of 3" in plain(last)
    assert not [b for b in buttons(last) if b.text == "Older ▶"]


async def seed_more(database: Database, world: Seeded, posts: tuple[P, ...]) -> None:
    from tests.search_world import _post

    async with database.engine.begin() as conn:
        for post in posts:
            await _post(conn, world, post)


async def test_a_search_too_long_for_a_button_is_saved(database: Database, world: Seeded) -> None:
    many = tuple(P(f"n{i}", "bekova_s", 20 + i, (f"Новый тариф номер {i}.",)) for i in range(12))
    await seed_more(database, world, many)
    svc = service(database)
    long = "/search тариф -электроэнергию -прежними -референдумы -подпишитесь 30d"
    first = await ask(svc, long)
    older = next(b for b in buttons(first) if b.text == "Older ▶")
    assert older.action.startswith("cmd:/search =")
    assert older.action.endswith(" page:2")
    second = plain(await svc.handle_action(CALLER, older.action))
    assert "Page 2 of 2" in second
    assert "тариф -электроэнергию -прежними -референдумы -подпишитесь" in second
    gone = plain(await ask(svc, "/search =999 page:2"))
    assert gone == t("en", "search.gone")


async def test_scopes_official_watchlist_platform_period(database: Database, world: Seeded) -> None:
    svc = service(database)
    by_name = plain(await ask(svc, "/search газ Айгерим Бекова"))
    assert "2 posts by 1 official" in by_name
    assert "Aigerim Bekova" in by_name
    by_id = plain(await ask(svc, f"/search газ #{world.officials['Aigerim Bekova']}"))
    assert "2 posts by 1 official" in by_id
    listed = plain(await ask(svc, "/search газ kz-government"))
    assert "1 post by 1 official" in listed
    assert "kz-government" in listed
    platform = plain(await ask(svc, "/search тариф facebook"))
    assert "1 post by 1 official" in platform
    assert "Facebook" in platform
    recent = plain(await ask(svc, "/search тариф 30d"))
    assert "3 posts by 2 officials" in recent
    assert "last 30 days" in recent


async def test_a_surname_of_two_officials_asks_which(database: Database, world: Seeded) -> None:
    svc = service(database)
    reply = await ask(svc, "/search газ Бекова")
    choices = [b.action for b in buttons(reply)]
    wanted = f"cmd:/search газ #{world.officials['Saule Bekova']}"
    assert wanted in choices
    chosen = plain(await svc.handle_action(CALLER, wanted))
    assert "1 post by 1 official" in chosen
    assert "Saule Bekova" in chosen


async def test_a_name_alone_is_searched_for(database: Database, world: Seeded) -> None:
    await seed_more(database, world, (P("x1", "bekova_a", 1, ("Встреча с Мусиным.",)),))
    text = plain(await ask(service(database), "/search Мусин"))
    assert "1 post by 1 official" in text
    assert "Aigerim Bekova" in text


async def test_nothing_found_and_nothing_asked(database: Database, world: Seeded) -> None:
    svc = service(database)
    none = plain(await ask(svc, "/search несуществующее 7d"))
    assert none.splitlines()[0] == ("Nothing found for несуществующее (last 7 days).")
    assert plain(await ask(svc, "/search -газ")).startswith("Tell me what to find")
    assert plain(await ask(svc, "/search")).startswith(t("en", "chat.usage_prefix"))


@pytest.mark.parametrize("locale", LOCALES)
async def test_every_locale_speaks_its_language(
    database: Database, world: Seeded, locale: str
) -> None:
    svc = service(database)
    reply = await ask(svc, '/search "цены на газ"', locale)
    text = plain(reply)
    assert "{" not in text
    found = {"en": "2 posts by 2 officials", "ru": "Найдено: 2 поста от 2 чиновников",
             "kk": "Табылды: 2 жазба, авторлары — 2 шенеунік"}[locale]  # fmt: skip
    assert found in text
    assert t(locale, "search.open") in text
    none = plain(await ask(svc, "/search несуществующее", locale))
    assert t(locale, "search.all_time") in none


async def test_telegram_and_slack_show_the_highlight_and_buttons(
    database: Database, world: Seeded
) -> None:
    reply = await ask(service(database), '/search "цены на газ"')
    html = "".join(render_html(reply))
    assert "<b>Цены на газ</b>" in html
    slack = str(reply_blocks(reply))
    assert "*Цены на газ*" in slack
    assert all(len(b.action.encode()) <= 64 for b in buttons(reply))


def test_snippet_centres_the_first_match_and_bolds_every_one() -> None:
    body = "Начало. " + "слово " * 60 + "Цены на газ выросли, а цены на газ в соседних странах нет."
    query = parse_query(["цены на газ"])
    from bot.commands.search import highlights

    line = snippet(body, highlights(body, query), width=120)
    assert line[0] == Span("…")
    assert [s.text for s in line if s.bold] == ["Цены на газ", "цены на газ"]
    assert sum(len(s.text) for s in line) <= 125
    assert snippet("Коротко.", []) == (Span("Коротко."),)


def test_words_are_sorted_into_filters_and_query() -> None:
    request, ref = sort_words(["тариф", "30d", "Telegram", "#12", "page:3", "-реклама"])
    assert request.parts == ["тариф", "-реклама"]
    assert (request.platform, request.page, ref) == ("telegram", 3, "#12")
    assert request.command() == "тариф -реклама 30d telegram"
    assert quoted("цены на газ") == '"цены на газ"'
    assert quoted('a "b" c') == "'a \"b\" c'"


async def test_the_example_in_help_runs(database: Database, world: Seeded) -> None:
    await seed_more(database, world, (P("x2", "bekova_a", 1, ("Цены на газ и тариф.",)),))
    reply = await ask(service(database), t("en", "help.example.search"))
    assert "1 post by 1 official" in plain(reply)


async def test_by_relevance_orders_by_the_score_and_a_button_switches(
    database: Database, world: Seeded
) -> None:
    many = (
        P("r1", "bekova_s", 40, ("Тариф, тарифы и снова тариф: о тарифе.",)),
        P("r2", "bekova_s", 41, ("Сегодня " + "обсуждали разное, " * 8 + "и тариф тоже.",)),
    )
    await seed_more(database, world, many)
    svc = service(database)
    newest = await ask(svc, "/search тариф")
    switch = next(b for b in buttons(newest) if b.text == "⇅ By relevance")
    assert switch.action == "cmd:/search тариф by:relevance"
    ranked = await svc.handle_action(CALLER, switch.action)
    text = plain(ranked)
    first = text.split("\n1. ")[1].split("\n2. ")[0]
    assert "Тариф, тарифы и снова тариф" in first  # three matches, in the lead
    assert text.index("Тариф, тарифы") < text.index("и тариф тоже")  # one match, late
    back = next(b for b in buttons(ranked) if b.text == "⇅ Newest first")
    assert back.action == "cmd:/search тариф"
    same = plain(await ask(svc, "/search by:relevance тариф"))
    assert same == text


async def test_above_the_cap_the_answer_says_more_than(
    database: Database, world: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.commands.search as search_command

    monkeypatch.setattr(search_command, "COUNT_CAP", 3)  # the world has 5 versions with газ
    text = plain(await ask(service(database), "/search газ"))
    assert "More than 3 texts match; the 3 stored last:" in text
    assert "Only the 3 matches stored last are counted and paged." in text
    assert "texts match: earlier versions" not in text  # no exact count it did not make
    assert "\n3. " in "\n" + text
    assert "\n4. " not in "\n" + text
    for locale in ("ru", "kk"):
        local = plain(await ask(service(database), "/search газ", locale=locale))
        assert "3" in local.splitlines()[1]
        assert t(locale, "search.capped", count="3") in local
