"""Follower-history and leaderboard charts as PNG (matplotlib Figure API, Agg canvas).

Rendering never touches pyplot (no global state, safe in a server) and runs in a worker
thread, one chart at a time. Rendered PNGs are cached by what they show and by the newest
snapshot among the charted accounts, so asking again is cheap until the data changes.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import format_number, format_percent
from bot.reports.history import followers_at
from bot.store.models import Snapshot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Samples per line: about one per four pixels of a 900-pixel-wide chart.
GRID_POINTS = 200
MAX_SERIES = 30
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Series:
    """One line: its label and (time, followers) points in time order."""

    label: str
    points: tuple[tuple[datetime, int], ...]


@dataclass(slots=True)
class ChartData:
    """Lines to draw over one period."""

    start: datetime
    end: datetime
    series: list[Series] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No line has a single point."""
        return not any(s.points for s in self.series)


class ChartCache:
    """A small LRU of rendered PNGs keyed by what they show and the data's version."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> bytes | None:
        """The cached PNG for ``key``, if any."""
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return found

    def put(self, key: Hashable, png: bytes) -> None:
        """Remember ``png`` under ``key``, dropping the least recently used beyond the size."""
        self._items[key] = png
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


async def data_version(session: AsyncSession, account_ids: Sequence[int]) -> Hashable:
    """A value that changes whenever a snapshot is added for any of these accounts."""
    if not account_ids:
        return None
    stmt = select(func.max(Snapshot.observed_at), func.count()).where(
        Snapshot.account_id.in_(list(account_ids))
    )
    latest, count = (await session.execute(stmt)).one()
    return (latest.isoformat() if latest else None, count)


async def account_series(
    session: AsyncSession,
    account_ids: Sequence[int],
    *,
    start: datetime,
    end: datetime,
    points: int = GRID_POINTS,
) -> dict[int, list[tuple[datetime, int]]]:
    """Each account's followers sampled at ``points`` moments from ``start`` to ``end``.

    One indexed probe per account and moment: the cost depends on the picture's width,
    not on how dense the history is (a year of hourly snapshots costs the same as a week).
    """
    ids = list(account_ids)
    out: dict[int, list[tuple[datetime, int]]] = {a: [] for a in ids}
    if not ids:
        return out
    step = (end - start) / max(points - 1, 1)
    for index in range(points):
        moment = start + step * index
        for account_id, base in (await followers_at(session, ids, moment)).items():
            out[account_id].append((moment, base.followers))
    return out


def sum_series(parts: Sequence[Sequence[tuple[datetime, int]]]) -> list[tuple[datetime, int]]:
    """Add series sampled on the same moments (a part counts once its first value is known)."""
    totals: dict[datetime, int] = {}
    for part in parts:
        for moment, value in part:
            totals[moment] = totals.get(moment, 0) + value
    return sorted(totals.items())


def _thin(points: Sequence[tuple[datetime, int]], limit: int = 2000) -> list[tuple[datetime, int]]:
    # Thousands of points per line add nothing to a 900-pixel-wide picture.
    if len(points) <= limit:
        return list(points)
    stride = len(points) / limit
    picked = [points[int(i * stride)] for i in range(limit)]
    return [*picked, points[-1]]


def render_history_png(
    data: ChartData, *, title: str, locale: str, tz: str | None = None, y_label: str = ""
) -> bytes:
    """Draw one step line per series and return the PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    zone = ZoneInfo(tz) if tz else None
    with _RENDER_LOCK:
        fig = Figure(figsize=(9, 5), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        styles = ("-", "--", ":", "-.")
        for index, series in enumerate(data.series[:MAX_SERIES]):
            points = _thin(series.points)
            if not points:
                continue
            xs = date2num([p[0] for p in points] + [data.end])  # type: ignore[no-untyped-call]
            ys = [p[1] for p in points] + [points[-1][1]]
            ax.step(xs, ys, where="post", label=series.label, linewidth=1.6,
                    linestyle=styles[(index // 10) % len(styles)])  # fmt: skip
        ax.set_title(title)
        ax.set_ylabel(y_label)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(date2num([data.start, data.end]))  # type: ignore[no-untyped-call]
        short = data.end - data.start <= timedelta(days=2)
        fmt = "%H:%M" if short else "%d.%m.%y"
        ax.xaxis.set_major_locator(AutoDateLocator(tz=zone))  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(DateFormatter(fmt, tz=zone))  # type: ignore[no-untyped-call]
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(int(v), locale)))
        if len(data.series) > 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                      ncols=1 if len(data.series) <= 15 else 2, frameon=False)  # fmt: skip
        fig.autofmt_xdate()
        return _png(fig)


def render_bars_png(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    locale: str,
    percent: bool = False,
    signed: bool = False,
) -> bytes:
    """Draw a horizontal bar chart (first label on top) and return the PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _RENDER_LOCK:
        fig = Figure(figsize=(9, max(2.5, 0.42 * len(labels) + 1.2)), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        positions = list(range(len(labels)))[::-1]
        colors = ["#2e7d32" if v >= 0 else "#c62828" for v in values]
        bars = ax.barh(positions, values, color=colors)
        ax.set_yticks(positions, labels=list(labels))
        texts = [
            format_percent(v, locale, signed=signed)
            if percent
            else format_number(int(v), locale, signed=signed)
            for v in values
        ]
        ax.bar_label(bars, labels=texts, padding=3, fontsize="small")
        ax.set_title(title)
        ax.grid(True, axis="x", alpha=0.3)
        ax.margins(x=0.15)
        return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


async def in_thread(function: Callable[..., bytes], /, *args: Any, **kwargs: Any) -> bytes:
    """Run a render function in a worker thread so the event loop keeps serving."""
    return await asyncio.to_thread(function, *args, **kwargs)
