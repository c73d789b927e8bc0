"""Full-text search in the store: exactly the expected versions, on SQLite and PostgreSQL.

The same table runs on whichever database the suite runs on (both in CI); an oracle test
checks every answer against the Python matcher over a generated archive; and when
PostgreSQL is configured, one test writes that archive into both databases and compares
their answers directly.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from bot.store.models import Post, PostVersion, SavedSearch, Watchlist
from bot.store.search import (
    KEEP_SAVED,
    Filters,
    Match,
    Query,
    evidence_events,
    fts5_query,
    latest_matches,
    load_hits,
    matches,
    parse_query,
    post_search,
    prune_saved_searches,
    rebuild_index,
    relevance,
    save_search,
    saved_search,
    search_page,
    search_versions,
    tallied,
    tsquery,
)
from bot.words import index_text
from tests.search_world import NOW, OFFICIALS, P, Seeded, ago, seed
from tests.test_migrations import empty_db  # noqa: F401 -- a fixture, used by name below


async def _found(db: Database, query: Query, filters: Filters | None = None) -> list[int]:
    async with db.engine.connect() as conn:
        return [m.version_id for m in await search_versions(conn, query, filters or Filters())]


async def _names(db: Database, world: Seeded, parts: list[str], **filters: object) -> list[str]:
    found = await _found(db, parse_query(parts), Filters(**filters))  # type: ignore[arg-type]
    return [world.versions[v] for v in found]


@pytest.fixture
async def world(database: Database) -> Seeded:
    return await seed(database)


TABLE: list[tuple[list[str], dict[str, object], list[str]]] = [
    # word forms, Russian and Kazakh; the newest version first
    (["тариф"], {}, ["m1", "a2", "a3.v2", "m3"]),
    (["газ"], {}, ["a1.v2", "a1", "b1", "b2", "b3"]),  # not "Газета" (m2)
    (["референдум"], {}, ["t1", "t2"]),  # "Референдумға" (deleted) and "референдума"
    (["школа"], {}, ["a3.v2", "a3"]),
    (["вырастут"], {}, ["m1", "a1.v2"]),
    (["несуществующее"], {}, []),
    # every word, in any order and place
    (["цены", "газ"], {}, ["a1.v2", "a1", "b1", "b2", "b3"]),
    # a phrase: its words in that order, adjacent
    (["цены на газ"], {}, ["a1.v2", "a1", "b3"]),
    (["цены на бензин"], {}, ["b2", "b4"]),  # b3 has both pairs, apart: not a match
    # exclusions: a word, a two-word phrase, a longer phrase
    (["референдум", "-реклама"], {}, ["t1"]),
    (["референдум", "-реклама подпишитесь"], {}, ["t1"]),
    (["газ", "-цены на газ"], {}, ["b1", "b2"]),
    (["-газ"], {}, []),  # nothing to find but exclusions
    # filters
    (["тариф"], {"since": ago(30)}, ["m1", "a2", "a3.v2"]),
    (["тариф"], {"platform": "facebook"}, ["a2"]),
    (["газ"], {"until": ago(7.5)}, ["b2", "b3"]),
]


@pytest.mark.parametrize(("parts", "filters", "expected"), TABLE)
async def test_search_finds_exactly_these_versions(
    database: Database,
    world: Seeded,
    parts: list[str],
    filters: dict[str, object],
    expected: list[str],
) -> None:
    assert await _names(database, world, parts, **filters) == expected


async def test_official_and_watchlist_filters(database: Database, world: Seeded) -> None:
    bekova = world.officials["Aigerim Bekova"]
    assert await _names(database, world, ["газ"], official_ids=(bekova,)) == ["b1", "b3"]
    async with database.engine.connect() as conn:
        listed = await conn.scalar(select(Watchlist.id).where(Watchlist.name == "kz-government"))
    found = await _names(database, world, ["тариф"], watchlist_id=listed)
    assert found == ["m1", "a2", "a3.v2", "m3"]
    assert await _names(database, world, ["газ"], watchlist_id=listed) == ["a1.v2", "a1"]


async def test_hits_carry_what_answers_show(database: Database, world: Seeded) -> None:
    found = await _found(database, parse_query(["цены на газ"]))
    async with database.engine.connect() as conn:
        hits = await load_hits(conn, found)
        events = await evidence_events(conn, hits)
    first = hits[0]
    assert (first.platform_post_id, first.version, first.versions) == ("a1", 2, 2)
    assert first.text == "Цены на газ вырастут с 1 июля."
    assert (first.edited, first.deleted, first.platform) == (True, False, "telegram")
    assert first.name_ru == "Асхат Аймагамбетов"
    assert first.at == ago(2) + timedelta(hours=1)
    # each version's own event: new_post for the first, post_edited for the edit
    assert events[found[0]] == world.events["a1.v2"]
    assert events[found[1]] == world.events["a1"]


async def test_evidence_falls_back_to_the_posts_new_post_event(
    database: Database, world: Seeded
) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM events WHERE id = :id"), {"id": world.events["a1.v2"]})
    found = await _found(database, parse_query(["вырастут"]))
    async with database.engine.connect() as conn:
        events = await evidence_events(conn, await load_hits(conn, found))
    by_name = {world.versions[v]: events.get(v) for v in found}
    assert by_name == {"m1": world.events["m1"], "a1.v2": world.events["a1"]}
    unannounced = await _found(database, parse_query(["школа"]))
    async with database.engine.connect() as conn:
        assert await evidence_events(conn, await load_hits(conn, unannounced)) == {}


async def test_the_index_follows_deletes_and_changed_terms(
    database: Database, world: Seeded
) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(delete(Post).where(Post.id == world.posts["b1"]))
        await conn.execute(
            update(PostVersion)
            .where(PostVersion.post_id == world.posts["m2"])
            .values(search_terms=index_text("газ"))
        )
    assert await _names(database, world, ["газ"]) == ["a1.v2", "a1", "m2", "b2", "b3"]


async def test_quotes_in_terms_reach_both_engines(database: Database, world: Seeded) -> None:
    await _add(database, world, P("q1", "bekova_a", 0.5, ('Don\'t "stop" — it’s fine',)))
    assert await _names(database, world, ["don't"]) == ["q1"]
    assert await _names(database, world, ['"stop"']) == ["q1"]
    assert await _names(database, world, ["it's fine"]) == ["q1"]


async def _add(db: Database, world: Seeded, post: P) -> None:
    from tests.search_world import _post

    async with db.engine.begin() as conn:
        await _post(conn, world, post)


def test_query_text_quotes_every_term() -> None:
    query = parse_query(["don't", "цены на газ", "-реклама"])
    assert fts5_query(query) == (
        '((("don\'t")) AND (("цен_на") AND ("на_газ"))) NOT ((("реклам")))'
    )
    assert tsquery(query) == "((('don''t')) & (('цен_на') & ('на_газ'))) & !((('реклам')))"


PAGED = [["газ"], ["тариф"], ["цены на газ"], ["цены на бензин"], ["газ", "-цены на газ"]]


@pytest.mark.parametrize("parts", PAGED)
@pytest.mark.parametrize("size", [1, 2, 10])
async def test_a_page_and_its_counts_are_those_of_every_match(
    database: Database, world: Seeded, parts: list[str], size: int
) -> None:
    query = parse_query(parts)
    async with database.engine.connect() as conn:
        every = await search_versions(conn, query, Filters())
        pages = -(-len(every) // size)
        for number in range(1, pages + 2):  # one past the end shows the last page
            page = await search_page(conn, query, Filters(), page=number, size=size)
            shown = min(number, pages)
            assert (page.page, page.pages) == (shown, pages)
            assert page.version_ids == [m.version_id for m in every][(shown - 1) * size :][:size]
    posts = {m.post_id: m.official_id for m in every}
    assert page.versions == len(every)
    assert page.posts == len(posts)
    assert {t.official_id: t.posts for t in page.tallies} == Counter(posts.values())
    assert [t.posts for t in page.tallies] == sorted((t.posts for t in page.tallies), reverse=True)


PLANS = [
    (["газ"], {}),
    (["тариф"], {"since": ago(30)}),
    (["газ"], {"until": ago(7.5), "platform": "telegram"}),
    (["тариф"], {"official_ids": (1, 2)}),
    (["цены", "газ"], {"watchlist_id": 1}),
]


def _latest(every: list[Match], limit: int) -> list[int]:
    return sorted((m.version_id for m in every), reverse=True)[:limit]


@pytest.mark.parametrize(("parts", "filters"), PLANS)
async def test_every_sqlite_plan_gives_the_same_latest_matches(
    database: Database, world: Seeded, parts: list[str], filters: dict[str, object]
) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite's plans are chosen by the search; PostgreSQL's by its planner")
    from bot.store.search.sqlite_plan import DRIVERS, sqlite_latest

    query, scope = parse_query(parts), Filters(**filters)  # type: ignore[arg-type]
    async with database.engine.connect() as conn:
        every = await search_versions(conn, query, scope)
        assert every  # the plans have something to agree on
        for limit in (1, 2, 100):
            for driver in DRIVERS:
                found = await sqlite_latest(conn, query, scope, limit, driver=driver)
                assert [m.version_id for m in found] == _latest(every, limit), (driver, limit)


@pytest.mark.parametrize(("parts", "filters"), PLANS)
@pytest.mark.parametrize("limit", [1, 2, 3, 100])
async def test_latest_matches_are_the_highest_ids_of_every_match(
    database: Database, world: Seeded, parts: list[str], filters: dict[str, object], limit: int
) -> None:
    # On PostgreSQL this walks its widening windows; on SQLite the chosen plan.
    query, scope = parse_query(parts), Filters(**filters)  # type: ignore[arg-type]
    async with database.engine.connect() as conn:
        every = await search_versions(conn, query, scope)
        found = await latest_matches(conn, query, scope, limit)
    assert [m.version_id for m in found] == _latest(every, limit)
    assert {m.version_id: m for m in every} | {m.version_id: m for m in found} == {
        m.version_id: m for m in every
    }


@pytest.mark.parametrize("parts", PAGED)
async def test_above_the_cap_the_latest_are_counted_and_said_incomplete(
    database: Database, world: Seeded, parts: list[str]
) -> None:
    query = parse_query(parts)
    async with database.engine.connect() as conn:
        every = await search_versions(conn, query, Filters())
        cap = len(every) - 1
        assert cap >= 1
        page = await search_page(conn, query, Filters(), page=1, size=1, cap=cap)
        exact = await search_page(conn, query, Filters(), page=1, size=1, cap=len(every))
    kept = [m for m in every if m.version_id in set(_latest(every, cap))]
    assert not page.complete
    assert exact.complete
    assert page.versions == page.pages == cap
    assert page.tallies == tallied(kept)
    assert page.version_ids == [kept[0].version_id]  # newest first among those counted
    assert exact.versions == len(every)


async def test_nothing_found_is_an_empty_page(database: Database, world: Seeded) -> None:
    async with database.engine.connect() as conn:
        page = await search_page(conn, parse_query(["несуществующее"]), Filters(), page=3, size=10)
    assert (page.tallies, page.version_ids, page.page, page.pages) == ([], [], 1, 1)


async def test_rebuilding_the_index_gives_what_the_triggers_keep(
    database: Database, world: Seeded
) -> None:
    async def state() -> tuple[list[tuple[object, ...]], list[list[int]]]:
        async with database.engine.connect() as conn:
            rows = await conn.execute(select(post_search).order_by(post_search.c.version_id))
            found = [
                [m.version_id for m in await search_versions(conn, parse_query(q), Filters())]
                for q in PAGED
            ]
        return [tuple(r) for r in rows], found

    before = await state()
    async with database.engine.begin() as conn:
        await rebuild_index(conn)
    assert await state() == before
    assert len(before[0]) == len(world.versions)


async def test_saved_searches_are_stored_once(database: Database) -> None:
    async with database.engine.begin() as conn:
        first = await save_search(conn, 'тариф "цены на газ" 30d')
        again = await save_search(conn, 'тариф "цены на газ" 30d')
        other = await save_search(conn, "газ")
        assert first == again != other
        assert await saved_search(conn, first) == 'тариф "цены на газ" 30d'
        assert await saved_search(conn, 987654) is None
        assert await saved_search(conn, 2**40) is None


async def test_saved_searches_not_saved_for_a_month_are_pruned(database: Database) -> None:
    async with database.engine.begin() as conn:
        old = await save_search(conn, "старый поиск", now=NOW - KEEP_SAVED - timedelta(days=1))
        kept = await save_search(conn, "свежий поиск", now=NOW - KEEP_SAVED + timedelta(days=1))
        renewed = await save_search(conn, "снова нужен", now=NOW - KEEP_SAVED - timedelta(days=2))
        # Saving it again marks it used: it stays.
        again = NOW - KEEP_SAVED + timedelta(days=3)
        assert await save_search(conn, "снова нужен", now=again) == renewed
        # An old row is not answered even before it is pruned.
        assert await saved_search(conn, old, now=NOW) is None
        assert await saved_search(conn, kept, now=NOW) == "свежий поиск"
        assert await prune_saved_searches(conn, now=NOW) == 1
        rows = (await conn.execute(select(SavedSearch.id).order_by(SavedSearch.id))).scalars()
        assert list(rows) == [kept, renewed]
        # Any save prunes too.
        later = NOW + timedelta(days=2)
        newest = await save_search(conn, "газ", now=later)
        rows = (await conn.execute(select(SavedSearch.id).order_by(SavedSearch.id))).scalars()
        assert list(rows) == [renewed, newest]


# -- every answer is the Python matcher's, on a generated archive ----------------------

VOCABULARY = [
    *("цены", "на", "газ", "тарифы", "тарифтер", "тариф", "газета", "газом", "газға"),
    *("бензин", "референдум", "референдума", "референдумға", "школа", "мектепте"),
    *("Казахстан", "Қазақстанда", "Астане", "бюджет", "бюджетте", "вырастут", "не", "и"),
    *("в", "по", "реклама", "снижены", "прежними", "электроэнергию", "tariff", "prices", "gas"),
]
QUERIES = [
    ["тариф"], ["газ"], ["цены на газ"], ["на газ"], ["газ", "-цены на газ"], ["бюджет"],
    ["референдум", "-реклама"], ["Казахстан"], ["школа", "бюджет"], ["tariffs"],
    ["цены на бензин"], ["не вырастут"], ["-газ", "тариф"], ["газета"], ["price gas"],
]  # fmt: skip


def _archive(seed_value: int, count: int) -> tuple[P, ...]:
    rng = random.Random(seed_value)
    handles = [handle for off in OFFICIALS for _, handle in off.accounts]
    posts = []
    for i in range(count):
        texts = tuple(
            " ".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(3, 12)))
            for _ in range(rng.choice((1, 1, 1, 2)))
        )
        posts.append(P(f"g{i}", rng.choice(handles), rng.uniform(0, 60), texts))
    return tuple(posts)


def _oracle(posts: tuple[P, ...], parts: list[str], since_days: float | None) -> set[str]:
    query = parse_query(parts)
    out = set()
    for post in posts:
        if since_days is not None and post.days > since_days:
            continue
        for number, body in enumerate(post.texts, start=1):
            if query.include and matches(body, query):
                out.add(post.id if number == 1 else f"{post.id}.v{number}")
    return out


@pytest.mark.parametrize("since_days", [None, 20.0])
async def test_every_answer_is_the_python_matchers(
    database: Database, since_days: float | None
) -> None:
    posts = _archive(7, 300)
    world = await seed(database, posts)
    since = NOW - timedelta(days=since_days) if since_days is not None else None
    for parts in QUERIES:
        found = await _names(database, world, parts, since=since)
        assert len(found) == len(set(found))
        assert set(found) == _oracle(posts, parts, since_days), parts


@pytest.fixture
async def sqlite_too(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'beside.db'}")
    await upgrade_database(db.engine)
    try:
        yield db
    finally:
        await db.close()


async def test_sqlite_and_postgresql_give_the_same_versions(
    database: Database, sqlite_too: Database
) -> None:
    if not os.environ.get("GOVWATCH_TEST_DATABASE_URL"):
        pytest.skip("compares with PostgreSQL: set GOVWATCH_TEST_DATABASE_URL")
    assert database.dialect == "postgresql"
    posts = _archive(11, 400)
    on_pg, on_sqlite = await seed(database, posts), await seed(sqlite_too, posts)
    total = 0
    for parts in QUERIES:
        pg = await _names(database, on_pg, parts)
        lite = await _names(sqlite_too, on_sqlite, parts)
        assert pg == lite, parts
        total += len(pg)
        for order in ("newest", "relevance"):
            pages = [await _page_names(db, w, parts, order) for db, w in
                     ((database, on_pg), (sqlite_too, on_sqlite))]  # fmt: skip
            assert pages[0] == pages[1], (parts, order)
    assert total > 100  # the queries find plenty, in the same order


async def _page_names(db: Database, world: Seeded, parts: list[str], order: str) -> list[object]:
    """Pages 1 and 2 of an answer counted up to 5 matches: ids as names, and its counts."""
    out: list[object] = []
    async with db.engine.connect() as conn:
        for number in (1, 2):
            page = await search_page(
                conn, parse_query(parts), Filters(), page=number, size=3, order=order, cap=5
            )
            out.append(([world.versions[v] for v in page.version_ids], page.complete,
                        [(t.versions, t.posts) for t in page.tallies]))  # fmt: skip
    return out


# -- versions stored before the index get their terms ---------------------------------


async def test_upgrade_indexes_versions_stored_before_it(empty_db: Database) -> None:  # noqa: F811 -- the fixture
    await upgrade_database(empty_db.engine, "0004")
    async with empty_db.engine.begin() as conn:
        for statement in (
            "INSERT INTO officials (id, slug, name, search_key, created_at, updated_at)"
            " VALUES (1, 'o', 'O', 'o', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            "INSERT INTO accounts (id, official_id, platform, handle, options, enabled,"
            " next_poll_at, consecutive_failures, http_validators, created_at)"
            " VALUES (1, 1, 'telegram', 'h', '{}', true, CURRENT_TIMESTAMP, 0, '{}',"
            " CURRENT_TIMESTAMP)",
            "INSERT INTO posts (id, account_id, platform_post_id, text, edited, deleted,"
            " is_reply, is_repost, first_seen_at, last_seen_at, versions)"
            " VALUES (1, 1, '7', 'Тарифтер өзгерді', false, false, false, false,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
            "INSERT INTO post_versions (post_id, version, text, first_seen_at, last_seen_at)"
            " VALUES (1, 1, 'Тарифтер өзгерді', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        ):
            await conn.execute(text(statement))
    await upgrade_database(empty_db.engine)
    assert len(await _found(empty_db, parse_query(["тарифы"]))) == 1
    assert await _found(empty_db, parse_query(["газ"])) == []


# -- the relevance order ----------------------------------------------------------------

RELEVANCE = [
    # (query, text, score): occurrences up to 3 per word, +3 as typed, +1 in the lead
    (["тариф"], "Тариф.", 2),
    (["тариф"], "Тарифы, тарифы и тарифтер, и снова тариф.", 4),
    (["тариф"], "слово " * 30 + "тариф", 1),
    (["цены", "газ"], "Цены газ выросли.", 6),
    (["цены", "газ"], "Цены на газ выросли.", 3),
    (["цены на газ"], "Цены на газ выросли, цены на газ.", 3),
    (["газ", "-реклама"], "Газ, газ.", 3),
    (["газ"], "Ничего.", 0),
]


@pytest.mark.parametrize(("parts", "body", "score"), RELEVANCE)
def test_relevance_scores(parts: list[str], body: str, score: int) -> None:
    assert relevance(body, parse_query(parts)) == score


@pytest.mark.parametrize("parts", PAGED)
async def test_pages_by_relevance_are_the_scores_order(
    database: Database, world: Seeded, parts: list[str]
) -> None:
    query = parse_query(parts)
    async with database.engine.connect() as conn:
        every = await search_versions(conn, query, Filters())
        hits = {h.version_id: h for h in await load_hits(conn, [m.version_id for m in every])}
        shown = []
        for number in range(1, len(every) + 1):
            page = await search_page(conn, query, Filters(), page=number, size=1, order="relevance")
            shown += page.version_ids
    scores = [relevance(hits[v].text, query) for v in shown]
    assert sorted(shown) == sorted(m.version_id for m in every)
    assert scores == sorted(scores, reverse=True)
    for a, b in pairwise(shown):
        if relevance(hits[a].text, query) == relevance(hits[b].text, query):
            assert (hits[a].at, a) > (hits[b].at, b)  # ties newest first
