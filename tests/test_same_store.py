"""Same-text detection runs in a savepoint of the poll's write: when it fails (here its
band table is missing), the observation is still stored and its post alerted."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from bot.store.engine import Database
from bot.store.models import EventRow, Post, PostSketch
from tests.fakes.world import World, hours_ago
from tests.test_keywords_world import _poll
from tests.test_same_world import TEXT


async def test_a_failing_same_text_step_does_not_lose_the_post(
    world: World, database: Database, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.config import load_settings

    settings = load_settings(
        None,
        database={"url": db_url},
        http={"allow_private_networks": True, "per_host_rate": 1000.0},
        detect={"confirm_polls": 1},
        sources={"bluesky": {"base_url": world.url()}},
    )
    account = world.add_bluesky("dana.bsky.social", name="Dana", followers=100)
    account.post("Старый пост", at=hours_ago(12))
    async with database.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO officials (id, slug, name, search_key, created_at, updated_at) "
                 "VALUES (1, 'dana', 'Dana Omarova', 'dana', :t, :t)"),
            {"t": hours_ago(24)},
        )  # fmt: skip
        await conn.execute(
            text("INSERT INTO accounts (id, official_id, platform, handle, options, enabled, "
                 "next_poll_at, consecutive_failures, http_validators, created_at) VALUES "
                 "(1, 1, 'bluesky', 'dana.bsky.social', '{}', :y, :t, 0, '{}', :t)"),
            {"t": hours_ago(24), "y": True},
        )  # fmt: skip
    await _poll(database, settings)  # the baseline
    account.post(TEXT)
    async with database.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE post_bands RENAME TO post_bands_away"))
    try:
        with caplog.at_level(logging.ERROR):
            await _poll(database, settings)
    finally:
        async with database.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE post_bands_away RENAME TO post_bands"))
    assert "same-text detection failed" in caplog.text
    async with database.sessions() as session:
        posts = await session.scalar(select(func.count()).select_from(Post))
        new = await session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.kind == "new_post")
        )
        sketches = await session.scalar(select(func.count()).select_from(PostSketch))
    assert posts == 2
    assert new == 1
    assert sketches == 0  # undone with the rest of the step
