"""The weekly leaderboard digest: ``/top`` with rank moves, once a week per chat.

A chat turns it on with ``/digest top [watchlist] [platform] [metric] [HH:MM]``: every
Monday at that time in the chat's zone (as the weekly event digest) the leaderboard of
the last 7 days is composed, with each official's move against the 7 days before, and
queued in the outbox in ONE transaction that first takes the week's slot (a conditional
update of ``leaderboard_digests.last_sent_at``). So a week is queued once whatever
happens: two workers race for the slot and one wins; a crash before the commit leaves
nothing queued and the slot untaken, and the next tick queues it; after the commit the
relay delivers it like any alert (retried once, never twice, if a send's outcome was
unknowable). The board is read before that transaction, so the slot's lock is held
only for two writes. A week with nothing to rank takes the slot and sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.clock import parse_time, zone
from bot.config import Settings
from bot.failpoints import failpoint
from bot.i18n import format_date, format_datetime, format_number, format_percent, t
from bot.notify.digest import DEFAULT_TIME, DigestPlan, latest_slot
from bot.reply import Reply, ReplyBuilder, Span, Table, reply_to_json
from bot.reports.leaderboard import Entry, Leaderboard, top
from bot.reports.movement import Move, rank_moves
from bot.reports.movement_text import move_note, move_text
from bot.store import digests as outbox
from bot.store.engine import Database
from bot.store.leaderboard_digests import LeaderboardPlan, leaderboard_plans, take_leaderboard_slot
from bot.store.models import utcnow

log = logging.getLogger(__name__)

PERIOD = timedelta(days=7)
LIMIT = 10


def slot_of(plan: LeaderboardPlan, now: datetime, default_tz: str) -> datetime:
    """The latest weekly moment of ``plan`` at or before ``now`` (aware UTC)."""
    at = parse_time(plan.digest.digest_time or "") or DEFAULT_TIME
    return latest_slot(DigestPlan("weekly", at, zone(plan.chat.timezone, default_tz)), now)


def is_due(plan: LeaderboardPlan, now: datetime, default_tz: str) -> bool:
    """True when a Monday slot has passed since the last leaderboard (or since it was set)."""
    since = plan.digest.last_sent_at or plan.digest.created_at
    return plan.chat.active and slot_of(plan, now, default_tz) > since


class LeaderboardDigests:
    """Queues each due chat's weekly leaderboard in the outbox (the relay sends it)."""

    def __init__(
        self, *, db: Database, settings: Settings, backends: Iterable[str] | None = None
    ) -> None:
        self._db = db
        self._settings = settings
        self._backends = None if backends is None else sorted(backends)

    async def run_due(self, now: datetime | None = None) -> int:
        """Queue every weekly leaderboard due at ``now``; how many were queued."""
        now = now or utcnow()
        default_tz = self._settings.i18n.timezone
        async with self._db.sessions() as session:
            plans = await leaderboard_plans(session, self._backends)
        queued = 0
        for plan in plans:
            if is_due(plan, now, default_tz):
                queued += await self.queue_chat(plan, now)
        return queued

    async def queue_chat(self, plan: LeaderboardPlan, now: datetime) -> int:
        """Compose ``plan``'s leaderboard, then take the slot and queue it; 1 if queued."""
        digest = plan.digest
        async with self._db.sessions() as session:
            board = await top(
                session,
                metric=digest.metric,
                platform=digest.platform,
                period=PERIOD,
                watchlist=plan.watchlist,
                limit=LIMIT,
                now=now,
            )
            moves = await rank_moves(session, board)
        reply = None if board.empty else self.compose(plan, board, moves)
        async with self._db.sessions() as session, session.begin():
            # Taking the slot first makes this the only worker queuing this week's board.
            seen = digest.last_sent_at
            if not await take_leaderboard_slot(session, digest.chat_id, seen=seen, now=now):
                return 0
            if reply is None:
                return 0
            await outbox.queue_digest(session, digest.chat_id, reply_to_json(reply))
            failpoint("leaderboard_digest.before_commit")
        log.info("weekly leaderboard for chat %s queued", digest.chat_id)
        return 1

    def compose(
        self, plan: LeaderboardPlan, board: Leaderboard, moves: Mapping[int, Move]
    ) -> Reply:
        """The weekly leaderboard message for ``plan``'s chat."""
        locale = plan.chat.locale or self._settings.i18n.default_locale
        tz = str(zone(plan.chat.timezone, self._settings.i18n.timezone))
        title = t(locale, "ranks.digest.title", date=format_date(board.measured_at, locale, tz=tz))
        scope = plan.watchlist or t(locale, "reports.all_officials")
        platform = (
            t(locale, f"reports.platform.{board.platform}")
            if board.platform
            else t(locale, "reports.all_platforms")
        )
        metric = t(locale, f"ranks.metric.{board.metric}")
        builder = ReplyBuilder().line(Span(title, bold=True))
        builder.line(f"{scope} · {platform} · {metric}")
        header = ("#", t(locale, "reports.col.official"), _value_header(locale, board),
                  t(locale, "ranks.col.move"))  # fmt: skip
        rows = tuple(
            (str(e.rank), e.official.display(locale), _value(locale, board, e),
             move_text(locale, moves[e.official.id]) if e.official.id in moves else "?")
            for e in board.entries
        )  # fmt: skip
        builder.table(Table(header=header, rows=rows, align=("r", "l", "r", "r")))
        builder.paragraph()
        builder.line(move_note(locale, board, moves, zone=tz))
        when = format_datetime(board.measured_at, locale, tz=tz)
        measured = t(locale, "reports.measured", when=when)
        builder.line(Span(measured, italic=True))
        return builder.build(summary=title)


def _value_header(locale: str, board: Leaderboard) -> str:
    column = {"growth": "growth", "percent": "percent", "posts": "posts"}
    return t(locale, f"reports.col.{column.get(board.metric, 'followers')}")


def _value(locale: str, board: Leaderboard, entry: Entry) -> str:
    if board.metric == "growth":
        return "—" if entry.growth is None else format_number(entry.growth, locale, signed=True)
    if board.metric == "percent":
        value = entry.growth_percent
        return "—" if value is None else format_percent(value, locale, signed=True)
    if board.metric == "posts":
        return "—" if entry.posts is None else format_number(entry.posts, locale)
    return "—" if entry.followers is None else format_number(entry.followers, locale)
