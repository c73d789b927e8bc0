"""Post languages: lingua on a table of Kazakh, Russian and mixed posts, the background
job that fills ``post_versions.language`` once, and the mix in /official, /report and CSV."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from sqlalchemy import insert, select

from bot.app import App
from bot.cli import main as cli_main
from bot.config import load_settings
from bot.langs import MIXED, UNKNOWN, LanguageIdentifier
from bot.poll.languages import LanguageJob
from bot.reply import render_plain
from bot.reports.cabinet import CSV_COLUMNS
from bot.reports.export import export_csv
from bot.reports.languages import LanguageMix, mix_of
from bot.store.engine import Database
from bot.store.models import Post, PostVersion
from tests.test_reports_commands import ask, service
from tests.test_reports_world import Acc, Off, ago, build_world

KK = (
    "Бүгін Үкімет отырысында білім беру саласын дамыту мәселелері қаралды. Жаңа оқу жылында "
    "елімізде 140 мектепте робототехника кабинеттері ашылады.",
    "Астанада жаңа аурухана салынып жатыр. Құрылыс жұмыстары келесі жылы аяқталады деп "
    "жоспарлануда. #денсаулық https://gov.kz/news/123",
    "Қазақстан Республикасының Президенті Жолдауын жүзеге асыру жөніндегі жалпыұлттық "
    "іс-шаралар жоспары бекітілді.",
    "Ауыл шаруашылығы министрлігі көктемгі егіс науқанына дайындық барысын талқылады.",
)
RU = (
    "Сегодня на заседании Правительства рассмотрены вопросы развития системы образования. "
    "В новом учебном году в 140 школах откроются кабинеты робототехники.",
    "В Астане строится новая больница. Завершить строительство планируется в следующем году. "
    "Подробнее: https://gov.kz/news/123 @minzdrav",
    "Провёл встречу с фермерами Акмолинской области. Обсудили подготовку к весенне-полевым "
    "работам и меры господдержки.",
    "Утверждён общенациональный план мероприятий по реализации Послания Главы государства "
    "народу Казахстана.",
    # Mostly Russian with one Kazakh word: the majority decides, it is not "mixed".
    "Провёл рабочее совещание по вопросам цифровизации государственных услуг и развития "
    "инфраструктуры связи в регионах страны. Құттықтаймын!",
)
MIX = (
    "Бүгін Үкімет отырысында білім беру саласын дамыту мәселелері қаралды, жаңа мектептер "
    "ашылады. Сегодня на заседании Правительства рассмотрены вопросы развития образования, "
    "откроются новые школы.",
    "Құрметті әріптестер, Жаңа жылдарыңызбен құттықтаймын! Дорогие коллеги, поздравляю вас "
    "с Новым годом, желаю здоровья и успехов!",
)
EN = (
    "Today the Minister met with the delegation of the European Union to discuss "
    "cooperation in digital development.",
)
SHORT = (
    "👍👍👍",
    "Привет всем",
    "https://t.me/aimagambetov_edu/137",
    "12.03.2026 #QazaqstanDamu",
    "",
)

TABLE = (
    [("kk", text) for text in KK]
    + [("ru", text) for text in RU]
    + [(MIXED, text) for text in MIX]
    + [("en", text) for text in EN]
    + [(UNKNOWN, text) for text in SHORT]
)

#: One identifier for the whole module: building lingua's models takes seconds.
IDENTIFIER = LanguageIdentifier()


@pytest.mark.parametrize(("expected", "text"), TABLE)
def test_identify(expected: str, text: str) -> None:
    assert IDENTIFIER.identify(text) == expected


def test_mix_groups_other_languages_and_adds_up() -> None:
    mix = mix_of([{"kk": 2, "en": 1}, {"uk": 1, "ru": 3, MIXED: 1, UNKNOWN: 2}])
    assert mix.counts == {"kk": 2, "other": 2, "ru": 3, MIXED: 1, UNKNOWN: 2}
    assert mix.total == 10
    assert mix.share("ru") == 30.0
    assert mix.shown()[0] == ("kk", 2)
    assert LanguageMix().share("kk") is None


# Two members: Abenova posts in Kazakh, both languages and Russian; Petrov in Russian and
# one post too short to tell. A repost and a post before the period never count.
POSTS = {
    "telegram:abenova": [*KK[:3], MIX[0], RU[0]],
    "telegram:petrov": [*RU[1:], SHORT[1]],
}


async def _world(database: Database) -> dict[str, int]:
    ids = await build_world(
        database,
        [
            Off(
                "Gulnar Abenova",
                [Acc("telegram", "abenova", history=[(20, 500), (0, 520)])],
                ["gov"],
            ),
            Off("Ivan Petrov", [Acc("telegram", "petrov", history=[(20, 800), (0, 810)])], ["gov"]),
        ],
    )
    async with database.sessions() as session, session.begin():
        for key, texts in POSTS.items():
            rows = [(t, 1.0 + i, False) for i, t in enumerate(texts)]
            rows += [(KK[3], 2.5, True), (KK[3], 60.0, False)]  # a repost, an old post
            for n, (text, days, repost) in enumerate(rows):
                post_id = (
                    await session.execute(
                        insert(Post).returning(Post.id),
                        [{"account_id": ids[key], "platform_post_id": f"{n}", "text": text,
                          "published_at": ago(days), "first_seen_at": ago(days),
                          "last_seen_at": ago(0), "is_repost": repost}],
                    )
                ).scalar_one()  # fmt: skip
                session.add(
                    PostVersion(post_id=post_id, version=1, text=text,
                                first_seen_at=ago(days), last_seen_at=ago(0))
                )  # fmt: skip
    return ids


async def _languages(database: Database) -> list[str | None]:
    async with database.sessions() as session:
        stmt = select(PostVersion.language).order_by(PostVersion.id)
        return list((await session.scalars(stmt)).all())


async def test_job_identifies_each_version_once_in_batches(database: Database) -> None:
    await _world(database)
    job = LanguageJob(db=database, identifier=IDENTIFIER, batch=4)
    assert await job.run(max_batches=1) == 4
    assert (await _languages(database)).count(None) == 10
    assert await job.run(max_batches=None) == 10
    found = await _languages(database)
    assert None not in found
    assert found[:5] == ["kk", "kk", "kk", MIXED, "ru"]
    assert await job.run() == 0  # identified once: nothing is left to do


async def test_mix_in_official_report_and_csv(database: Database) -> None:
    await _world(database)
    svc = service(database)
    pending = render_plain(await ask(svc, "/official Abenova"))
    assert "not identified yet 100.0% (5 posts)" in pending  # never shares of nothing
    await LanguageJob(db=database, identifier=IDENTIFIER).run(max_batches=None)

    card = render_plain(await ask(svc, "/official Abenova"))
    assert (
        "Languages of posts, last 30 days: Kazakh 60.0% · Russian 20.0% · "
        "Kazakh and Russian 20.0% (5 posts)"
    ) in card
    ru_card = render_plain(await ask(svc, "/official Abenova", "ru"))
    assert "казахский 60,0\u00a0% · русский 20,0\u00a0%" in ru_card

    report = render_plain(await ask(svc, "/report gov 30d"))
    assert (
        "Languages of the members' posts: Kazakh 30.0% · Russian 50.0% · "
        "Kazakh and Russian 10.0% · undetermined 10.0% (10 posts)"
    ) in report
    assert "counts once" in report
    # Posts 1, 2 and 3 days old (a period's start is inclusive); the repost never counts.
    assert "(6 posts)" in render_plain(await ask(svc, "/report gov 3d"))

    reply = await ask(svc, "/report gov 30d csv")
    assert reply.attachment is not None
    rows = list(csv.DictReader(io.StringIO(reply.attachment.data.decode("utf-8-sig"))))
    assert set(CSV_COLUMNS) <= set(rows[0])
    counts = {
        r["official"]: tuple(int(r[f"posts_lang_{g}"]) for g in ("kk", "ru", "mixed", "unknown"))
        for r in rows
    }
    assert counts == {"Gulnar Abenova": (3, 1, 1, 0), "Ivan Petrov": (0, 4, 0, 1)}


async def test_posts_export_names_each_language(database: Database) -> None:
    await _world(database)
    await LanguageJob(db=database, identifier=IDENTIFIER).run(max_batches=None)
    out = io.StringIO()
    await export_csv(database, "posts", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["language"] for r in rows[:5]] == ["kk", "kk", "kk", MIXED, "ru"]
    assert rows[5]["language"] == "kk"  # the repost is exported, with its language


def test_db_languages_backfills(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["db", "languages"]) == 0  # an empty database: nothing to do
    out = capsys.readouterr().out
    assert "0 post versions without a language" in out
    assert "identified 0" in out


async def test_govwatch_run_fills_languages_in_the_background(database: Database) -> None:
    await _world(database)
    settings = load_settings(None, languages={"every": "200ms"})
    app = App(settings, db=database, sources={}, chat=False)
    assert app.scheduler.get_job("languages") is not None
    await app.start()
    try:
        for _ in range(600):  # loading lingua's models takes seconds on a busy machine
            if None not in await _languages(database):
                break
            await asyncio.sleep(0.1)
    finally:
        await app.stop()
    assert (await _languages(database))[:5] == ["kk", "kk", "kk", MIXED, "ru"]
    off = App(
        load_settings(None, languages={"enabled": False}), db=database, sources={}, chat=False
    )
    assert off.scheduler.get_job("languages") is None


async def test_two_workers_never_identify_the_same_batch(database: Database) -> None:
    await _world(database)
    jobs = [LanguageJob(db=database, identifier=IDENTIFIER, batch=3) for _ in range(2)]
    done = await asyncio.gather(*(job.run(max_batches=None) for job in jobs))
    assert None not in await _languages(database)
    if database.dialect == "postgresql":  # batches are claimed with SKIP LOCKED
        assert sum(done) == 14
    else:  # one process writes SQLite: a second job can only repeat work, never lose it
        assert sum(done) >= 14
