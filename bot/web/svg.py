"""Follower history as an inline SVG line chart: pure, no JavaScript, no outside resources.

Labels come from outside (names, handles) and are escaped; numbers are formatted for the
page's language. A step line per series, as the PNG charts draw them (a count holds
until the next reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from bot.i18n import format_date, format_datetime, format_number

WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 10, 10, 40
_COLORS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e")


@dataclass(frozen=True, slots=True)
class Line:
    """One series: its label and (time, value) points in time order."""

    label: str
    points: tuple[tuple[datetime, int], ...]


def _scale(low: float, high: float, size: float, value: float) -> float:
    return 0.0 if high == low else (value - low) * size / (high - low)


def _ticks(low: int, high: int, count: int = 4) -> list[int]:
    if high == low:
        return [low]
    step = (high - low) / count
    return sorted({round(low + step * i) for i in range(count + 1)})


def _path(line: Line, box: tuple[datetime, datetime, int, int], end: datetime) -> str:
    start, stop, low, high = box
    span = (stop - start).total_seconds()
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    parts: list[str] = []
    previous_y: float | None = None
    for moment, value in [*line.points, (end, line.points[-1][1])]:
        x = _LEFT + _scale(0, span, plot_w, (moment - start).total_seconds())
        y = _TOP + plot_h - _scale(low, high, plot_h, value)
        if previous_y is None:
            parts.append(f"M{x:.1f},{y:.1f}")
        else:
            parts.append(f"H{x:.1f}V{y:.1f}")
        previous_y = y
    return "".join(parts)


def line_chart(
    lines: Sequence[Line],
    *,
    start: datetime,
    end: datetime,
    locale: str,
    tz: str,
    title: str,
) -> str:
    """The SVG markup of the chart (empty string when no line has a point)."""
    drawn = [line for line in lines if line.points]
    if not drawn or end <= start:
        return ""
    values = [v for line in drawn for _, v in line.points]
    low, high = min(values), max(values)
    if low == high:
        low, high = max(0, low - 1), high + 1
    box = (start, end, low, high)
    plot_h = HEIGHT - _TOP - _BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for tick in _ticks(low, high):
        y = _TOP + plot_h - _scale(low, high, plot_h, tick)
        out.append(
            f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{escape(format_number(tick, locale))}</text>'
        )
    zone = ZoneInfo(tz)
    for moment, anchor in ((start, "start"), (end, "end")):
        x = _LEFT if anchor == "start" else WIDTH - _RIGHT
        # A history of a day or two is labelled with times of day, a longer one with dates.
        short = end - start <= timedelta(days=2)
        local = moment.astimezone(zone)
        label = format_datetime(local, locale, tz=tz) if short else format_date(local, locale)
        out.append(
            f'<text x="{x}" y="{HEIGHT - _BOTTOM + 16}" text-anchor="{anchor}" font-size="11" '
            f'fill="#555">{escape(label)}</text>'
        )
    for index, line in enumerate(drawn):
        color = _COLORS[index % len(_COLORS)]
        out.append(
            f'<path d="{_path(line, box, end)}" fill="none" stroke="{color}" stroke-width="2">'
            f"<title>{escape(line.label)}</title></path>"
        )
        lx = _LEFT + 200 * (index % 3)
        ly = HEIGHT - 8
        out.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14}" y="{ly}" font-size="11" fill="#222">'
            f"{escape(line.label[:30])}</text>"
        )
    out.append("</svg>")
    return "".join(out)
