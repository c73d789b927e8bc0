"""/evidence and govwatch evidence on a real database: which post, and what its files hold.

Posts, versions and events are written through the models, as the write path stores
them (issue 16's contract): fragments with their SHA-256, the account's page window in
``account_state.extra``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.actions import action_command, evidence_action
from bot.chat.console import ConsoleBackend
from bot.cli import main
from bot.commands.local import console_caller
from bot.commands.registry import COMMANDS
from bot.commands.service import CommandService
from bot.config import load_settings
from bot.detect.state import text_hash
from bot.domain import PostSeen
from bot.i18n import LOCALES, t
from bot.names import search_key
from bot.poll.writer import BatchWriter
from bot.reply import Caller, Reply, render_plain
from bot.reports.evidence import Choices, Found, NoPost, NotWatched, find_by_link, iso_z
from bot.store.engine import Database
from bot.store.fanout import Fanout
from bot.store.migrate import upgrade_database
from bot.store.models import (
    Account,
    AccountState,
    Chat,
    Delivery,
    EventRow,
    Official,
    Post,
    PostVersion,
)
from bot.store.observations import load_states
from tests.test_poll_store import make_accounts, observation, pending_write

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PUBLISHED = NOW - timedelta(days=2)
HOSTILE = '<div class="tgme_widget_message_wrap"><script>alert("x")</script><b>старый</b></div>'
NEW_RAW = (
    '<div class="tgme_widget_message_wrap"><div class="text">новый текст &amp; ещё</div></div>'
)
LIVE_RAW = '{"id": "138", "text": "живой пост"}'
LINK = "https://t.me/musin_digital/137"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Seeded:
    official_id: int
    account_id: int
    deleted_post: int
    live_post: int
    tampered_post: int
    events: dict[str, int]
    chat_external_id: str


async def seed(db: Database, *, official_name: str = "Bagdat Musin") -> Seeded:
    """An official with a deleted and edited post, a live one, a tampered one, and a feed."""
    async with db.sessions() as s:
        official = Official(slug="musin", name=official_name, name_ru="Багдат Мусин",
                            position="Minister <b>of</b> Digital Development",
                            search_key=search_key([official_name, "Багдат Мусин"]))  # fmt: skip
        s.add(official)
        await s.flush()
        tg = Account(official_id=official.id, platform="telegram", handle="musin_digital",
                     url="https://t.me/musin_digital")  # fmt: skip
        feed = Account(official_id=official.id, platform="rss", handle="https://gov.kz/press.rss",
                       url="https://gov.kz/press.rss")  # fmt: skip
        s.add_all([tg, feed])
        await s.flush()
        first, second = PUBLISHED + timedelta(minutes=5), PUBLISHED + timedelta(hours=3)
        gone_last, gone_missed = NOW - timedelta(hours=2), NOW - timedelta(hours=1, minutes=45)
        deleted = Post(account_id=tg.id, platform_post_id="137", url=LINK,
                       published_at=PUBLISHED, text="новый текст & ещё", edited=True,
                       deleted=True, deleted_at=NOW - timedelta(hours=1), first_seen_at=first,
                       last_seen_at=second, versions=2, views=900)  # fmt: skip
        live = Post(account_id=tg.id, platform_post_id="138", url="https://t.me/musin_digital/138",
                    published_at=PUBLISHED + timedelta(hours=1), text="живой пост",
                    first_seen_at=first + timedelta(hours=1),
                    last_seen_at=first + timedelta(hours=1))  # fmt: skip
        tampered = Post(account_id=tg.id, platform_post_id="139",
                        url="https://t.me/musin_digital/139", published_at=PUBLISHED,
                        text="подменённый", first_seen_at=first, last_seen_at=first)  # fmt: skip
        article = Post(account_id=feed.id, platform_post_id="https://gov.kz/news/101",
                       url="https://gov.kz/news/101/", published_at=PUBLISHED, text="Пресс-релиз",
                       first_seen_at=first, last_seen_at=first)  # fmt: skip
        s.add_all([deleted, live, tampered, article])
        await s.flush()
        s.add_all([
            PostVersion(post_id=deleted.id, version=1, text="старый текст", raw=HOSTILE,
                        raw_sha256=sha(HOSTILE), first_seen_at=first, last_seen_at=second,
                        views=120),
            PostVersion(post_id=deleted.id, version=2, text="новый текст & ещё", raw=NEW_RAW,
                        raw_sha256=sha(NEW_RAW), first_seen_at=second, last_seen_at=gone_last,
                        views=900),
            PostVersion(post_id=live.id, version=1, text="живой пост", raw=LIVE_RAW,
                        raw_sha256=sha(LIVE_RAW), first_seen_at=first + timedelta(hours=1),
                        last_seen_at=first + timedelta(hours=1), views=10),
            PostVersion(post_id=tampered.id, version=1, text="подменённый", raw="<p>после</p>",
                        raw_sha256=sha("<p>до</p>"), first_seen_at=first, last_seen_at=first),
            PostVersion(post_id=article.id, version=1, text="Пресс-релиз", raw=None,
                        raw_sha256=None, first_seen_at=first, last_seen_at=first),
        ])  # fmt: skip
        s.add(
            AccountState(account_id=tg.id, status="ok", first_seen_at=first, observed_at=NOW,
                         extra={"window_at": (NOW - timedelta(minutes=10)).isoformat(),
                                "window": {"138": [live.published_at.isoformat(),
                                                   text_hash("живой пост"), False, 4321],
                                           "139": [None, text_hash("подменённый"), False, 5]}})
        )  # fmt: skip
        base = {"platform": "telegram", "handle": "musin_digital", "url": LINK,
                "profile_url": "https://t.me/musin_digital", "post_id": "137"}  # fmt: skip
        rows = {
            "new_post": EventRow(account_id=tg.id, official_id=official.id, kind="new_post",
                                 payload={**base, "text": "старый текст"}, occurred_at=PUBLISHED,
                                 detected_at=first, dedup_key=f"{tg.id}:new_post:137"),
            "post_edited": EventRow(account_id=tg.id, official_id=official.id, kind="post_edited",
                                    payload={**base, "old_text": "старый текст", "version": 2,
                                             "text": "новый текст & ещё"},
                                    occurred_at=second, detected_at=second,
                                    dedup_key=f"{tg.id}:post_edited:137:x"),
            "post_deleted": EventRow(account_id=tg.id, official_id=official.id,
                                     kind="post_deleted",
                                     payload={**base, "last_seen_at": gone_last.isoformat(),
                                              "first_missed_at": gone_missed.isoformat(),
                                              "misses": 2, "versions": 2, "views": 900},
                                     occurred_at=NOW - timedelta(hours=1),
                                     detected_at=NOW - timedelta(hours=1),
                                     dedup_key=f"{tg.id}:post_deleted:137"),
            # Another post's event and a non-post event: never in 137's file.
            "other": EventRow(account_id=tg.id, official_id=official.id, kind="new_post",
                              payload={**base, "post_id": "138"}, occurred_at=PUBLISHED,
                              detected_at=first, dedup_key=f"{tg.id}:new_post:138"),
            "followers": EventRow(account_id=tg.id, official_id=official.id, kind="followers_up",
                                  payload={"platform": "telegram"}, occurred_at=PUBLISHED,
                                  detected_at=first, dedup_key=f"{tg.id}:followers_up:1"),
        }  # fmt: skip
        s.add_all(rows.values())
        chat = Chat(backend="telegram", external_id="-100777", kind="group", title="Newsroom")
        s.add(chat)
        await s.flush()
        s.add(Delivery(event_id=rows["post_deleted"].id, chat_id=chat.id, status="sent"))
        await s.commit()
        return Seeded(official.id, tg.id, deleted.id, live.id, tampered.id,
                      {k: v.id for k, v in rows.items()}, chat.external_id)  # fmt: skip


@pytest.fixture
async def seeded(database: Database) -> Seeded:
    return await seed(database)


@pytest.fixture
def service(database: Database, db_url: str) -> CommandService:
    settings = load_settings(None, database={"url": db_url}, i18n={"timezone": "Asia/Almaty"})
    return CommandService(db=database, settings=settings, services={"clock": lambda: NOW})


def reader(lang: str = "en", chat: str = "5") -> Caller:
    return Caller(backend="telegram", user_id="5", chat_id=chat, language_hint=lang)


def files_of(reply: Reply) -> dict[str, bytes]:
    assert reply.attachment is not None, render_plain(reply)
    assert reply.attachment.mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.attachment.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def document(reply: Reply) -> dict[str, Any]:
    files = files_of(reply)
    (name,) = [n for n in files if n.endswith(".json")]
    return dict(json.loads(files[name]))


def html_of(reply: Reply) -> str:
    files = files_of(reply)
    (name,) = [n for n in files if n.endswith(".html")]
    return files[name].decode("utf-8")


# --- which post ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [LINK, "https://t.me/s/musin_digital/137", "http://t.me/musin_digital/137/",
     "t.me/Musin_Digital/137?single", "https://telegram.me/musin_digital/137#c"],
)  # fmt: skip
async def test_a_link_written_any_way_finds_the_post(
    database: Database, seeded: Seeded, link: str
) -> None:
    async with database.sessions() as session:
        found = await find_by_link(session, link)
    assert isinstance(found, Found)
    assert found.post.id == seeded.deleted_post


async def test_a_feed_post_is_found_by_its_link_as_stored(
    database: Database, seeded: Seeded
) -> None:
    async with database.sessions() as session:
        found = await find_by_link(session, "http://www.gov.kz/news/101?utm_source=tg")
        other = await find_by_link(session, "https://gov.kz/news/102")
        site = await find_by_link(session, "https://akorda.kz/news/101")
    assert isinstance(found, Found)
    assert found.post.platform == "rss"
    assert isinstance(other, NoPost)
    assert other.account is not None
    assert other.account.platform == "rss"
    assert isinstance(site, NotWatched)
    assert site.host == "akorda.kz"


async def test_not_watched_and_not_stored_are_told_apart(
    database: Database, seeded: Seeded
) -> None:
    async with database.sessions() as session:
        unwatched = await find_by_link(session, "https://t.me/someone_else/5")
        unstored = await find_by_link(session, "https://t.me/musin_digital/99999")
        youtube = await find_by_link(session, "https://youtu.be/dQw4w9WgXcQ")
    assert isinstance(unwatched, NotWatched)
    assert (unwatched.platform, unwatched.handle) == ("telegram", "someone_else")
    assert isinstance(unstored, NoPost)
    assert unstored.account is not None
    assert unstored.account.handle == "musin_digital"
    assert isinstance(youtube, NotWatched)
    assert youtube.platform == "youtube"


async def test_one_link_stored_by_two_accounts_offers_a_choice(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    async with database.sessions() as s:
        other = Official(slug="deputy", name="Deputy", search_key=search_key(["Deputy"]))
        s.add(other)
        await s.flush()
        feed = Account(official_id=other.id, platform="rss", handle="https://gov.kz/all.rss")
        s.add(feed)
        await s.flush()
        s.add(Post(account_id=feed.id, platform_post_id="guid-101", url="https://gov.kz/news/101",
                   text="Пресс-релиз", first_seen_at=NOW, last_seen_at=NOW))  # fmt: skip
        await s.commit()
    async with database.sessions() as session:
        found = await find_by_link(session, "https://gov.kz/news/101")
    assert isinstance(found, Choices)
    assert len(found.posts) == 2
    reply = await service.handle(reader(), "/evidence https://gov.kz/news/101")
    assert t("en", "evidence.choose") in render_plain(reply)
    actions = [b.action for row in reply.buttons for b in row]
    assert len(actions) == 2
    chosen = await service.handle_action(reader(), actions[1])
    assert document(chosen)["post"]["post_id"] == "guid-101"


# --- the file -------------------------------------------------------------------------------


async def test_the_file_holds_every_version_with_hashes_that_match_the_store(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    reply = await service.handle(reader(), f"/evidence {LINK}")
    doc = document(reply)
    assert doc["format"] == "govwatch-evidence/1"
    assert doc["generated_at"] == "2026-12-03T09:00:00Z"
    assert doc["generator"]["name"] == "govwatch"
    assert doc["generator"]["version"]
    async with database.sessions() as s:
        stored = (
            await s.scalars(
                select(PostVersion)
                .where(PostVersion.post_id == seeded.deleted_post)
                .order_by(PostVersion.version)
            )
        ).all()
    assert [v["version"] for v in doc["versions"]] == [1, 2]
    for row, version in zip(stored, doc["versions"], strict=True):
        assert version["raw"] == row.raw
        assert version["raw_sha256"] == row.raw_sha256
        assert version["raw_sha256_computed"] == sha(row.raw or "") == row.raw_sha256
        assert version["raw_check"] == "ok"
        assert version["text"] == row.text
        assert version["text_sha256"] == sha(row.text)
    assert doc["integrity"] == {"status": "ok", "verified": 2, "failed_versions": []}
    post = doc["post"]
    assert (post["url"], post["platform"], post["post_id"]) == (LINK, "telegram", "137")
    assert post["published_at"] == "2026-12-01T09:00:00Z"
    assert post["deleted"] is True
    assert post["deleted_at"] == "2026-12-03T08:00:00Z"
    assert post["last_seen_at"] == "2026-12-03T07:00:00Z"
    assert post["first_missed_at"] == "2026-12-03T07:15:00Z"
    assert post["deletion_confirmed_by_polls"] == 2
    assert (post["versions"], post["views"]) == (2, 900)
    profile = "https://t.me/musin_digital"
    assert doc["account"] == {
        "platform": "telegram",
        "handle": "musin_digital",
        "profile_url": profile,
        "watched": True,
    }
    assert doc["official"]["name"] == "Bagdat Musin"
    assert doc["official"]["names"] == {"ru": "Багдат Мусин"}
    assert [e["kind"] for e in doc["events"]] == ["new_post", "post_edited", "post_deleted"]
    assert [e["id"] for e in doc["events"]] == [
        seeded.events["new_post"], seeded.events["post_edited"], seeded.events["post_deleted"],
    ]  # fmt: skip
    text = render_plain(reply)
    assert "Evidence: Bagdat Musin, Telegram, post 137" in text
    assert t("en", "evidence.check_ok") in text
    assert "vanished between" in text
    assert reply.attachment is not None
    assert reply.attachment.filename == "evidence-telegram-137.zip"
    assert set(files_of(reply)) == {"evidence-telegram-137.json", "evidence-telegram-137.html"}


async def test_the_last_sighting_of_a_live_post_comes_from_the_page_window(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    doc = document(await service.handle(reader(), "/evidence https://t.me/musin_digital/138"))
    (version,) = doc["versions"]
    assert version["last_seen_source"] == "window"
    assert version["last_seen_at"] == "2026-12-03T08:50:00Z"
    assert version["views"] == 4321
    assert doc["post"]["last_seen_at"] == "2026-12-03T08:50:00Z"
    assert doc["post"]["views"] == 4321
    # A window older than the stored sighting, or showing another text, changes nothing.
    async with database.sessions() as s:
        state = await s.get(AccountState, seeded.account_id)
        assert state is not None
        state.extra = {**state.extra, "window_at": (PUBLISHED - timedelta(days=1)).isoformat()}
        await s.commit()
    again = document(await service.handle(reader(), "/evidence https://t.me/musin_digital/138"))
    assert again["versions"][0]["last_seen_source"] == "stored"
    assert again["versions"][0]["views"] == 10


async def test_a_fragment_that_no_longer_matches_its_hash_is_said_loudly(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    reply = await service.handle(reader(), "/evidence musin 139")
    doc = document(reply)
    (version,) = doc["versions"]
    assert version["raw_check"] == "mismatch"
    assert version["raw_sha256"] == sha("<p>до</p>")
    assert version["raw_sha256_computed"] == sha("<p>после</p>")
    assert doc["integrity"]["status"] == "mismatch"
    assert doc["integrity"]["failed_versions"] == [1]
    assert "WARNING" in render_plain(reply)
    page = html_of(reply)
    assert 'class="alarm"' in page
    assert t("en", "evidence.html.check.mismatch") in page


async def test_a_version_without_fragment_is_unverified_not_failed(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    reply = await service.handle(reader(), "/evidence https://gov.kz/news/101")
    doc = document(reply)
    assert doc["versions"][0]["raw_check"] == "no_fragment"
    assert doc["integrity"]["status"] == "unverified"
    assert t("en", "evidence.check_unverified") in render_plain(reply)
    assert reply.attachment is not None
    assert reply.attachment.filename.startswith("evidence-rss-https_gov_kz_news_101-")


async def test_the_page_escapes_every_outside_text_and_loads_nothing(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    page = html_of(await service.handle(reader(), f"/evidence {LINK}"))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;старый&lt;/b&gt;" in page
    assert "новый текст &amp;amp; ещё" in page  # the fragment's own entity, escaped once more
    assert "Minister &lt;b&gt;of&lt;/b&gt; Digital Development" in page
    assert "default-src 'none'" in page
    for outside in ("src=", "<link", "@import", "url("):
        assert outside not in page
    assert f'href="{LINK}"' in page
    assert sha(HOSTILE) in page
    assert sha(NEW_RAW) in page


@pytest.mark.parametrize("lang", LOCALES)
async def test_the_answer_and_the_page_speak_the_chats_language(
    database: Database, seeded: Seeded, service: CommandService, lang: str
) -> None:
    reply = await service.handle(reader(lang, chat=f"9{lang}"), f"/evidence {LINK}")
    name = "Багдат Мусин" if lang == "ru" else "Bagdat Musin"
    platform = t(lang, "reports.platform.telegram")
    assert t(lang, "evidence.caption", name=name, platform=platform, post_id="137") in (
        render_plain(reply)
    )
    page = html_of(reply)
    assert f'<html lang="{lang}">' in page
    assert t(lang, "evidence.html.integrity_ok") in page
    assert t(lang, "evidence.html.kind.post_deleted") in page


async def test_the_button_under_an_alert_sends_the_file_of_its_post(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    action = evidence_action(seeded.events["post_deleted"])
    assert action_command(action) == f"/evidence ={seeded.events['post_deleted']}"
    doc = document(await service.handle_action(reader(), action))
    assert doc["post"]["post_id"] == "137"
    other = document(await service.handle_action(reader(), evidence_action(seeded.events["other"])))
    assert other["post"]["post_id"] == "138"
    for event in (seeded.events["followers"], 987654321):
        reply = await service.handle_action(reader(), evidence_action(event))
        assert reply.attachment is None
        assert t("en", "evidence.no_event", event=str(event)) in render_plain(reply)


async def test_any_chat_may_ask_and_learns_nothing_about_other_chats(
    database: Database, seeded: Seeded, service: CommandService
) -> None:
    # The alert went to the newsroom group; a stranger's private chat asks for it.
    stranger = Caller(backend="slack", user_id="U1", chat_id="D42", team_id="T1",
                      language_hint="en")  # fmt: skip
    reply = await service.handle(stranger, f"/evidence ={seeded.events['post_deleted']}")
    files = files_of(reply)
    for data in files.values():
        text = data.decode("utf-8")
        assert seeded.chat_external_id not in text
        assert "Newsroom" not in text
        assert "deliveries" not in text


@pytest.mark.parametrize(
    ("words", "key", "params"),
    [
        ("https://t.me/someone_else/5", "evidence.not_watched_account",
         {"link": "https://t.me/someone_else/5", "handle": "someone_else",
          "platform": "Telegram"}),
        ("https://t.me/musin_digital/99999", "evidence.no_post_account",
         {"link": "https://t.me/musin_digital/99999", "handle": "musin_digital",
          "platform": "Telegram"}),
        ("https://youtu.be/dQw4w9WgXcQ", "evidence.not_watched_platform",
         {"link": "https://youtu.be/dQw4w9WgXcQ", "platform": "YouTube"}),
        ("https://akorda.kz/news/1", "evidence.not_watched_site",
         {"link": "https://akorda.kz/news/1", "host": "akorda.kz"}),
        ("Musin 99999", "evidence.no_post_id",
         {"name": "Bagdat Musin", "post_id": "99999",
          "accounts": "Telegram musin_digital, RSS https://gov.kz/press.rss"}),
        ("Musin youtube 5", "evidence.not_watched_official_on",
         {"name": "Bagdat Musin", "platform": "YouTube"}),
        ("Musin https://t.me/someone_else/5", "evidence.not_watched_account",
         {"link": "https://t.me/someone_else/5", "handle": "someone_else",
          "platform": "Telegram"}),
        ("Nobody youtube 5", "chat.not_found", {"query": "Nobody"}),
        ("hello", "evidence.bad_link", {"text": "hello"}),
        ("=nope", "evidence.no_event", {"event": "nope"}),
    ],
)  # fmt: skip
async def test_no_match_is_said_plainly(
    seeded: Seeded, service: CommandService, words: str, key: str, params: dict[str, str]
) -> None:
    reply = await service.handle(reader(), f"/evidence {words}")
    assert reply.attachment is None
    assert t("en", key, **params) in render_plain(reply)


async def test_an_official_and_a_post_id_or_link(seeded: Seeded, service: CommandService) -> None:
    for words in ("Musin 137", "Мусин telegram 137", f"Bagdat Musin {LINK}", "#1 137"):
        doc = document(await service.handle(reader(), f"/evidence {words}"))
        assert doc["post"]["post_id"] == "137", words
    unknown = await service.handle(reader(), "/evidence Nobody 137")
    assert t("en", "chat.not_found", query="Nobody") in render_plain(unknown)
    usage = render_plain(await service.handle(reader(), "/evidence"))
    assert t("en", "help.syntax.evidence") in usage


async def test_registered_listed_and_helped() -> None:
    assert "evidence" in COMMANDS
    assert not COMMANDS["evidence"].editor_only
    assert not COMMANDS["evidence"].changes_chat


async def test_the_console_saves_the_archive(
    database: Database, seeded: Seeded, service: CommandService, tmp_path: Path
) -> None:
    out = io.StringIO()
    console = ConsoleBackend(stream=out, commands=service, output=tmp_path)
    caller = console_caller(lang="en")
    await console.ask(caller, f"/evidence {LINK}")
    saved = tmp_path / "evidence-telegram-137.zip"
    assert saved.exists()
    assert str(saved) in out.getvalue()
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        doc = json.loads(archive.read("evidence-telegram-137.json"))
    assert [v["raw_sha256_computed"] for v in doc["versions"]] == [sha(HOSTILE), sha(NEW_RAW)]


# --- govwatch evidence ------------------------------------------------------------------------


def _seed_cli(url: str) -> Seeded:
    async def run() -> Seeded:
        db = Database(url)
        try:
            await upgrade_database(db.engine)
            return await seed(db)
        finally:
            await db.close()

    return asyncio.run(run())


def test_cli_writes_both_files_and_prints_their_hashes(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_cli(cli_db)
    out = tmp_path / "out"
    assert main(["evidence", "https://t.me/s/musin_digital/137/", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    json_path = out / "evidence-telegram-137.json"
    html_path = out / "evidence-telegram-137.html"
    for path in (json_path, html_path):
        assert f"{path}  sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}" in printed
    assert f"version 1: fragment sha256 {sha(HOSTILE)} ok" in printed
    assert f"version 2: fragment sha256 {sha(NEW_RAW)} ok" in printed
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert [v["raw_sha256"] for v in doc["versions"]] == [sha(HOSTILE), sha(NEW_RAW)]
    assert "&lt;script&gt;" in html_path.read_text(encoding="utf-8")
    # Again: the same names, replaced.
    assert main(["evidence", LINK, "--out", str(out), "--lang", "kk"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [html_path.name, json_path.name]
    assert '<html lang="kk">' in html_path.read_text(encoding="utf-8")


def test_cli_says_why_nothing_matches(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed_cli(cli_db)
    out = tmp_path / "out"
    assert main(["evidence", "https://t.me/someone_else/5", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("govwatch: no stored post matches https://t.me/someone_else/5")
    assert "telegram account someone_else is not watched" in err
    assert main(["evidence", "https://t.me/musin_digital/5", "--out", str(out)]) == 1
    assert "is watched, but this post was never stored" in capsys.readouterr().err
    assert main(["evidence", "not a link", "--out", str(out)]) == 2
    assert "not a link" in capsys.readouterr().err
    assert not out.exists()


def test_cli_flags_a_mismatch_and_takes_database_and_event(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    seeded = _seed_cli(cli_db)
    monkeypatch.delenv("GOVWATCH_DATABASE__URL")
    args = ["--database", cli_db, "--out", str(tmp_path)]
    assert main(["evidence", "https://t.me/musin_digital/139", *args]) == 0
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out
    assert "WARNING: the fragments of versions 1 do not match" in captured.err
    assert main(["evidence", f"={seeded.events['post_edited']}", *args]) == 0
    assert "evidence-telegram-137.json" in capsys.readouterr().out
    assert main(["evidence", LINK, "--database", "mysql://x/y"]) == 2


def test_cli_as_a_process(cli_db: str, tmp_path: Path) -> None:
    _seed_cli(cli_db)
    env = {**os.environ, "GOVWATCH_DATABASE__URL": cli_db}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "evidence", "https://youtu.be/dQw4w9WgXcQ"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no youtube account is watched" in result.stderr


# --- through the real write path ------------------------------------------------------------


class Polled:
    """One Bluesky account polled through detection and the batch writer (as the poller)."""

    def __init__(self, db: Database, account_id: int) -> None:
        self.db, self.account_id, self.step = db, account_id, 0

    def at(self, step: int) -> datetime:
        return POLL_START + timedelta(minutes=15 * step)

    async def poll(self, *posts: PostSeen) -> None:
        self.step += 1
        async with self.db.sessions() as s, s.begin():
            await s.execute(update(Account).values(lease_owner="me"))
        async with self.db.engine.connect() as conn:
            prev = (await load_states(conn, [self.account_id])).get(self.account_id)
        when = self.at(self.step)
        item = pending_write(self.account_id, 1, "me", prev, observation(when, *posts), Fanout())
        assert await BatchWriter(self.db, batch=1, clock=lambda: when).write(item) is not None


POLL_START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
BSKY_LINK = "https://bsky.app/profile/a0.bsky.social/post/3kedit"


def bsky(rkey: str, text: str, hours: int, views: int | None = None) -> PostSeen:
    raw = json.dumps({"uri": f"at://did:plc:x/app.bsky.feed.post/{rkey}", "text": text},
                     ensure_ascii=False, sort_keys=True)  # fmt: skip
    return PostSeen(rkey, f"https://bsky.app/profile/a0.bsky.social/post/{rkey}",
                    POLL_START - timedelta(hours=hours), text, views=views, raw=raw)  # fmt: skip


async def test_evidence_of_posts_the_poller_stored(
    database: Database, service: CommandService
) -> None:
    (account_id,) = await make_accounts(database, 1)
    acc = Polled(database, account_id)
    old = bsky("3kold", "an old post", 72)
    await acc.poll(old, bsky("3kedit", "Первая редакция <b>текста</b>", 10, views=5))
    await acc.poll(old, bsky("3kedit", "Первая редакция <b>текста</b>", 10, views=8))
    edited = bsky("3kedit", "Вторая редакция текста", 10, views=13)
    await acc.poll(old, edited)
    await acc.poll(old, bsky("3kedit", "Вторая редакция текста", 10, views=21))
    doc = document(await service.handle(reader(), f"/evidence {BSKY_LINK}"))
    assert [v["text"] for v in doc["versions"]] == ["Первая редакция <b>текста</b>",
                                                    "Вторая редакция текста"]  # fmt: skip
    assert [v["raw_check"] for v in doc["versions"]] == ["ok", "ok"]
    assert doc["versions"][1]["raw"] == edited.raw
    assert doc["versions"][1]["raw_sha256"] == sha(edited.raw or "")
    # Version 1 ended at the poll before the edit; version 2 is still on the page.
    assert doc["versions"][0]["last_seen_at"] == iso_z(acc.at(2))
    assert doc["versions"][0]["views"] == 8
    assert doc["versions"][1]["last_seen_source"] == "window"
    assert doc["versions"][1]["last_seen_at"] == iso_z(acc.at(4))
    assert doc["versions"][1]["views"] == 21
    assert [e["kind"] for e in doc["events"]] == ["post_edited"]
    # Deleted: two polls without it (confirm_polls = 2) while the old post is still shown.
    await acc.poll(old)
    await acc.poll(old)
    gone = document(await service.handle(reader(), f"/evidence {BSKY_LINK}"))
    post = gone["post"]
    assert post["deleted"] is True
    assert (post["last_seen_at"], post["first_missed_at"]) == (iso_z(acc.at(4)), iso_z(acc.at(5)))
    assert post["deletion_confirmed_by_polls"] == 2
    assert gone["versions"][1]["last_seen_source"] == "stored"
    assert gone["versions"][1]["last_seen_at"] == iso_z(acc.at(4))
    assert [e["kind"] for e in gone["events"]] == ["post_edited", "post_deleted"]
    assert gone["integrity"]["status"] == "ok"


async def seed_platforms(db: Database) -> None:
    """One account with one post on each platform whose links name posts differently."""
    rows = [
        ("mastodon", "dana@social.example", None, "1122", "https://social.example/@dana/1122"),
        ("vk", "minister", "-123", "45", "https://vk.com/wall-123_45"),
        ("youtube", "UCxxxxxxxxxxxxxxxxxxxxxx", None, "dQw4w9WgXcQ",
         "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("x", "dana", None, "1790000000000000000", "https://x.com/dana/status/1790000000000000000"),
        ("facebook", "MinistryPage", "222", "222_111",
         "https://www.facebook.com/MinistryPage/posts/pfbid02abc"),
        ("instagram", "dana.gov", None, "17900000000000001", "https://www.instagram.com/p/C1aBcD/"),
        ("bluesky", "dana.bsky.social", "did:plc:dana", "3kabc",
         "https://bsky.app/profile/dana.bsky.social/post/3kabc"),
        # A feed on a site whose paths look like Mastodon's: its ids are its own.
        ("rss", "https://blog.example/feed", None, "1122", "https://blog.example/@news/1122"),
    ]  # fmt: skip
    async with db.sessions() as s:
        official = Official(slug="dana", name="Dana Omarova", search_key=search_key(["Dana"]))
        s.add(official)
        await s.flush()
        for platform, handle, platform_id, post_id, url in rows:
            account = Account(official_id=official.id, platform=platform, handle=handle,
                              platform_id=platform_id)  # fmt: skip
            s.add(account)
            await s.flush()
            s.add(Post(account_id=account.id, platform_post_id=post_id, url=url, text=post_id,
                       first_seen_at=NOW, last_seen_at=NOW))  # fmt: skip
        await s.commit()


@pytest.mark.parametrize(
    ("link", "platform", "post_id"),
    [
        ("https://social.example/@Dana/1122", "mastodon", "1122"),
        ("https://social.example/users/dana/statuses/1122", "mastodon", "1122"),
        ("https://m.vk.com/wall-123_45", "vk", "45"),
        ("https://vk.com/minister?w=wall-123_45", "vk", "45"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ"),
        ("https://twitter.com/Dana/status/1790000000000000000?s=20", "x", "1790000000000000000"),
        ("https://x.com/i/web/status/1790000000000000000", "x", "1790000000000000000"),
        ("https://facebook.com/MinistryPage/posts/pfbid02abc/", "facebook", "222_111"),
        ("https://instagram.com/p/C1aBcD", "instagram", "17900000000000001"),
        ("https://bsky.app/profile/did:plc:dana/post/3kabc", "bluesky", "3kabc"),
        ("https://blog.example/@news/1122", "rss", "1122"),
        ("https://social.example/@other/1122", None, None),
        ("https://vk.com/wall-999_45", None, None),
        ("https://blog.example/@news/99", None, None),
        # Same id as the feed's guid, but another page: never taken for it.
        ("https://blog.example/@other/1122", None, None),
    ],
)
async def test_links_of_every_platform_find_their_post(
    database: Database, link: str, platform: str | None, post_id: str | None
) -> None:
    await seed_platforms(database)
    async with database.sessions() as session:
        found = await find_by_link(session, link)
    if platform is None:
        assert isinstance(found, NoPost | NotWatched), found
        return
    assert isinstance(found, Found), found
    assert (found.post.platform, found.post.platform_post_id) == (platform, post_id)
