"""Digests: one message per chat, at the chat's digest time, summarising queued events.

The fan-out stores a delivery with status ``digest`` for every event a digest-mode
subscription wants. At the chat's time (daily, or Mondays for weekly, in the chat's time
zone) :class:`DigestQueue` composes one reply summarising those rows and, in ONE
transaction with no network call, queues it as a ``pending`` delivery carrying the
stored reply, marks the summarised rows ``digested`` (pointing at it) and records
``digest_last_sent_at``. The outbox relay then sends it like any alert: same pacing,
429, chat-gone, migration, bad-markup and unknown-outcome handling; a permanent error
ends it. With nothing queued only the time is recorded: a quiet day sends nothing.
Events of an official the chat muted since they were queued are skipped, not listed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import parse_time, zone
from bot.config import Settings
from bot.failpoints import failpoint
from bot.i18n import format_date, format_number, normalize_locale, t
from bot.notify.render import render_event
from bot.reply import Line, Paragraph, Reply, Span, reply_to_json
from bot.store import digests as store
from bot.store.digests import QueuedEvent
from bot.store.engine import Database
from bot.store.models import Account, Chat, EventRow, Official, utcnow

log = logging.getLogger(__name__)

DEFAULT_TIME = time(9, 0)
#: Events listed one per line; the rest are counted.
MAX_LINES = 40
#: Post text shown per digest line.
EXCERPT = 80
_WEEKLY_DAY = 0  # Monday


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """A chat's digest schedule as stored: frequency, local time and zone."""

    frequency: str
    at: time
    tz: ZoneInfo


def plan_for(chat: Chat, default_tz: str) -> DigestPlan | None:
    """The chat's digest schedule, or None when digests are off."""
    if chat.digest not in ("daily", "weekly"):
        return None
    at = parse_time(chat.digest_time or "") or DEFAULT_TIME
    return DigestPlan(chat.digest, at, zone(chat.timezone, default_tz))


def latest_slot(plan: DigestPlan, now: datetime) -> datetime:
    """The most recent scheduled moment at or before ``now`` (aware UTC)."""
    local = now.astimezone(plan.tz)
    slot = datetime.combine(local.date(), plan.at, tzinfo=plan.tz)
    if slot > local:
        slot -= timedelta(days=1)
    if plan.frequency == "weekly":
        slot -= timedelta(days=(slot.weekday() - _WEEKLY_DAY) % 7)
    # Rebuild from the wall-clock date so a DST change never shifts the hour.
    slot = datetime.combine(slot.date(), plan.at, tzinfo=plan.tz)
    return slot.astimezone(UTC)


def is_due(chat: Chat, now: datetime, default_tz: str) -> bool:
    """True when a slot has passed since the chat's last digest (or since it was set)."""
    plan = plan_for(chat, default_tz)
    if plan is None or not chat.active:
        return False
    since = chat.digest_last_sent_at or chat.created_at
    return latest_slot(plan, now) > since


class DigestQueue:
    """Queues each due chat's digest in the outbox (the relay sends it)."""

    def __init__(
        self, *, db: Database, settings: Settings, backends: Iterable[str] | None = None
    ) -> None:
        self._db = db
        self._settings = settings
        # Only chats on these backends (None: all); the others keep their rows queued.
        self._backends = backends

    async def run_due(self, now: datetime | None = None) -> int:
        """Queue every digest that is due at ``now``; return how many were queued."""
        now = now or utcnow()
        default_tz = self._settings.i18n.timezone
        backends = None if self._backends is None else sorted(self._backends)
        async with self._db.sessions() as session:
            chats = await store.digest_chats(session, backends)
        queued = 0
        for chat in chats:
            if is_due(chat, now, default_tz):
                queued += await self.queue_chat(chat, now)
        return queued

    async def queue_chat(self, chat: Chat, now: datetime) -> int:
        """Compose and queue ``chat``'s digest (as read before) in one transaction; 1 if queued."""
        async with self._db.sessions() as session, session.begin():
            # Taking the slot first makes this the only worker queuing this digest.
            if not await store.take_slot(session, chat.id, seen=chat.digest_last_sent_at, now=now):
                return 0
            rows = await _unmuted(session, chat.id, now)
            if not rows:
                return 0
            reply = reply_to_json(self.compose(chat, rows, now))
            digest_id = await store.queue_digest(session, chat.id, reply)
            ids = [r.delivery_id for r in rows]
            await store.set_status(session, ids, {"status": "digested", "digest_id": digest_id})
            failpoint("digest.before_commit")
        log.info("digest for chat %s queued (%d events)", chat.id, len(rows))
        return 1

    def compose(self, chat: Chat, rows: Sequence[QueuedEvent], now: datetime) -> Reply:
        """The digest of ``rows`` for ``chat``: title, counts by kind, one line per event."""
        locale = normalize_locale(chat.locale or self._settings.i18n.default_locale)
        tz = str(zone(chat.timezone, self._settings.i18n.timezone))
        kinds: Counter[str] = Counter(r.event.kind for r in rows)
        lines: list[Line] = [
            _event_line(r.event, r.account, r.official, locale, tz) for r in rows[:MAX_LINES]
        ]
        # The event lines give times of day in the chat's zone: the title names it once.
        title = t(locale, f"reports.digest.title_{chat.digest}",
                  date=f"{format_date(now, locale, tz=tz)} ({tz})")  # fmt: skip
        head: list[Line] = [(Span(title, bold=True),)]
        summary = ", ".join(
            f"{t(locale, f'reports.digest.kind.{kind}')}: {format_number(n, locale)}"
            for kind, n in kinds.most_common()
        )
        head.append((Span(summary[:1].upper() + summary[1:]),))
        if len(rows) > len(lines):
            more = t(
                locale, "reports.digest.more", count=format_number(len(rows) - len(lines), locale)
            )
            lines.append((Span(more, italic=True),))
        return Reply(blocks=(Paragraph(tuple(head)), Paragraph(tuple(lines))), summary=title)


async def _unmuted(session: AsyncSession, chat_id: int, now: datetime) -> list[QueuedEvent]:
    """The chat's queued events to summarise; those of officials muted since are skipped."""
    rows = await store.queued_events(session, chat_id, now)
    officials = {r.event.official_id for r in rows if r.event.official_id}
    muted = await store.muted_officials(session, chat_id, officials, now)
    skipped = [r.delivery_id for r in rows if r.event.official_id in muted]
    await store.set_status(session, skipped, {"status": "skipped", "last_error": "muted"})
    return [r for r in rows if r.event.official_id not in muted]


def _event_line(
    event: EventRow, account: Account | None, official: Official | None, locale: str, tz: str
) -> Line:
    rendered = render_event(event, official=official, account=account, locale=locale, tz=tz)
    payload = event.payload or {}
    when = event.occurred_at.astimezone(ZoneInfo(tz))
    text = f"{when:%d.%m %H:%M} {rendered.summary or event.kind}"
    excerpt = " ".join(str(payload.get("text") or "").split())
    if excerpt and event.kind in ("new_post", "post_edited", "post_deleted"):
        cut = excerpt[:EXCERPT] + ("…" if len(excerpt) > EXCERPT else "")
        text += f" — {cut}"
    url = payload.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return (Span("• "), Span(text, link=url))
    return (Span("• " + text),)
