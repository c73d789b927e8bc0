"""How fast /search answers on a year of posts of 5,000 accounts (about a million versions).

``python -m bench.search`` generates the archive once in Python (texts from a Zipf-like
vocabulary of Russian and Kazakh words in their forms, topical words at realistic rates,
5% of posts edited, 1% deleted; each version's terms by ``bot.words.index_text``, as the
write path stores them), bulk-loads it into a SQLite file and, with ``--pg URL`` (or
``--pg auto`` for the local server), into PostgreSQL, then times the real ``/search``
command (the command service, end to end but for the network) over a set of queries.
It checks that both databases found the same versions for every query, and prints one
JSON line: per query p50/p95 wall time (ms), matches, and the p95 over all samples.

The index is built after the load, as a bulk import would: the triggers that keep it
are off during the load and ``bot.store.search.rebuild_index`` builds it from the rows
(SQLite: ``post_search`` and the FTS5 ``rebuild``; PostgreSQL: ``post_search`` and its
GIN index). ``--keep`` keeps the databases, ``--reuse-sqlite URL`` / ``--reuse-pg URL``
time kept ones again (build once, time many times).

An answer counts at most ``bot.store.search.COUNT_CAP`` matches (the ones stored last) and
says "more than" above it, so a common word costs about what a word with that many
matches does. Each database's timings come with the load average before and after them;
``--burn N`` runs N busy processes during the timings (the cores loaded on purpose).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import drop_database, fresh_database, percentile, rnd, seed_accounts
from bench.queries import _sqlite_value
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.detect.state import text_hash
from bot.reply import Caller, Reply
from bot.store.engine import Database
from bot.store.models import Watchlist, WatchlistMember
from bot.store.search import parse_query, rebuild_index, search_versions
from bot.words import index_text

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: Topical words (each with the forms a text uses) and the share of posts mentioning them.
TOPICS: dict[str, tuple[float, tuple[str, ...]]] = {
    "tariff": (0.010, ("тариф", "тарифы", "тарифов", "тарифам", "тарифтер", "тарифтерді")),
    "gas": (0.012, ("газ", "газа", "газом", "газға", "газды")),
    "prices_gas": (0.001, ("цены на газ", "цен на газ", "цена на газ")),
    "referendum": (0.003, ("референдум", "референдума", "референдуме", "референдумға")),
    "budget": (0.030, ("бюджет", "бюджета", "бюджете", "бюджетте", "бюджеттің")),
    "school": (0.020, ("школа", "школы", "школе", "мектеп", "мектепте", "мектептер")),
    "flood": (0.002, ("паводок", "паводка", "паводки", "су тасқыны")),
    "inflation": (0.006, ("инфляция", "инфляции", "инфляцияны")),
    "kazakhstan": (0.080, ("Казахстан", "Казахстана", "Казахстане", "Қазақстан", "Қазақстанда")),
    "newspaper": (0.008, ("газета", "газеты", "газете")),
    "ads": (0.004, ("реклама", "рекламы")),
}
#: Everyday words, most frequent first (their frequency falls off as 1/rank).
_COMMON_TEXT = """
и в на не что с по для это как мы к о от за из все его но так у же бы года работа работы
развитие вопрос вопросы сегодня также область района города страны министр министерство
аким акимат правительство программа проект проекта проекты жители жителей граждан помощь
поддержка меры решение решения встреча встречи ауыл ауылда жыл жылы бойынша үшін және мен
бұл біз халық халыққа жұмыс жұмысы дамыту мемлекет мемлекеттік елі елімізде кездесу өтті
жаңа жоба жобасы дороги дорог строительство ремонт больницы здравоохранения образования
экономики инвестиции предприятия производства сельского хозяйства энергетики транспорта
"""
COMMON = _COMMON_TEXT.split()
RARE_SYLLABLES = ("ка", "ра", "мо", "ти", "ле", "ну", "ба", "зо", "ши", "де", "ко", "ту")
QUERIES = (
    "/search тариф",
    "/search тарифтер",
    "/search газ",
    '/search "цены на газ"',
    "/search цены газ",
    "/search референдум",
    "/search референдум 30d",
    "/search бюджет",
    "/search мектеп",
    "/search паводок",
    "/search инфляция 7d",
    "/search Казахстан",
    "/search Казахстан 7d",
    "/search тариф -газ",
    "/search тариф bench",
    "/search бюджет #17",
    "/search газета telegram",
    '/search "бюджет республики"',
    "/search несуществующееслово",
    '/search "тарифтерді көтеру" 1y',
    "/search тариф by:relevance",
    "/search Казахстан by:relevance",
    "/search цены газ by:relevance",
)


@dataclass(frozen=True, slots=True)
class Size:
    """The archive to generate."""

    accounts: int = 5000
    days: int = 365
    posts_per_day: float = 0.52
    #: Distinct texts the posts are drawn from.
    pool: int = 50_000


def _words(rng: random.Random, n: int) -> list[str]:
    """``n`` everyday words (Zipf-like) and, now and then, a rare made-up one."""
    out = []
    for _ in range(n):
        if rng.random() < 0.15:
            out.append("".join(rng.choice(RARE_SYLLABLES) for _ in range(rng.randrange(2, 5))))
        else:
            rank = min(int(rng.paretovariate(1.0)) - 1, len(COMMON) - 1)
            out.append(COMMON[rank] if rng.random() < 0.5 else rng.choice(COMMON))
    return out


def _text(rng: random.Random) -> str:
    words = _words(rng, rng.randrange(8, 40))
    for share, forms in TOPICS.values():
        if rng.random() < share:
            words.insert(rng.randrange(len(words) + 1), rng.choice(forms))
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


POST_COLS = (
    "id", "account_id", "platform_post_id", "url", "published_at", "text", "views", "edited",
    "deleted", "is_reply", "is_repost", "first_seen_at", "last_seen_at", "deleted_at",
    "text_hash", "versions",
)  # fmt: skip
VERSION_COLS = (
    "id", "post_id", "version", "text", "first_seen_at", "last_seen_at", "search_terms",
)  # fmt: skip


Rows = list[tuple[Any, ...]]


def archive(size: Size, *, week_batches: bool = True) -> Iterator[tuple[Rows, Rows]]:
    """(posts, versions) rows, a week of the whole roster at a time, in time order."""
    rng = random.Random(17)
    # Distinct texts, each used by several posts: indexing a million texts in Python
    # would take most of the bench; what a search costs depends on how many posts match.
    bodies = [_text(rng) for _ in range(min(size.pool, 10 + size.accounts * size.days))]
    pool = [(body, index_text(body), text_hash(body)) for body in bodies]
    start = NOW - timedelta(days=size.days)
    post_id = version_id = 0
    posts: Rows = []
    versions: Rows = []
    for day in range(size.days):
        for account in range(1, size.accounts + 1):
            count = int(size.posts_per_day) + (rng.random() < size.posts_per_day % 1)
            for k in range(count):
                post_id += 1
                at = start + timedelta(days=day, seconds=rng.randrange(86400))
                texts = [rng.choice(pool)]
                if rng.random() < 0.05:
                    edit = texts[0][0][:-1] + " " + " ".join(_words(rng, 5)) + "."
                    texts.append((edit, index_text(edit), text_hash(edit)))
                deleted = rng.random() < 0.01
                url = f"https://t.me/bw{account - 1:06d}/{post_id}"
                gone = at + timedelta(hours=3) if deleted else None
                last, _, last_hash = texts[-1]
                posts.append((post_id, account, f"{day}.{k}", url, at, last, 1000,
                              len(texts) > 1, deleted, False, False, at, at, gone,
                              last_hash, len(texts)))  # fmt: skip
                for number, (body, terms, _) in enumerate(texts, start=1):
                    version_id += 1
                    seen = at + timedelta(hours=number - 1)
                    versions.append((version_id, post_id, number, body, seen, seen, terms))
        if not week_batches or day % 7 == 6 or day == size.days - 1:
            yield posts, versions
            posts, versions = [], []


async def _copy(db: Database, table: str, cols: tuple[str, ...], rows: Rows) -> None:
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            raw = await conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                table, records=rows, columns=list(cols)
            )
        else:
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            await conn.exec_driver_sql(sql, [tuple(_sqlite_value(v) for v in r) for r in rows])


async def _index_off(db: Database) -> list[str]:
    """Stop the search index's upkeep for the load; return what restores it."""
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.exec_driver_sql("ALTER TABLE post_versions DISABLE TRIGGER USER")
            return ["ALTER TABLE post_versions ENABLE TRIGGER USER"]
        found = await conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'post_versions'"
        )
        triggers = found.all()
        for name, _ in triggers:
            await conn.exec_driver_sql(f"DROP TRIGGER {name}")
        return [sql for _, sql in triggers]


