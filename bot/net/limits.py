"""Per (address, host) limits: concurrency slots, request spacing and Retry-After cooldowns."""

from __future__ import annotations

import asyncio
import time

from bot.errors import RateLimited


class HostGate:
    """Per (address, host): concurrency slots, request spacing and a Retry-After cooldown."""

    __slots__ = ("blocked_until", "next_start", "queued", "slots")

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.next_start = 0.0
        self.blocked_until = 0.0
        #: Requests that chose this gate and wait for one of its slots.
        self.queued = 0

    async def pace(self, rate: float) -> None:
        """Wait for this gate's next slot at ``rate`` requests per second."""
        now = time.monotonic()
        start = max(now, self.next_start)
        self.next_start = start + 1.0 / rate
        if start > now:
            await asyncio.sleep(start - now)

    def expected_start(self, now: float, rate: float) -> float:
        """When a request chosen now would start here, judged by the queue ahead of it."""
        return max(now, self.next_start) + self.queued / rate

    def refuse_if_cooling(self, host: str) -> None:
        """Raise ``RateLimited`` while ``host`` asked this address to wait."""
        if self.blocked_until:
            wait = self.blocked_until - time.monotonic()
            if wait > 0:
                words = f"{host} asked us to wait {wait:.0f} s more"
                raise RateLimited(words, retry_after=wait, detail=words)


class Gates:
    """Every gate of one client, made on first use: (egress key, host) -> its gate."""

    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._gates: dict[tuple[str, str], HostGate] = {}

    def of(self, egress: str, host: str) -> HostGate:
        """The gate of ``host`` seen from the address ``egress``."""
        key = (egress, host)
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = HostGate(self._concurrency)
        return gate

    def cooling(self) -> int:
        """How many (address, host) pairs wait out a 429 (or a 503 with Retry-After) now."""
        now = time.monotonic()
        return sum(1 for gate in self._gates.values() if gate.blocked_until > now)
