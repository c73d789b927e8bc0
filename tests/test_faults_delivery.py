"""The Bot API and the Slack API failing at random: the relay recovers and loses nothing.

The real relay drains one outbox to a Telegram chat (fake Bot API) and a Slack channel
(fake Slack) while both answer 429, 5xx and time out at random (seeded). Every alert
arrives; one arrives twice only when the platform took it but the answer was lost (a
timeout after sending: an unknowable outcome), and never more than twice.

By the relay's policy a delivery whose outcome was unknowable twice in a row is given up
(a third copy could reach the chat), so this test never times out the retry of a
delivery that already had an unknowable outcome; the policy itself is tested with the
relay (tests/test_relay_delivery.py).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.chat.slack import SlackBackend
from bot.chat.telegram import TelegramBackend
from bot.commands.service import CommandService
from bot.config import Settings, load_settings
from bot.notify.relay import Relay
from bot.store.engine import Database
from bot.store.models import Account, Chat, Delivery, EventRow, Official, utcnow
from tests.crash_summary import Tally
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, TEAM_ID, FakeSlack
from tests.fakes.telegram_api import FakeTelegramAPI

EVENTS = 24
FAULTY_PASSES = 15
TG_CHAT = 777
SLACK_CHANNEL = "C0NEWS"
MARK = re.compile(r"(?<![A-Za-z0-9])E\d{3}(?!\d)")  # may sit inside _italic_ markup


@pytest.fixture
async def apis() -> AsyncIterator[tuple[FakeTelegramAPI, FakeSlack]]:
    telegram = FakeTelegramAPI()
    await telegram.start()
    slack = await FakeSlack().start()
    slack.add_channel(SLACK_CHANNEL)
    try:
        yield telegram, slack
    finally:
        await slack.close()
        await telegram.close()


async def _seed(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.sessions() as session:
        official = Official(slug="dana", name="Dana Omarova", search_key="dana omarova")
        account = Account(platform="telegram", handle="dana_ch", url="https://t.me/dana_ch")
        official.accounts.append(account)
        tg = Chat(backend="telegram", external_id=str(TG_CHAT), kind="private", locale="en")
        sl = Chat(backend="slack", external_id=SLACK_CHANNEL, team_id=TEAM_ID, kind="group")
        session.add_all([official, tg, sl])
        await session.flush()
        for n in range(EVENTS):
            event = EventRow(
                account_id=account.id,
                official_id=official.id,
                kind="new_post",
                payload={
                    "platform": "telegram",
                    "handle": "dana_ch",
                    "url": f"https://t.me/dana_ch/{n}",
                    "profile_url": "https://t.me/dana_ch",
                    "post_id": str(n),
                    "text": f"Statement E{n:03d}",
                    "published_at": now.isoformat(),
                },
                occurred_at=now,
                dedup_key=f"{account.id}:new_post:{n}",
            )
            session.add(event)
            await session.flush()
            session.add_all([Delivery(event_id=event.id, chat_id=c.id) for c in (tg, sl)])
        await session.commit()


def _inject(
    rng: random.Random, tg: FakeTelegramAPI, slack: FakeSlack, tally: Tally, *, timeouts: bool
) -> None:
    """Queue a few random failures on both platforms for the next pass."""
    tg.faults.clear()
    slack.failures.clear()
    for _ in range(rng.randint(0, 2)):
        kind = rng.choice(["429", "server_error", "hang"] if timeouts else ["429", "server_error"])
        if kind == "hang":
            tg.fail("hang", hang_s=1.3)
        elif kind == "429":
            tg.fail("429", retry_after=1)
        else:
            tg.fail("server_error")
        tally.fault(f"telegram.{kind}")
    for _ in range(rng.randint(0, 2)):
        kind = rng.choice(["ratelimited", "internal_error", "service_unavailable"])
        status = {"ratelimited": 429, "internal_error": 500, "service_unavailable": 503}[kind]
        retry = 1 if status == 429 else None
        slack.fail_next("chat.postMessage", kind, status=status, retry_after=retry)
        tally.fault(f"slack.{kind}")
    # Slack sometimes answers too late: the message is posted, the answer is lost.
    slack.post_delay = 1.3 if timeouts and rng.random() < 0.15 else 0.0
    if slack.post_delay:
        tally.fault("slack.timeout_after_post")


async def _due_now(db: Database) -> None:
    # Retry-After and back-off push rows into the future; the test does not wait them out.
    async with db.sessions() as session:
        await session.execute(
            update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=utcnow())
        )
        await session.commit()


@dataclass
class DeliveryFaultResult:
    """Messages that reached each platform, and how the outbox rows ended."""

    expected: set[tuple[str, str]]
    sent: Counter[tuple[str, str]]
    unexplained: dict[tuple[str, str], int]
    not_sent: list[str]

    @property
    def lost(self) -> set[tuple[str, str]]:
        """Alerts that never reached their chat."""
        return self.expected - set(self.sent)

    def record(self, tally: Tally) -> None:
        """Add this run to the suite summary."""
        dupes = {key: n for key, n in self.sent.items() if n > 1}
        tally.scenario("faults.delivery")
        tally.alerts(
            expected=len(self.expected),
            delivered=len(self.expected & set(self.sent)),
            duplicated=sum(n - 1 for n in dupes.values()),
            duplicated_unknowable=sum(n - 1 for k, n in dupes.items() if k not in self.unexplained),
            lost=len(self.lost),
            false_alerts=len(set(self.sent) - self.expected),
        )


def _settings(tg_api: FakeTelegramAPI, slack_api: FakeSlack) -> Settings:
    return load_settings(
        None,
        telegram={"token": tg_api.token, "base_url": tg_api.base_url, "send_timeout": "1s"},
        slack={
            "bot_token": BOT_TOKEN,
            "app_token": APP_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "mode": "socket",
            "base_url": slack_api.base_url,
        },
        relay={
            "per_chat_interval": "0s",
            "per_group_per_minute": 10000,
            "tick": "50ms",
            "max_attempts": 100,
            "lease": "1s",
        },
        i18n={"default_locale": "en"},
    )


async def run_delivery_faults(
    db: Database,
    tg_api: FakeTelegramAPI,
    slack_api: FakeSlack,
    *,
    seed: int,
    tally: Tally,
    faulty_passes: int = FAULTY_PASSES,
) -> DeliveryFaultResult:
    """Drain the outbox while both platforms fail at random; then count what arrived."""
    settings = _settings(tg_api, slack_api)
    commands = CommandService(db=db, settings=settings)
    telegram = TelegramBackend(settings=settings, commands=commands)
    await telegram.app.initialize()
    slack = SlackBackend(settings=settings, commands=commands, min_interval=0.0, timeout=1)
    await slack.start()
    await _seed(db)
    relay = Relay(db=db, backends={"telegram": telegram, "slack": slack}, settings=settings)
    rng = random.Random(seed)
    rows: list[Delivery] = []
    try:
        for n in range(max(200, faulty_passes * 4)):
            unknown = any(d.unknown_outcomes for d in rows)
            if n < faulty_passes:
                _inject(rng, tg_api, slack_api, tally, timeouts=not unknown)
            else:
                tg_api.faults.clear()
                slack_api.failures.clear()
                slack_api.post_delay = 0.0
            await relay.drain()
            async with db.sessions() as session:
                rows = list((await session.scalars(select(Delivery))).all())
            if all(d.status in ("sent", "failed", "skipped") for d in rows):
                break
            await _due_now(db)
    finally:
        slack_api.post_delay = 0.0
        await slack.stop()
        await telegram.app.shutdown()
    return await _outcome(db, tg_api, slack_api, rows)


async def _outcome(
    db: Database, tg_api: FakeTelegramAPI, slack_api: FakeSlack, rows: list[Delivery]
) -> DeliveryFaultResult:
    unknowable = {(d.chat_id, d.event_id) for d in rows if d.unknown_outcomes}
    chats = {c.backend: c.id for c in (await _chats(db))}
    events = {e.payload["text"].split()[-1]: e.id for e in await _events(db)}
    sent: Counter[tuple[str, str]] = Counter()
    for message in tg_api.messages_to(TG_CHAT):
        for mark in MARK.findall(message.text):
            sent["telegram", mark] += 1
    for post in slack_api.posts:
        for mark in set(MARK.findall(str(post.get("text", "")) + str(post.get("blocks", "")))):
            sent["slack", mark] += 1
    unexplained = {
        key: n
        for key, n in sent.items()
        if n > 1 and (n > 2 or (chats[key[0]], events.get(key[1])) not in unknowable)
    }
    return DeliveryFaultResult(
        expected={(backend, mark) for backend in ("telegram", "slack") for mark in events},
        sent=sent,
        unexplained=unexplained,
        not_sent=[f"{d.id}: {d.status} {d.last_error}" for d in rows if d.status != "sent"],
    )


@pytest.mark.parametrize("seed", [11, 12])
async def test_platform_faults_lose_nothing(
    apis: tuple[FakeTelegramAPI, FakeSlack], database: Database, seed: int, crash_tally: Tally
) -> None:
    result = await run_delivery_faults(database, *apis, seed=seed, tally=crash_tally)
    result.record(crash_tally)
    assert result.not_sent == []
    assert not result.lost
    assert not result.unexplained
    assert set(result.sent) <= result.expected


async def _chats(db: Database) -> list[Chat]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Chat))).all())


async def _events(db: Database) -> list[EventRow]:
    async with db.sessions() as session:
        return list((await session.scalars(select(EventRow))).all())
