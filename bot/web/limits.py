"""A per-address request budget: a token bucket per client address, kept in memory."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """``per_minute`` requests per address, with bursts up to that many."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 50_000,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._clock = clock
        self._max = max_addresses
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, address: str) -> float:
        """0 when ``address`` may go on now, else the seconds until it may."""
        now = self._clock()
        tokens, at = self._buckets.get(address, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1.0:
            self._buckets[address] = (tokens, now)
            return (1.0 - tokens) / self._rate
        self._buckets[address] = (tokens - 1.0, now)
        if len(self._buckets) > self._max:
            self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        # Full buckets carry no information: forget them first (a flood of new addresses
        # must not grow memory without bound).
        full = [
            a
            for a, (tok, at) in self._buckets.items()
            if tok + (now - at) * self._rate >= self._burst
        ]
        for address in full:
            del self._buckets[address]
        while len(self._buckets) > self._max:
            self._buckets.pop(next(iter(self._buckets)))
