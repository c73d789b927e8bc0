"""Digests: one message per chat, at the chat's digest time, summarising queued events.

The fan-out stores a delivery with status ``digest`` for every event a digest-mode
subscription wants. At the chat's time (daily, or Mondays for weekly, in the chat's time
zone) :class:`DigestSender` sends one message summarising those rows and, in the same
transaction, marks them ``sent`` and records ``digest_last_sent_at``. With nothing queued
it only records the time: a quiet day sends nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import parse_time, zone
from bot.config import Settings
from bot.errors import BadMarkup, ChatGone, DeliveryError
from bot.i18n import format_date, format_number, normalize_locale, t
from bot.notify.render import render_event
from bot.reply import ChatAddress, ChatBackend, Line, Paragraph, Reply, Span
from bot.store.engine import Database
from bot.store.models import Account, Chat, Delivery, EventRow, Official

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


class DigestSender:
    """Sends each due chat its digest through that chat's backend."""

    def __init__(
        self, *, db: Database, backends: Mapping[str, ChatBackend], settings: Settings
    ) -> None:
        self._db = db
        self._backends = backends
        self._settings = settings

    async def run_due(self, now: datetime | None = None) -> int:
        """Send every digest that is due at ``now``; return how many messages were sent."""
        now = now or datetime.now(UTC)
        default_tz = self._settings.i18n.timezone
        async with self._db.sessions() as session:
            stmt = select(Chat).where(Chat.digest.in_(("daily", "weekly")), Chat.active.is_(True))
            chats = list((await session.scalars(stmt)).all())
        sent = 0
        for chat in chats:
            if chat.backend in self._backends and is_due(chat, now, default_tz):
                try:
                    sent += await self._send_chat(chat.id, now)
                except DeliveryError as exc:
                    # Rolled back: the rows stay queued and the next tick tries again.
                    log.warning("digest for chat %s not sent: %s", chat.id, type(exc).__name__)
        return sent

    async def _send_chat(self, chat_id: int, now: datetime) -> int:
        async with self._db.sessions() as session, session.begin():
            stmt = select(Chat).where(Chat.id == chat_id)
            if self._db.dialect == "postgresql":
                # Another worker holding this chat is sending its digest right now.
                stmt = stmt.with_for_update(skip_locked=True)
            chat = (await session.scalars(stmt)).first()
            if chat is None or not is_due(chat, now, self._settings.i18n.timezone):
                return 0
            queued = (Delivery.chat_id == chat.id, Delivery.status == "digest",
                      Delivery.created_at <= now)  # fmt: skip
            total = (await session.execute(select(func.count()).where(*queued))).scalar_one()
            sent = 0
            if total:
                reply = await self._compose(session, chat, queued, total, now)
                sent = await self._deliver(chat, reply)
                if sent:
                    await session.execute(
                        update(Delivery).where(*queued).values(status="sent", sent_at=now)
                    )
            chat.digest_last_sent_at = now
            return sent

    async def _deliver(self, chat: Chat, reply: Reply) -> int:
        backend = self._backends[chat.backend]
        address = ChatAddress(chat.backend, chat.external_id, chat.team_id)
        try:
            await backend.send(address, reply)
        except BadMarkup:
            await backend.send(address, reply, plain=True)
        except ChatGone as exc:
            chat.active = False
            chat.inactive_reason = exc.reason
            return 0
        return 1

    async def _compose(
        self,
        session: AsyncSession,
        chat: Chat,
        queued: tuple[object, ...],
        total: int,
        now: datetime,
    ) -> Reply:
        locale = normalize_locale(chat.locale or self._settings.i18n.default_locale)
        tz = str(zone(chat.timezone, self._settings.i18n.timezone))
        stmt = (
            select(EventRow, Account, Official)
            .join(Delivery, Delivery.event_id == EventRow.id)
            .outerjoin(Account, Account.id == EventRow.account_id)
            .outerjoin(Official, Official.id == EventRow.official_id)
            .where(*queued)  # type: ignore[arg-type]
            .order_by(EventRow.occurred_at, EventRow.id)
        )
        kinds: Counter[str] = Counter()
        lines: list[Line] = []
        for event, account, official in (await session.execute(stmt)).all():
            kinds[event.kind] += 1
            if len(lines) < MAX_LINES:
                lines.append(_event_line(event, account, official, locale, tz))
        title = t(locale, f"reports.digest.title_{chat.digest}",
                  date=format_date(now, locale, tz=tz))  # fmt: skip
        head: list[Line] = [(Span(title, bold=True),)]
        summary = ", ".join(
            f"{t(locale, f'reports.digest.kind.{kind}')}: {format_number(n, locale)}"
            for kind, n in kinds.most_common()
        )
        head.append((Span(summary[:1].upper() + summary[1:]),))
        if total > len(lines):
            more = t(locale, "reports.digest.more", count=format_number(total - len(lines), locale))
            lines.append((Span(more, italic=True),))
        return Reply(blocks=(Paragraph(tuple(head)), Paragraph(tuple(lines))), summary=title)


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