async def _index_on(db: Database, restore: list[str]) -> None:
    """Build the index from the loaded rows, as ``rebuild_index`` does, then restore upkeep."""
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            for table in ("posts", "post_versions"):
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
        await rebuild_index(conn)
        for statement in restore:
            await conn.exec_driver_sql(statement)
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            await conn.exec_driver_sql("ANALYZE")


async def load(dbs: list[Database], size: Size) -> dict[str, Any]:
    """Generate the archive once and bulk-load it into every database in ``dbs``."""
    began = time.perf_counter()
    for db in dbs:
        await seed_accounts(db, size.accounts)
        async with db.sessions() as session, session.begin():
            session.add(Watchlist(id=1, name="bench", title="Benchmark parliament"))
            await session.flush()
            members = [
                {"watchlist_id": 1, "official_id": i + 1} for i in range(0, size.accounts, 10)
            ]
            await session.execute(WatchlistMember.__table__.insert(), members)  # type: ignore[attr-defined]
    restores = [await _index_off(db) for db in dbs]
    counts = {"posts": 0, "versions": 0}
    spent = {"generate_s": 0.0, **{f"load_{db.dialect}_s": 0.0 for db in dbs}}
    tick = time.perf_counter()
    for posts, versions in archive(size):
        spent["generate_s"] += time.perf_counter() - tick
        for db in dbs:
            tick = time.perf_counter()
            await _copy(db, "posts", POST_COLS, posts)
            await _copy(db, "post_versions", VERSION_COLS, versions)
            spent[f"load_{db.dialect}_s"] += time.perf_counter() - tick
        counts["posts"] += len(posts)
        counts["versions"] += len(versions)
        tick = time.perf_counter()
    for db, restore in zip(dbs, restores, strict=True):
        tick = time.perf_counter()
        await _index_on(db, restore)
        spent[f"index_{db.dialect}_s"] = time.perf_counter() - tick
    return {
        **counts,
        **{k: rnd(v) for k, v in spent.items()},
        "total_s": rnd(time.perf_counter() - began),
    }


