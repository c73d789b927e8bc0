"""The outbox relay: claims pending deliveries, renders them per chat, sends, records.

Crash safety: a pass claims due rows as ``claimed`` (with a lease); each row is then
marked ``sending`` in its own commit right before its network call and ``sent`` right
after it. An expired ``claimed`` row was never handed to a platform: it simply becomes
``pending`` again, however often workers die. An expired ``sending`` row had an unknown
outcome (the process died mid-send): it is retried once, then given up, so an alert is
never lost silently and never repeated more than that one unknowable time. The count of
unknown outcomes is a column (``unknown_outcomes``), never read back from the error note.
A digest row is sent the same way; it carries its composed reply instead of an event.
Several relays may share one PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED``. The SQL
lives in :mod:`bot.store.outbox`; this module holds the sending policy.

Follow-ups: an edit or deletion alert about a post whose ``new_post`` alert a chat got
replies to that message (Telegram) or goes in its thread (Slack), however many follow-ups
came before. The claim finds those messages for the whole batch in one query
(:mod:`bot.store.threads`); a ``new_post`` alert sent earlier in the same pass counts too,
and a follow-up whose ``new_post`` alert is still due soon waits for it. When there is no
such message the follow-up is sent on its own, never held back for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.config import Settings
from bot.errors import (
    BadMarkup,
    ChatGone,
    ChatMigrated,
    DeliveryError,
    DeliveryRetryAfter,
    OutcomeUnknown,
)
from bot.failpoints import failpoint
from bot.notify.pacing import GROUP_WINDOW_S, Pacer
from bot.notify.render import render_event
from bot.reply import ChatAddress, ChatBackend, Reply, SendResult, reply_from_json
from bot.store import outbox, relay_lease, threads
from bot.store.chats import chat_locale, deactivate_chat, migrate_chat
from bot.store.engine import Database
from bot.store.failures import note_database_error
from bot.store.models import Chat, Delivery, EventRow, utcnow
from bot.store.outbox import MAX_UNKNOWN, UNKNOWN, OutboxJob
from bot.store.threads import new_post_key

log = logging.getLogger(__name__)

#: A chat whose next slot is at most this far away is waited for inside the pass.
INLINE_WAIT_S = 1.5
#: How long one pass may keep sending to a single chat.
PASS_BUDGET_S = 5.0
MAX_BACKOFF = timedelta(hours=1)
#: Alerts that belong in the thread of their post's ``new_post`` alert.
FOLLOW_UPS = frozenset({"post_edited", "post_deleted"})
#: A follow-up waits for its ``new_post`` alert only if that one is due within this.
THREAD_WAIT = timedelta(minutes=10)
#: How long after its ``new_post`` alert is due a waiting follow-up is tried again.
THREAD_GRACE = timedelta(seconds=2)


class Relay:
    """Drains the outbox to the chat backends, paced and retried."""

    def __init__(
        self,
        *,
        db: Database,
        backends: Mapping[str, ChatBackend],
        settings: Settings,
        pacer: Pacer | None = None,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.owner = owner or f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        #: Whether this relay holds the database's relay lease (only the holder sends).
        self.leading = False
        self._woken = asyncio.Event()
        self.backends = dict(backends)
        self.settings = settings
        relay = settings.relay
        self.pacer = pacer or Pacer(
            per_chat_interval=relay.per_chat_interval.total_seconds(),
            per_group_per_minute=relay.per_group_per_minute,
            global_per_second=relay.global_per_second,
        )
        self._limit = asyncio.Semaphore(relay.concurrency)

    async def run(self, stop: asyncio.Event) -> None:
        """Drain repeatedly until ``stop`` is set, while holding the relay lease."""
        tick = self.settings.relay.tick.total_seconds()
        await self._try_lease()
        keeper = asyncio.create_task(self.keep_lease(stop), name="relay-lease")
        try:
            while not stop.is_set():
                sent = 0
                try:
                    if self.leading:
                        sent = await self.drain()
                except Exception as exc:
                    note_database_error(exc)
                    log.exception("relay pass failed")
                if sent == 0:
                    await self._idle(stop, tick)
                self.pacer.forget_idle(time.monotonic())
        finally:
            if stop.is_set():
                # Let a renewal in flight commit: cancelled inside its transaction, it would
                # leave SQLite's write lock held until the busy timeout (30 s) ran out.
                await asyncio.wait(
                    {keeper}, timeout=self.settings.relay.leader_lease.total_seconds()
                )
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if self.leading:
                self.leading = False
                with contextlib.suppress(Exception):
                    await relay_lease.release_lease(
                        self.db.engine, relay_lease.RELAY, owner=self.owner, now=utcnow()
                    )

    def wake(self) -> None:
        """New deliveries were queued in this process: look at the outbox now, not next tick."""
        self._woken.set()

    async def _idle(self, stop: asyncio.Event, tick: float) -> None:
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._woken.wait())]
        try:
            await asyncio.wait(waits, timeout=tick, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            self._woken.clear()

    async def keep_lease(self, stop: asyncio.Event) -> None:
        """Take and renew the relay lease until ``stop`` (one relay paces per database)."""
        hold = self.settings.relay.leader_lease.total_seconds()
        while True:
            with contextlib.suppress(TimeoutError):
                wait = hold / 3 if self.leading else min(hold / 3, 5.0)
                await asyncio.wait_for(stop.wait(), wait)
            if stop.is_set():
                return  # ``run`` releases the lease: no renewal on the way out
            await self._try_lease()

    async def _try_lease(self) -> None:
        try:
            await self.take_lease()
        except Exception as exc:
            # Cannot renew: stop sending before another relay may take over.
            note_database_error(exc)
            self.leading = False
            log.warning("relay lease not renewed: %r", exc)

    async def take_lease(self) -> bool:
        """Take or renew the relay lease; on taking it over, pace from the last minute's sends."""
        now = utcnow()
        until = now + self.settings.relay.leader_lease
        held = await relay_lease.take_lease(
            self.db.engine, relay_lease.RELAY, owner=self.owner, now=now, until=until
        )
        if not held:
            holder = await relay_lease.lease_holder(self.db.engine, relay_lease.RELAY)
            if holder is not None and gone_here(holder):
                # Its process on this machine died (SIGKILL, OOM): no need to wait it out.
                held = await relay_lease.take_over(
                    self.db.engine, relay_lease.RELAY, dead=holder, owner=self.owner, until=until
                )
        if held and not self.leading:
            await self._seed_pacer()
            log.info("this relay sends for the database now (%s)", self.owner)
        elif self.leading and not held:
            log.warning("the relay lease was taken over; this relay stops sending")
        self.leading = held
        return held

    async def _seed_pacer(self) -> None:
        # The previous holder's sends still count towards per-chat, per-group and global
        # limits: replay them on this process's monotonic clock.
        now, mono = utcnow(), time.monotonic()
        since = now - timedelta(seconds=GROUP_WINDOW_S)
        for send in await relay_lease.recent_sends(self.db.engine, since=since):
            at = mono - (now - send.sent_at).total_seconds()
            self.pacer.seed(f"{send.backend}:{send.external_id}", group=send.group, at=at)

    async def drain(self, *, limit: int = 200) -> int:
        """One pass over due deliveries; returns how many messages were sent."""
        if not self.backends:
            return 0
        await self._recover_expired()
        jobs = await self._claim(limit)
        by_chat: dict[int, list[OutboxJob]] = defaultdict(list)
        for job in jobs:
            by_chat[job.chat.id].append(job)
        try:
            results = await asyncio.gather(
                *(self._chat_worker(chat_jobs) for chat_jobs in by_chat.values())
            )
        except asyncio.CancelledError:
            # Shutting down: rows never handed to a backend go back untouched, so only a
            # send really in flight counts as an unknown outcome.
            untouched = [j for j in jobs if not j.started and j.delivery.status == "claimed"]
            await asyncio.shield(self._release(untouched, 0.0, keep_schedule=True))
            raise
        return sum(results)

    # --- claiming ------------------------------------------------------------------------

    async def _recover_expired(self) -> None:
        """Rows left by a dead worker: unsent claims go back; unknown sends retry once."""
        async with self.db.sessions() as session:
            await outbox.recover_expired(session, utcnow())
            await session.commit()

    async def _claim(self, limit: int) -> list[OutboxJob]:
        now = utcnow()
        lease_until = now + self.settings.relay.lease
        async with self.db.sessions() as session:
            ids = await outbox.claim_due(
                session, self.backends, now=now, lease_until=lease_until, limit=limit
            )
            await session.commit()
            if not ids:
                return []
            jobs = await outbox.load_jobs(session, ids, now)
            await _find_anchors(session, jobs)
            return jobs

    # --- sending ---------------------------------------------------------------------------

    async def _chat_worker(self, claimed: Sequence[OutboxJob]) -> int:
        sent = 0
        jobs = anchors_first(claimed)
        # new_post alerts of this pass: their messages, and which of them were tried.
        here = {key for job in jobs if (key := _own_key(job)) is not None}
        sent_here: dict[str, str] = {}
        async with self._limit:
            # A busy chat gets a few seconds per pass; the rest waits in the outbox, so a
            # claim never outlives its lease and other chats are not starved.
            deadline = time.monotonic() + PASS_BUDGET_S
            for index, job in enumerate(jobs):
                if await self._skip_reason(job) is not None:
                    continue
                wait_until = thread_reply(job, sent_here, here, utcnow())
                if wait_until is not None:
                    await self._hold(job, wait_until)
                    continue
                key = f"{job.chat.backend}:{job.chat.external_id}"
                wait = await self._wait_turn(
                    key, group=job.chat.kind != "private", deadline=deadline
                )
                if wait > 0:
                    await self._release(jobs[index:], wait)
                    break
                sent += await self._send(job)
                metrics.delivery_done(job.chat.backend, job.delivery.status)
                own, message_id = _own_key(job), job.delivery.platform_message_id
                if own is not None and job.delivery.status == "sent" and message_id:
                    sent_here[own] = message_id
                if not job.chat.active or job.delivery.status == "pending":
                    # Gone or held back by a 429: the rest of this chat waits too.
                    await self._release(jobs[index + 1 :], 0.0, keep_schedule=True)
                    break
        return sent

    async def _wait_turn(self, key: str, *, group: bool, deadline: float) -> float:
        """Book a slot, sleeping for it when it is near; else the wait to reschedule by."""
        while True:
            now = time.monotonic()
            wait = self.pacer.reserve(key, group=group, now=now)
            if wait == 0:
                return 0.0
            if wait > INLINE_WAIT_S or now + wait > deadline:
                return wait
            await asyncio.sleep(wait)

    async def _skip_reason(self, job: OutboxJob) -> str | None:
        reason = None
        if not job.chat.active:
            reason = f"chat inactive: {job.chat.inactive_reason or '-'}"
        elif job.muted:
            reason = "muted"
        if reason is not None:
            await self._finish(job.delivery, status="skipped", error=reason)
            metrics.delivery_done(job.chat.backend, "skipped")
        return reason

    async def _send(self, job: OutboxJob) -> int:
        """Send one delivery and record the outcome; returns 1 when it was sent."""
        delivery = job.delivery
        job.started = True
        await self._mark_sending(delivery)
        failpoint("relay.before_send")
        try:
            result = await self._attempt(job)
        except DeliveryRetryAfter as exc:
            key = f"{job.chat.backend}:{job.chat.external_id}"
            self.pacer.block(key, exc.retry_after, now=time.monotonic())
            await self._retry_later(
                delivery, exc.retry_after, f"retry after {exc.retry_after:g}s", count=False
            )
        except ChatGone as exc:
            await self._deactivate(job.chat, exc.reason)
            await self._finish(delivery, status="failed", error=f"chat gone: {exc.reason}")
        except OutcomeUnknown as exc:
            await self._unknown(delivery, str(exc))
        except DeliveryError as exc:
            await self._failed_attempt(delivery, exc, retryable=exc.retryable)
        except Exception as exc:
            log.exception("sending delivery %s failed", delivery.id)
            await self._failed_attempt(delivery, exc, retryable=True)
        else:
            self.pacer.sent(
                f"{job.chat.backend}:{job.chat.external_id}",
                group=job.chat.kind != "private",
                now=time.monotonic(),
            )
            failpoint("relay.after_send")
            await self._finish(delivery, status="sent", message_id=result.message_id, count=True)
            return 1
        return 0

    async def _attempt(self, job: OutboxJob) -> SendResult:
        """Send, resending once as plain text (bad markup) or to a migrated chat."""
        backend = self.backends[job.chat.backend]
        reply = replace(self._render(job), reply_to=job.reply_to)
        address = ChatAddress(job.chat.backend, job.chat.external_id, job.chat.team_id)
        plain = migrated = False
        while True:
            try:
                return await backend.send(address, reply, plain=plain)
            except BadMarkup:
                if plain:
                    raise
                log.warning("delivery %s: markup refused, resending as plain text", job.delivery.id)
                plain = True
            except ChatMigrated as exc:
                if migrated:
                    raise
                migrated = True
                await self._migrate(job.chat, exc.new_chat_id)
                # Message ids of the old group mean nothing in the supergroup.
                reply = replace(reply, reply_to=None)
                address = ChatAddress(job.chat.backend, job.chat.external_id, job.chat.team_id)

    def _render(self, job: OutboxJob) -> Reply:
        if job.delivery.payload is not None:
            return reply_from_json(job.delivery.payload)
        if job.event is None:
            raise ValueError(f"delivery {job.delivery.id} has neither an event nor a reply")
        locale = chat_locale(job.chat, self.settings)
        tz = job.chat.timezone or self.settings.i18n.timezone
        return render_event(job.event, official=job.official, account=job.account,
                            locale=locale, tz=tz, words=job.words)  # fmt: skip

    # --- recording outcomes --------------------------------------------------------------

    async def _finish(
        self,
        delivery: Delivery,
        *,
        status: str,
        error: str | None = None,
        message_id: str | None = None,
        count: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "lease_until": None, **(extra or {})}
        if status == "sent":
            values.update(sent_at=utcnow(), platform_message_id=message_id)
        if error is not None:
            values["last_error"] = error[:500]
        if count:
            values["attempts"] = delivery.attempts + 1
        await self._update(delivery, values)

    async def _retry_later(
        self,
        delivery: Delivery,
        seconds: float,
        error: str,
        *,
        count: bool,
        extra: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {
            **(extra or {}),
            "status": "pending",
            "lease_until": None,
            "next_attempt_at": utcnow() + timedelta(seconds=seconds),
            "last_error": error[:500],
        }
        if count:
            values["attempts"] = delivery.attempts + 1
        await self._update(delivery, values)

    async def _unknown(self, delivery: Delivery, detail: str) -> None:
        """The send may or may not have arrived: retried once, given up the second time."""
        counted = {"unknown_outcomes": delivery.unknown_outcomes + 1}
        if counted["unknown_outcomes"] >= MAX_UNKNOWN:
            error = f"{UNKNOWN} twice: {detail}"
            await self._finish(delivery, status="failed", error=error, count=True, extra=counted)
        else:
            error = f"{UNKNOWN}: {detail}"
            await self._retry_later(delivery, 5.0, error, count=True, extra=counted)

    async def _failed_attempt(
        self, delivery: Delivery, exc: BaseException, *, retryable: bool
    ) -> None:
        attempts = delivery.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if not retryable or attempts >= self.settings.relay.max_attempts:
            await self._finish(delivery, status="failed", error=error, count=True)
            return
        backoff = min(timedelta(seconds=5 * 2**attempts), MAX_BACKOFF)
        await self._retry_later(delivery, backoff.total_seconds(), error, count=True)

    async def _release(
        self, jobs: Sequence[OutboxJob], wait: float, *, keep_schedule: bool = False
    ) -> None:
        """Give claimed rows back, due when their chat may send again (staggered)."""
        if not jobs:
            return
        base = utcnow() + timedelta(seconds=wait)
        step = timedelta(seconds=self.pacer.per_chat_interval)
        releases = []
        for index, job in enumerate(jobs):
            values: dict[str, Any] = {}
            if not keep_schedule:
                values["next_attempt_at"] = base + step * index
            releases.append((job.delivery.id, values))
        async with self.db.sessions() as session:
            await outbox.release_claimed(session, releases)
            await session.commit()

    async def _hold(self, job: OutboxJob, until: datetime) -> None:
        """Give a follow-up back until its ``new_post`` alert has had its turn."""
        job.delivery.status, job.delivery.next_attempt_at = "pending", until
        async with self.db.sessions() as session:
            await outbox.release_claimed(session, [(job.delivery.id, {"next_attempt_at": until})])
            await session.commit()

    async def _mark_sending(self, delivery: Delivery) -> None:
        """Commit that this row is about to be handed to a backend (its own transaction)."""
        await self._update(delivery, {"status": "sending"})

    async def _update(self, delivery: Delivery, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(delivery, key, value)
        async with self.db.sessions() as session:
            await outbox.update_delivery(session, delivery.id, values)
            await session.commit()

    async def _deactivate(self, chat: Chat, reason: str) -> None:
        chat.active, chat.inactive_reason = False, reason[:100]
        async with self.db.sessions() as session:
            await deactivate_chat(session, chat.id, reason)
            await session.commit()
        log.info("chat %s deactivated: %s", chat.id, reason)

    async def _migrate(self, chat: Chat, new_external_id: str) -> None:
        """Point ``chat`` at its new supergroup id, merging into an existing row if any."""
        async with self.db.sessions() as session:
            await migrate_chat(session, chat, new_external_id)
            await session.commit()


def gone_here(owner: str) -> bool:
    """Whether lease ``owner`` ("host:pid:tag") was a process of this machine that is gone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:50] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, someone else's
    return False


# --- threads ---------------------------------------------------------------------------


def _own_key(job: OutboxJob) -> str | None:
    """The dedup key of a ``new_post`` alert (the start of its post's thread), else None."""
    event = job.event
    return event.dedup_key if event is not None and event.kind == "new_post" else None


def anchor_key(event: EventRow | None) -> str | None:
    """The dedup key of the ``new_post`` event whose thread a follow-up ``event`` joins."""
    if event is None or event.kind not in FOLLOW_UPS or event.account_id is None:
        return None
    post_id = (event.payload or {}).get("post_id")
    if post_id is None or post_id == "":
        return None
    return new_post_key(event.account_id, str(post_id))


async def _find_anchors(session: AsyncSession, jobs: Sequence[OutboxJob]) -> None:
    """Fill in each follow-up's ``new_post`` alert in its chat (one query for the batch)."""
    wanted: set[tuple[int, str]] = set()
    for job in jobs:
        job.anchor_key = anchor_key(job.event)
        if job.anchor_key is not None:
            wanted.add((job.chat.id, job.anchor_key))
    found = await threads.anchors(session, wanted)
    for job in jobs:
        if job.anchor_key is not None:
            job.anchor = found.get((job.chat.id, job.anchor_key))


def anchors_first(jobs: Sequence[OutboxJob]) -> list[OutboxJob]:
    """``jobs`` in order, except that a follow-up comes after its post's ``new_post`` alert."""
    position = {key: i for i, j in enumerate(jobs) if (key := _own_key(j)) is not None}
    out: list[OutboxJob] = []
    later: dict[int, list[OutboxJob]] = defaultdict(list)
    for index, job in enumerate(jobs):
        anchor_at = position.get(job.anchor_key or "", -1)
        if anchor_at > index:
            later[anchor_at].append(job)
            continue
        out.append(job)
        out.extend(later.pop(index, ()))
    return out


def thread_reply(
    job: OutboxJob, sent_here: Mapping[str, str], here: Collection[str], now: datetime
) -> datetime | None:
    """Set ``job.reply_to`` to its thread's message; or say until when it should wait."""
    key, anchor = job.anchor_key, job.anchor
    if key is None:
        return None
    if key in sent_here:
        job.reply_to = sent_here[key]
        return None
    if anchor is None or key in here:
        return None  # never sent to this chat, or tried in this pass and not sent
    if anchor.message_id is not None:
        job.reply_to = anchor.message_id
        return None
    due = max(anchor.due_at or now, now)
    return due + THREAD_GRACE if due - now <= THREAD_WAIT else None
