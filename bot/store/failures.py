"""What a failing database raises, for the few places that answer it instead of crashing."""

from __future__ import annotations

import sqlite3

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy.exc import SQLAlchemyError

#: A lost connection, a refused one, a missing table, a locked file, a driver-level error.
#: (Connection refusals reach callers as OSError: SQLAlchemy wraps only DB-API errors.)
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlite3.Error,
)
