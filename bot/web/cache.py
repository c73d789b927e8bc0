"""Rendered pages kept in memory, keyed by what they show and by the data's version.

A widely shared link costs one cheap version read every few seconds and one rendering
each time the data (or the clock's window, after ``max_age``) moves on; everyone else
gets the same bytes. Only one request renders a missing page; the others wait for it.
When the data has moved on (or the page is older than ``max_age``) but the page in hand
is younger than twice ``max_age``, it is served while one background task renders the
new one (stale-while-revalidate), so neither a poller that changes the data every second
nor a slow report makes readers wait for a rendering.

Two bounds keep the database's share small however often the data changes and however
many pages are asked for: a page is rendered again for new data at most every
``min_interval`` seconds (a poller writing every second does not make a page render every
second), and at most ``renderers`` renderings run at once, all pages together (a crawler
asking for every language, period and platform queues them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Page:
    """One rendered answer: its bytes, type and validators."""

    body: bytes
    content_type: str
    made_at: datetime
    status: int = 200
    #: A Content-Security-Policy of its own (else the site's).
    csp: str | None = None
    #: A strong validator: the body's hash (computed once, when the page is made).
    etag: str = field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"')


@dataclass(slots=True)
class _Entry:
    version: Hashable
    page: Page
    born: float


class PageCache:
    """An LRU of pages; an entry serves while the version holds and it is younger than
    ``max_age`` seconds."""

    def __init__(
        self,
        *,
        size: int = 512,
        max_age: float = 60.0,
        min_interval: float = 0.0,
        renderers: int = 2,
    ) -> None:
        self._size = size
        self._max_age = max_age
        self._min_interval = min(min_interval, max_age)
        self._renderers = asyncio.Semaphore(renderers)
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._refreshing: dict[Hashable, asyncio.Task[Page]] = {}
        self.hits = 0
        self.stale = 0
        self.renders = 0

    def _fresh(self, key: Hashable, version: Hashable) -> Page | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        age = time.monotonic() - entry.born
        if entry.version != version and age >= self._min_interval:
            return None
        if age > self._max_age:
            return None
        self._items.move_to_end(key)
        return entry.page

    async def get(
        self, key: Hashable, version: Hashable, make: Callable[[], Awaitable[Page]]
    ) -> Page:
        """The cached page for ``key`` at ``version``, rendering it once when missing."""
        page = self._fresh(key, version)
        if page is not None:
            self.hits += 1
            return page
        entry = self._items.get(key)
        if entry is not None and time.monotonic() - entry.born <= 2 * self._max_age:
            # Older data (or older than max_age), but recent: serve it and let one task
            # render the new version, so no reader waits for a slow rendering.
            if key not in self._refreshing:
                task = asyncio.create_task(self._render(key, version, make))
                self._refreshing[key] = task
                task.add_done_callback(lambda done: self._refreshed(key, done))
            self.stale += 1
            return entry.page
        return await self._render(key, version, make)

    def _refreshed(self, key: Hashable, task: asyncio.Task[Page]) -> None:
        self._refreshing.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            # The stale page stays; the next request after max_age renders in the open.
            log.error("web: rendering %r failed", key, exc_info=task.exception())

    async def wait_refreshed(self) -> None:
        """Wait for the background renderings under way (tests and shutdown)."""
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def _render(
        self, key: Hashable, version: Hashable, make: Callable[[], Awaitable[Page]]
    ) -> Page:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            page = self._fresh(key, version)
            if page is not None:
                self.hits += 1
                return page
            async with self._renderers:
                page = await make()
            self.renders += 1
            self._items[key] = _Entry(version, page, time.monotonic())
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                old, _ = self._items.popitem(last=False)
                self._locks.pop(old, None)
        return page


class VersionClock:
    """The data's version, read again at most every ``every`` seconds."""

    def __init__(self, read: Callable[[], Awaitable[Hashable]], *, every: float = 2.0) -> None:
        self._read = read
        self._every = every
        self._value: Hashable = None
        self._at = float("-inf")
        self._lock = asyncio.Lock()
        self.reads = 0

    async def current(self) -> Hashable:
        """The version as last read (reading it when older than ``every``)."""
        if time.monotonic() - self._at < self._every:
            return self._value
        async with self._lock:
            if time.monotonic() - self._at >= self._every:
                self._value = await self._read()
                self._at = time.monotonic()
                self.reads += 1
        return self._value
