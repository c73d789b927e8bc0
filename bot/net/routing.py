"""Which address of a platform's pool carries the next request (``bot.net.egress`` says why)."""

from __future__ import annotations

import time

from bot.errors import FetchError, RateLimited
from bot.net.egress import Egress, Pool
from bot.net.limits import Gates, HostGate


def choose(
    gates: Gates, pool: Pool, host: str, rate: float, tried: set[str]
) -> tuple[Egress, HostGate] | None:
    """The free address (not tried, not resting, not cooling) expected to start first."""
    now = time.monotonic()
    count = len(pool.egresses)
    best: tuple[float, int, int] | None = None
    for offset in range(count):
        # Ties go round: counted from the address after the one chosen last.
        index = (pool.turn + offset) % count
        egress = pool.egresses[index]
        if egress.key in tried or egress.down_until > now:
            continue
        gate = gates.of(egress.key, host)
        if gate.blocked_until > now:
            continue
        candidate = (gate.expected_start(now, rate), offset, index)
        if best is None or candidate < best:
            best = candidate
    if best is None:
        return None
    pool.turn = best[2] + 1
    egress = pool.egresses[best[2]]
    return egress, gates.of(egress.key, host)


def unavailable(gates: Gates, pool: Pool, host: str) -> FetchError:
    """Why no address of ``pool`` may send to ``host`` now: the one free soonest."""
    now = time.monotonic()

    def free_at(egress: Egress) -> float:
        return max(egress.down_until, gates.of(egress.key, host).blocked_until)

    egress = min(pool.egresses, key=free_at)
    wait = free_at(egress) - now
    if egress.down_until >= gates.of(egress.key, host).blocked_until:
        words = f"{egress.label} rests {wait:.0f} s more after: {egress.fault}"
        return FetchError(words, detail=words)
    words = f"{egress.label} is waiting for {host} ({wait:.0f} s more)"
    return RateLimited(words, retry_after=wait, detail=words)


def pool_wait(gates: Gates, pool: Pool, host: str) -> float:
    """Seconds until some address of ``pool`` may send to ``host`` again (0: now)."""
    now = time.monotonic()
    waits = [max(e.down_until, gates.of(e.key, host).blocked_until) - now for e in pool.egresses]
    return max(min(waits), 0.0)
