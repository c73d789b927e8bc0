"""Issue 16 end to end: the running service (scheduler, poller, relay, both chat backends)
against a loopback world, the fake Bot API and the fake Slack API.

One official rewrites the start of a post, another deletes one, a third reposts and then
un-reposts someone else's post. The alerts quote what changed, the edit arrives in the
thread of its ``new_post`` alert on both platforms, the repost raises nothing, and the
evidence files sent on request carry the SHA-256 of the fragments the store kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.actions import evidence_action
from bot.app import App
from bot.config import Settings, load_settings
from bot.store.engine import Database
from bot.store.models import (
    Account,
    AccountState,
    Chat,
    EventRow,
    Official,
    Post,
    PostVersion,
    Subscription,
)
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_api import FakeTelegramAPI, Sent
from tests.fakes.world import World

JOURNALIST = 4242
CHANNEL = "C0NEWS"
NOW = datetime.now(UTC)
SCHOOL = "Сегодня открыли новую школу в Алматы на 600 мест. Спасибо строителям!"
REWRITTEN = "Вчера торжественно открыли новую школу в Алматы на 600 мест. Спасибо строителям!"
DOOMED = "Проект закона о <b>медиа</b> отправлен на доработку & ждёт решения."


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    server = FakeTelegramAPI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    server.add_channel(CHANNEL, creator="U0CREATOR")
    yield server
    await server.close()


def settings_for(db_url: str, api: FakeTelegramAPI, slack: FakeSlack, world: World) -> Settings:
    return load_settings(
        None,
        database={"url": db_url},
        http={"allow_private_networks": True, "per_host_rate": 1000.0},
        detect={"confirm_polls": 2},
        scheduler={"poll_interval": "1s", "jitter": "0s", "tick": "200ms"},
        telegram={"token": api.token, "base_url": api.base_url, "poll_timeout": "1s",
                  "send_timeout": "3s"},
        slack={"bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "signing_secret": SIGNING_SECRET,
               "mode": "socket", "base_url": slack.base_url},
        relay={"per_chat_interval": "10ms", "tick": "50ms"},
        sources={"bluesky": {"base_url": world.url()}},
        i18n={"default_locale": "en"},
    )  # fmt: skip


async def seed(db: Database, handles: list[str]) -> None:
    async with db.sessions() as session, session.begin():
        for n, handle in enumerate(handles):
            official = Official(slug=f"o{n}", name=handle.split(".")[0].title())
            session.add(Account(official=official, platform="bluesky", handle=handle))
        chats = [
            Chat(backend="telegram", external_id=str(JOURNALIST), kind="private", locale="en"),
            Chat(backend="slack", external_id=CHANNEL, team_id="T0TEAM", kind="group"),
        ]
        session.add_all(chats)
        await session.flush()
        session.add_all(Subscription(chat_id=c.id, target_type="all") for c in chats)


async def until(check: Callable[[], Any], timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check() if asyncio.iscoroutinefunction(check) else check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def alerts(api: FakeTelegramAPI, icon: str) -> list[Sent]:
    return [m for m in api.messages_to(JOURNALIST) if m.text.startswith(icon)]


def slack_alerts(slack: FakeSlack, icon: str) -> list[dict[str, Any]]:
    return [p for p in slack.posts if _first_section(p).startswith(icon)]


def _first_section(post: dict[str, Any]) -> str:
    blocks = post.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
    return next((str(b["text"]["text"]) for b in blocks if b.get("type") == "section"), "")


def blocks_text(post: dict[str, Any]) -> str:
    blocks = post.get("blocks")
    return blocks if isinstance(blocks, str) else json.dumps(blocks, ensure_ascii=False)


async def evidence_of(api: FakeTelegramAPI, command: str | None, action: str | None) -> Any:
    before = sum(m.method == "sendDocument" for m in api.messages_to(JOURNALIST))
    if command:
        api.push_message(chat_id=JOURNALIST, text=command, language_code="en")
    else:
        api.push_callback(chat_id=JOURNALIST, data=action or "")
    await api.wait_for(
        lambda: sum(m.method == "sendDocument" for m in api.messages_to(JOURNALIST)) > before,
        timeout=20,
    )
    sent = [m for m in api.messages_to(JOURNALIST) if m.method == "sendDocument"][-1]
    with zipfile.ZipFile(io.BytesIO(sent.files["document"])) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".json")]
        return json.loads(archive.read(name))


async def stored_versions(db: Database, handle: str, text: str) -> list[PostVersion]:
    async with db.sessions() as s:
        post = await s.scalar(
            select(Post).join(Account).where(Account.handle == handle, Post.text == text)
        )
        assert post is not None
        rows = await s.scalars(
            select(PostVersion).where(PostVersion.post_id == post.id).order_by(PostVersion.version)
        )
        return list(rows)


async def event_id(db: Database, kind: str) -> int:
    async with db.sessions() as s:
        found = await s.scalar(select(EventRow.id).where(EventRow.kind == kind))
    assert found is not None
    return int(found)


async def test_edits_deletions_and_reposts_end_to_end(
    api: FakeTelegramAPI, slack: FakeSlack, world: World, database: Database, db_url: str
) -> None:
    dana = world.add_bluesky("dana.bsky.social", name="Dana", followers=5000)
    erlan = world.add_bluesky("erlan.bsky.social", name="Erlan", followers=7000)
    farida = world.add_bluesky("farida.bsky.social", name="Farida", followers=9000)
    dana.post("an older post", at=NOW - timedelta(hours=5))
    erlan.post("an older post of Erlan", at=NOW - timedelta(hours=5))
    doomed = erlan.post(DOOMED, at=NOW - timedelta(hours=1))
    farida.post("Farida's own post", at=NOW - timedelta(hours=3))
    await seed(database, ["dana.bsky.social", "erlan.bsky.social", "farida.bsky.social"])

    async def baselines() -> bool:
        async with database.sessions() as s:
            return len((await s.scalars(select(AccountState))).all()) == 3

    app = App(settings_for(db_url, api, slack, world), db=database)
    await app.start()
    try:
        await until(baselines)
        school = dana.post(SCHOOL)
        await until(lambda: alerts(api, "📝") and slack_alerts(slack, "📝"))
        school.text = REWRITTEN  # the official rewrites the start of the post
        world.bluesky["erlan.bsky.social"].posts.remove(doomed)  # another deletes one
        farida.repost(
            "someone.bsky.social", "a post by someone else", written=NOW - timedelta(days=5)
        )
        await until(lambda: alerts(api, "✏️") and slack_alerts(slack, "✏️"))
        await until(lambda: alerts(api, "🗑") and slack_alerts(slack, "🗑"))
        farida.posts = [p for p in farida.posts if p.repost_of is None]  # un-reposted
        polled = world.requests["bluesky:farida.bsky.social"]
        await until(lambda: world.requests["bluesky:farida.bsky.social"] >= polled + 8)
        edited = await evidence_of(
            api, None, evidence_action(await event_id(database, "post_edited"))
        )
        deleted = await evidence_of(
            api, f"/evidence ={await event_id(database, 'post_deleted')}", None
        )
    finally:
        await app.stop()

    # The new post's alert, then the edit in its thread: a reply on Telegram, a broadcast
    # thread reply on Slack; the edit shows the removed and the added words.
    (new_tg,) = alerts(api, "📝")
    (edit_tg,) = alerts(api, "✏️")
    assert edit_tg.reply_to == new_tg.message_id
    assert edit_tg.params["reply_parameters"]["allow_sending_without_reply"] is True
    assert "<s>Сегодня</s>" in edit_tg.text
    assert "<b>Вчера торжественно</b>" in edit_tg.text
    (new_sl,) = slack_alerts(slack, "📝")
    (edit_sl,) = slack_alerts(slack, "✏️")
    assert edit_sl["thread_ts"] == new_sl["ts"]
    assert str(edit_sl["reply_broadcast"]).lower() in ("true", "1")
    assert "~Сегодня~" in blocks_text(edit_sl)
    assert "*Вчера торжественно*" in blocks_text(edit_sl)

    # The deletion quotes the text, escaped, and says when it vanished.
    (gone_tg,) = alerts(api, "🗑")
    assert "Проект закона о &lt;b&gt;медиа&lt;/b&gt; отправлен на доработку &amp; ждёт" in (
        gone_tg.text
    )
    assert "Vanished" in gone_tg.text
    assert " between " in gone_tg.text
    assert "confirmed by 2 checks" in gone_tg.text
    (gone_sl,) = slack_alerts(slack, "🗑")
    assert "&lt;b&gt;медиа&lt;/b&gt;" in blocks_text(gone_sl)

    # A repost and its undoing raised nothing, anywhere.
    for sent in api.messages_to(JOURNALIST):
        assert "Farida" not in sent.text
    assert not [p for p in slack.posts if "Farida" in str(p.get("text"))]

    # The evidence files carry the SHA-256 of the fragments the store kept.
    for doc, handle, text in ((edited, "dana.bsky.social", REWRITTEN),
                              (deleted, "erlan.bsky.social", DOOMED)):  # fmt: skip
        versions = await stored_versions(database, handle, text)
        assert [v["raw_sha256"] for v in doc["versions"]] == [v.raw_sha256 for v in versions]
        for v in versions:
            assert v.raw is not None
            assert v.raw_sha256 == hashlib.sha256(v.raw.encode()).hexdigest()
    assert [v["text"] for v in edited["versions"]] == [SCHOOL, REWRITTEN]
    assert [v["text"] for v in deleted["versions"]] == [DOOMED]
