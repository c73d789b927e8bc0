"""The sections every process reads: database, HTTP, scheduler, relay, logging, language."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from bot.config.values import Duration, Section, TimeZoneName

#: SQLAlchemy's URL grammar (``sqlalchemy.engine.url._parse_url``), here so that reading
#: the config does not import SQLAlchemy; tests/test_startup.py compares the two.
_DB_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)


def database_port(url: str) -> int | None:
    """The port a database URL names (None: none); ValueError when it is not a number."""
    match = _DB_URL.match(url)
    port = match["port"] if match else None
    return int(port) if port is not None else None


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///govwatch.db"
    pool_size: int = Field(default=10, ge=1)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        try:
            database_port(value)
        except ValueError:
            raise ValueError("not a valid database URL (is the port a number?)") from None
        return value


class HttpSettings(Section):
    user_agent: str = "govwatch/0.1 (+https://github.com/govwatch/govwatch)"
    timeout: Duration = timedelta(seconds=20)
    max_response_bytes: int = Field(default=5_000_000, ge=1024)
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_rate: float = Field(default=1.0, gt=0)
    max_connections: int = Field(default=256, ge=1)
    max_redirects: int = Field(default=5, ge=0)
    allow_private_networks: bool = False


class SchedulerSettings(Section):
    poll_interval: Duration = timedelta(minutes=15)
    jitter: Duration = timedelta(minutes=1)
    max_concurrency: int = Field(default=64, ge=1)
    tick: Duration = timedelta(seconds=5)
    lease: Duration = timedelta(minutes=5)
    max_backoff: Duration = timedelta(hours=6)
    snapshot_every: Duration = timedelta(hours=6)
    degraded_after: int = Field(default=5, ge=1)
    #: Polling processes of ``govwatch run`` (``--workers`` overrides); 0: one per core.
    workers: int = Field(default=0, ge=0)
    #: Observations written per transaction when several finish together (1: one each).
    write_batch: int = Field(default=50, ge=1, le=1000)
    heartbeat_file: str | None = None


class RelaySettings(Section):
    tick: Duration = timedelta(seconds=1)
    max_attempts: int = Field(default=8, ge=1)
    per_chat_interval: Duration = timedelta(seconds=1)
    per_group_per_minute: int = Field(default=20, ge=1)
    global_per_second: int = Field(default=30, ge=1)
    #: How long a claimed delivery stays ours; an expired 'sending' row's outcome is unknown.
    lease: Duration = timedelta(minutes=2)
    #: Concurrent sends in one relay pass (each to a different chat).
    concurrency: int = Field(default=16, ge=1)
    #: One relay sends per database: its lease, renewed every third of this; a relay
    #: that died is replaced by another process's relay after at most this long (at once
    #: by one on the same machine, which sees that the holder's process is gone).
    leader_lease: Duration = timedelta(seconds=15)


class I18nSettings(Section):
    default_locale: Literal["ru", "kk", "en"] = "ru"
    timezone: TimeZoneName = "Asia/Almaty"


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = Field(default=False, alias="json")