CALLER = Caller(backend="console", user_id="1", chat_id="bench")


async def _ask(service: CommandService, text: str) -> tuple[float, float, Reply]:
    began, cpu = time.perf_counter(), time.process_time()
    reply = await service.handle(CALLER, text, locale="en")
    return (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000, reply


def _busy() -> None:
    while True:
        pass


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def time_queries(db: Database, runs: int, burn: int = 0) -> dict[str, Any]:
    """p50/p95 of each /search (wall and this process's CPU, ms) and the p95 of them all."""
    burners = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(burn)]
    for proc in burners:
        proc.start()
    try:
        return await _time_queries(db, runs) | {"burn": burn}
    finally:
        for proc in burners:
            proc.terminate()
            proc.join()


async def _time_queries(db: Database, runs: int) -> dict[str, Any]:
    load_before = _load()
    settings = load_settings(None, database={"url": db.url})
    service = CommandService(db=db, settings=settings, services={"clock": lambda: NOW})
    every: list[float] = []
    newest: list[float] = []
    out: dict[str, Any] = {}
    for text in QUERIES:
        await _ask(service, text)  # warms caches; not counted
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu, _reply = await _ask(service, text)
            walls.append(wall)
            cpus.append(cpu)
        every += walls
        if "by:relevance" not in text:
            newest += walls
        out[text] = {"p50_ms": rnd(percentile(walls, 50)), "p95_ms": rnd(percentile(walls, 95)),
                     "cpu_p50_ms": rnd(percentile(cpus, 50))}  # fmt: skip
    out["all_p95_ms"] = rnd(percentile(every, 95))
    out["all_p50_ms"] = rnd(percentile(every, 50))
    # The default order alone (the relevance order also reads and scores the texts).
    out["newest_p95_ms"] = rnd(percentile(newest, 95))
    out["newest_p50_ms"] = rnd(percentile(newest, 50))
    out["loadavg_before"] = load_before
    out["loadavg_after"] = _load()
    return out


