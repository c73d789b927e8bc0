"""Rank moves in words: ``▲2``, ``▼1``, ``=``, "new", "?" and the note under the table."""

from __future__ import annotations

from collections.abc import Mapping

from bot.i18n import format_date, format_duration, format_number, t
from bot.reports.leaderboard import Leaderboard
from bot.reports.movement import DOWN, NEW, SAME, UNKNOWN, UP, Move, previous_period


def move_text(locale: str, move: Move) -> str:
    """One move as shown in the table."""
    if move.kind == UP:
        return "▲" + format_number(move.places, locale)
    if move.kind == DOWN:
        return "▼" + format_number(move.places, locale)
    if move.kind == SAME:
        return "="
    if move.kind == NEW:
        return t(locale, "ranks.new")
    return "?"


def move_note(
    locale: str, board: Leaderboard, moves: Mapping[int, Move], *, zone: str | None = None
) -> str:
    """What the move column compares with, and what "new" and "?" mean when shown."""
    period = previous_period(board)
    text = t(
        locale,
        "ranks.note",
        period=format_duration(board.period, locale),
        start=format_date(period.start, locale, tz=zone),
        end=format_date(period.end, locale, tz=zone),
    )
    kinds = {m.kind for m in moves.values()}
    if NEW in kinds:
        text += " " + t(locale, "ranks.note_new", new=t(locale, "ranks.new"))
    if UNKNOWN in kinds:
        text += " " + t(locale, "ranks.note_unknown")
    return text
