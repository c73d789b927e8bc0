"""Post languages: lingua's install size, model loading, time per post and memory.

    python -m bench.languages [--posts 2000] [--db sqlite|postgres]

Identifies a mix of Kazakh, Russian and bilingual post texts (the tests' table, repeated)
with the configured four languages, directly and through the background job on a real
database (read a batch, identify in a thread, one executemany write). Prints one JSON
line with the load average next to the numbers: compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bot.langs import LanguageIdentifier
from bot.poll.languages import LanguageJob
from bot.store.engine import Database
from bot.store.migrate import upgrade_database
from bot.store.models import Account, Official, Post, PostVersion

TEXTS = (
    "Бүгін Үкімет отырысында білім беру саласын дамыту мәселелері қаралды. Жаңа оқу жылында "
    "елімізде 140 мектепте робототехника кабинеттері ашылады.",
    "Сегодня на заседании Правительства рассмотрены вопросы развития системы образования. "
    "В новом учебном году в 140 школах откроются кабинеты робототехники.",
    "Құрметті әріптестер, Жаңа жылдарыңызбен құттықтаймын! Дорогие коллеги, поздравляю вас "
    "с Новым годом, желаю здоровья и успехов!",
    "Провёл встречу с фермерами Акмолинской области. Обсудили подготовку к весенне-полевым "
    "работам и меры господдержки.",
    "Ауыл шаруашылығы министрлігі көктемгі егіс науқанына дайындық барысын талқылады.",
    "👍",
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _install_mb() -> float:
    import lingua

    folder = Path(lingua.__file__).parent
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


async def _job(url: str, posts: int, identifier: LanguageIdentifier) -> dict[str, Any]:
    db = Database(url)
    try:
        await upgrade_database(db.engine)
        async with db.sessions() as session, session.begin():
            official = Official(slug="bench", name="Bench")
            account = Account(official=official, platform="telegram", handle="bench")
            session.add(account)
            await session.flush()
            ids = (
                await session.execute(
                    insert(Post).returning(Post.id),
                    [{"account_id": account.id, "platform_post_id": str(i), "text": "",
                      "first_seen_at": _T, "last_seen_at": _T} for i in range(posts)],
                )
            ).scalars().all()  # fmt: skip
            await session.execute(
                insert(PostVersion),
                [{"post_id": pid, "version": 1, "text": TEXTS[i % len(TEXTS)],
                  "first_seen_at": _T, "last_seen_at": _T} for i, pid in enumerate(ids)],
            )  # fmt: skip
        job = LanguageJob(db=db, identifier=identifier, batch=500)
        started = time.perf_counter()
        done = await job.run(max_batches=None)
        seconds = time.perf_counter() - started
    finally:
        await db.close()
    return {"job_versions": done, "job_s": round(seconds, 2),
            "job_ms_per_post": round(seconds * 1000 / max(done, 1), 3)}  # fmt: skip


_T = __import__("datetime").datetime(2026, 12, 1, tzinfo=__import__("datetime").UTC)


def main() -> None:
    """Run and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    before = _rss_mb()
    identifier = LanguageIdentifier()
    started = time.perf_counter()
    identifier.identify(TEXTS[0])  # builds the detector: loads the models
    load_s = time.perf_counter() - started
    loaded = _rss_mb()
    texts = [TEXTS[i % len(TEXTS)] for i in range(args.posts)]
    started, cpu = time.perf_counter(), time.process_time()
    identifier.identify_many(texts)
    per_post = (time.perf_counter() - started) * 1000 / len(texts)
    # CPU time is what a busy machine's wall time hides: the cost to budget for.
    cpu_per_post = (time.process_time() - cpu) * 1000 / len(texts)
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            f"sqlite+aiosqlite:///{tmp}/bench.db"
            if args.db == "sqlite"
            else os.environ.get(
                "GOVWATCH_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/gw_bench_lang"
            )
        )
        job = asyncio.run(_job(url, args.posts, identifier))
    result = {
        "languages": list(identifier.codes),
        "install_mb": round(_install_mb(), 1),
        "model_load_s": round(load_s, 2),
        "rss_before_mb": round(before, 1),
        "rss_models_mb": round(loaded - before, 1),
        "ms_per_post": round(per_post, 3),
        "cpu_ms_per_post": round(cpu_per_post, 3),
        "posts": args.posts,
        "db": args.db,
        **job,
        "peak_rss_mb": round(_rss_mb(), 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
