"""The background job that identifies the language of stored post versions, in batches.

Polling never waits for it: a new version is stored with ``language`` NULL, and this job
(every ``[languages] every`` in ``govwatch run``, or ``govwatch db languages``) reads the
next batch of NULL rows, identifies them in a worker thread (lingua is CPU-bound) and
writes the codes back in one statement. Each version is identified once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.langs import LanguageIdentifier
from bot.store.engine import Database
from bot.store.languages import pending_versions, set_languages

log = logging.getLogger(__name__)

#: Batches one scheduled run does at most, so a backlog never holds up shutdown for long.
RUN_BATCHES = 20


@dataclass(slots=True)
class LanguageJob:
    """Fills ``post_versions.language`` for rows still NULL, ``batch`` rows at a time."""

    db: Database
    identifier: LanguageIdentifier
    batch: int = 500

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> LanguageJob:
        """The job with the configured languages and batch size."""
        langs = settings.languages
        return cls(db=db, identifier=LanguageIdentifier(langs.detect), batch=langs.batch)

    async def run_batch(self) -> int:
        """Identify one batch; return how many versions it stored (0: nothing left)."""
        if self.db.dialect == "postgresql":
            return await self._claimed_batch()
        # SQLite has one writer: read, identify outside any transaction, then write.
        async with self.db.sessions() as session:
            rows = await pending_versions(session, self.batch)
        if not rows:
            return 0
        codes = await asyncio.to_thread(self.identifier.identify_many, [t for _, t in rows])
        found = [(vid, code) for (vid, _), code in zip(rows, codes, strict=True)]
        async with self.db.sessions() as session, session.begin():
            await set_languages(session, found)
        return len(rows)

    async def _claimed_batch(self) -> int:
        # Several workers run this job: each locks its batch (SKIP LOCKED) until written.
        async with self.db.sessions() as session, session.begin():
            rows = await pending_versions(session, self.batch, claim=True)
            if not rows:
                return 0
            texts = [t for _, t in rows]
            codes = await asyncio.to_thread(self.identifier.identify_many, texts)
            found = [(vid, code) for (vid, _), code in zip(rows, codes, strict=True)]
            await set_languages(session, found)
        return len(rows)

    async def run(self, max_batches: int | None = RUN_BATCHES) -> int:
        """Batches until none is left (or ``max_batches``); return the versions identified."""
        done = batches = 0
        while max_batches is None or batches < max_batches:
            count = await self.run_batch()
            if not count:
                break
            done += count
            batches += 1
        if done:
            log.info("languages identified for %d post versions", done)
        return done
