"""``govwatch db languages``: identify the language of every stored version still without one."""

from __future__ import annotations

import argparse
import asyncio
import time

from bot.config import Settings
from bot.poll.languages import LanguageJob
from bot.store.languages import count_pending
from bot.store.migrate import open_database


def db_languages(settings: Settings, args: argparse.Namespace) -> int:
    """Backfill ``post_versions.language``; print how many were done and how fast."""
    return asyncio.run(_backfill(settings, args))


async def _backfill(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database(settings) as db:
        job = LanguageJob.from_settings(db, settings)
        if args.batch:
            job.batch = max(1, args.batch)
        async with db.sessions() as session:
            todo = await count_pending(session)
        codes = ", ".join(job.identifier.codes)
        print(f"{todo} post versions without a language; languages: {codes}")
        batches = None if not args.limit else max(1, -(-args.limit // job.batch))
        started = time.perf_counter()
        done = await job.run(max_batches=batches)
        seconds = time.perf_counter() - started
        rate = f" ({done / seconds:.0f} a second, model loading included)" if done else ""
        print(f"identified {done} in {seconds:.1f} s{rate}; {max(todo - done, 0)} left")
    return 0
