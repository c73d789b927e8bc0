"""Pacing of outgoing messages: per chat, per group and overall (Telegram's limits).

Pure bookkeeping on a clock the caller passes in: ``reserve`` either books a slot now
(returns 0) or says how long to wait, without booking. ``block`` holds a chat back after a
429 ``retry_after`` without slowing any other chat.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from dataclasses import dataclass, field

GROUP_WINDOW_S = 60.0


@dataclass(slots=True)
class Pacer:
    """Tracks when each chat, each group and the whole bot may send next."""

    per_chat_interval: float = 1.0
    per_group_per_minute: int = 20
    global_per_second: int = 30
    _next_chat: dict[str, float] = field(default_factory=dict)
    _group_sends: dict[str, deque[float]] = field(default_factory=dict)
    _global_sends: deque[float] = field(default_factory=deque)

    def wait_for(self, key: str, *, group: bool, now: float) -> float:
        """Seconds until ``key`` may send (0 when it may send now)."""
        waits = [self._next_chat.get(key, 0.0) - now, self._global_wait(now)]
        if group:
            sends = self._trim(self._group_sends.get(key), now - GROUP_WINDOW_S)
            if sends is not None and len(sends) >= self.per_group_per_minute:
                waits.append(sends[0] + GROUP_WINDOW_S - now)
        return max(0.0, *waits)

    def reserve(self, key: str, *, group: bool, now: float) -> float:
        """Book a send for ``key`` now and return 0, or return the wait without booking."""
        wait = self.wait_for(key, group=group, now=now)
        if wait > 0:
            return wait
        self._next_chat[key] = now + self.per_chat_interval
        if group:
            self._group_sends.setdefault(key, deque()).append(now)
        self._global_sends.append(now)
        return 0.0

    def sent(self, key: str, *, group: bool, now: float) -> None:
        """Re-date a booked send to when it completed (Telegram saw it no later than that)."""
        # A slot is booked before the request leaves; network and event-loop delays can
        # bunch requests up on arrival, so spacing counted from booking times alone lets
        # Telegram see >30/s or two messages <1 s apart. Counting from completion cannot.
        self._next_chat[key] = max(self._next_chat.get(key, 0.0), now + self.per_chat_interval)
        queues = [self._global_sends]
        if group:
            queues.append(self._group_sends.setdefault(key, deque()))
        for sends in queues:
            if sends:
                sends.popleft()  # the oldest booking: moving it later is the safe choice
            insort(sends, now)

    def seed(self, key: str, *, group: bool, at: float) -> None:
        """Count a send made at ``at`` by another relay (one taking over must honour it)."""
        self._next_chat[key] = max(self._next_chat.get(key, 0.0), at + self.per_chat_interval)
        if group:
            insort(self._group_sends.setdefault(key, deque()), at)
        insort(self._global_sends, at)

    def block(self, key: str, seconds: float, *, now: float) -> None:
        """Hold ``key`` back for ``seconds`` (a 429's ``retry_after``)."""
        self._next_chat[key] = max(self._next_chat.get(key, 0.0), now + seconds)

    def forget_idle(self, now: float) -> None:
        """Drop bookkeeping for chats that have been quiet for a while (bounded memory)."""
        idle = now - GROUP_WINDOW_S
        for key in [k for k, at in self._next_chat.items() if at < idle]:
            del self._next_chat[key]
        for key in [k for k, d in self._group_sends.items() if not self._trim(d, idle)]:
            del self._group_sends[key]

    def _global_wait(self, now: float) -> float:
        sends = self._trim(self._global_sends, now - 1.0)
        if sends is not None and len(sends) >= self.global_per_second:
            return sends[0] + 1.0 - now
        return 0.0

    @staticmethod
    def _trim(sends: deque[float] | None, horizon: float) -> deque[float] | None:
        while sends and sends[0] <= horizon:
            sends.popleft()
        return sends
