"""What a failing database raises, for the few places that answer it instead of crashing."""

from __future__ import annotations

import sqlite3

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy.exc import SQLAlchemyError

from bot import metrics

#: A lost connection, a refused one, a missing table, a locked file, a driver-level error.
#: (Connection refusals reach callers as OSError: SQLAlchemy wraps only DB-API errors; a
#: deadline passed while waiting for the server is TimeoutError, an OSError too.)
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlite3.Error,
)


def note_database_error(exc: BaseException) -> bool:
    """Count ``exc`` in govwatch_db_errors_total if it is the database failing; True if so."""
    if isinstance(exc, DATABASE_ERRORS):
        metrics.db_error()
        return True
    return False