async def answers(db: Database) -> dict[str, Any]:
    """Per query: every version id its words and period find, and the answer's first page."""
    from bot.commands.parsing import split_command
    from bot.commands.search import sort_words
    from bot.reply import render_plain
    from bot.store.search import Filters

    settings = load_settings(None, database={"url": db.url})
    service = CommandService(db=db, settings=settings, services={"clock": lambda: NOW})
    out: dict[str, Any] = {}
    async with db.engine.connect() as conn:
        for text in QUERIES:
            request, _ = sort_words(split_command(text)[1])
            query = parse_query([p for p in request.parts if p != "bench"])
            since = NOW - request.period if request.period else None
            found = await search_versions(conn, query, Filters(since=since))
            out[text] = [m.version_id for m in found]
            out[f"{text} (page 1)"] = render_plain(await service.handle(CALLER, text, locale="en"))
    return out


async def run(size: Size, *, pg: str | None, runs: int, keep: bool, reuse_sqlite: str | None,
              reuse_pg: str | None, burn: int = 0) -> dict[str, Any]:  # fmt: skip
    """Load (or reuse) the databases, check they agree, time the queries."""
    urls: dict[str, str] = {}
    urls["sqlite"] = reuse_sqlite or await fresh_database("sqlite", label="search")
    if pg or reuse_pg:
        urls["postgresql"] = reuse_pg or await _fresh_pg(pg or "")
    dbs = {kind: Database(url) for kind, url in urls.items()}
    result: dict[str, Any] = {"accounts": size.accounts, "days": size.days}
    try:
        fresh = [
            db for kind, db in dbs.items() if not (reuse_sqlite if kind == "sqlite" else reuse_pg)
        ]
        if fresh:
            result["load"] = await load(fresh, size)
        found = {kind: await answers(db) for kind, db in dbs.items()}
        result["matches"] = {q: len(found["sqlite"][q]) for q in QUERIES}
        if "postgresql" in found:
            result["same_answers_on_both"] = found["sqlite"] == found["postgresql"]
        for kind, db in dbs.items():
            result[kind] = await time_queries(db, runs)
            if burn:
                result[f"{kind}_burn{burn}"] = await time_queries(db, runs, burn)
        result["urls"] = urls if keep else None
    finally:
        for db in dbs.values():
            await db.close()
        if not keep:
            for kind, url in urls.items():
                if not (reuse_sqlite if kind == "sqlite" else reuse_pg):
                    await drop_database(url)
    return result


async def _fresh_pg(pg: str) -> str:
    if pg == "auto":
        return await fresh_database("postgres", label="search")
    db = Database(pg)
    try:
        from bot.store.migrate import upgrade_database

        await upgrade_database(db.engine)
    finally:
        await db.close()
    return pg


def main(argv: list[str] | None = None) -> None:
    """Print the /search timings as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per query")
    parser.add_argument(
        "--pg", default=None, metavar="URL", help="also PostgreSQL: an empty database, or auto"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--reuse-sqlite", default=None, metavar="URL")
    parser.add_argument("--reuse-pg", default=None, metavar="URL")
    parser.add_argument("--burn", type=int, default=0, help="also time with N busy processes")
    args = parser.parse_args(argv)
    result = asyncio.run(
        run(
            Size(args.accounts, args.days),
            pg=args.pg,
            runs=args.runs,
            keep=args.keep,
            reuse_sqlite=args.reuse_sqlite,
            reuse_pg=args.reuse_pg,
            burn=args.burn,
        )
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
