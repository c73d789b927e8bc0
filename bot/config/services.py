"""The services beside polling: /metrics and /healthz, the web site, retention, Wikidata."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Self

from pydantic import Field, field_validator, model_validator

from bot.config.values import Duration, Section, listen_address, positive, require


class OpsSettings(Section):
    """``/metrics`` and ``/healthz`` over HTTP (``govwatch run`` serves them when enabled)."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = Field(default=9108, ge=1, le=65535)
    #: /healthz fails when the poll scheduler has not ticked for longer than this.
    max_tick_age: Duration = timedelta(minutes=2)
    #: /healthz fails when a due alert has waited longer than this for the relay.
    max_outbox_age: Duration = timedelta(minutes=10)
    #: How long /healthz and a scrape wait for the database before calling it unavailable.
    db_timeout: Duration = timedelta(seconds=2)

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        return listen_address(value)

    @field_validator("max_tick_age", "max_outbox_age", "db_timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        return positive(value)


class RetentionSettings(Section):
    """What ``govwatch db prune`` and ``govwatch run``'s daily job remove, and when."""

    #: Run the job in ``govwatch run`` (one process of all sharing a database runs it).
    enabled: bool = True
    #: How often it runs.
    every: Duration = timedelta(days=1)
    #: Every snapshot younger than this is kept (full resolution)...
    snapshots_full: Duration = timedelta(days=30)
    #: ...then one an hour (the hour's last) until this age, then one a day (the day's last).
    snapshots_hourly: Duration = timedelta(days=365)
    #: Delivered outbox rows (sent, failed, skipped, digested) older than this are removed;
    #: a sent ``new_post`` alert stays while its post is kept (follow-ups reply to it).
    deliveries_after: Duration = timedelta(days=30)
    #: Events older than this are removed, except post events (evidence) and milestones.
    events_after: Duration = timedelta(days=180)
    #: Posts (their versions, evidence and post events) older than this are removed only
    #: by ``db prune --full``, or by the job when ``prune_posts`` is true. Unset: never.
    posts_after: Duration | None = None
    #: Let the daily job remove old posts too (needs ``posts_after``); off unless set.
    prune_posts: bool = False
    #: Rows removed per statement and transaction.
    batch: int = Field(default=5000, ge=100, le=50_000)
    #: How long a run holds the job's lease without renewing it (it renews per batch).
    lease: Duration = timedelta(minutes=15)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        needs: list[tuple[str, str, str]] = []
        if self.snapshots_hourly < self.snapshots_full:
            needs.append(
                ("snapshots_hourly", "must not be shorter than snapshots_full", "snapshots_full")
            )
        if self.prune_posts and self.posts_after is None:
            needs.append(("prune_posts", "needs posts_after to be set", "posts_after"))
        for name in ("every", "snapshots_full", "deliveries_after", "events_after", "lease"):
            if getattr(self, name) <= timedelta(0):
                needs.append((name, "must be longer than 0s", name))
        require(needs)
        return self


class WebSettings(Section):
    """The public read-only web site (``govwatch web``; ``govwatch run`` serves it when enabled)."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: The site's public address (``https://watch.example.org``): absolute links in feeds.
    base_url: str | None = None
    title: str = "govwatch"
    #: The report's period when a link names none (7 days, as /report counts).
    period: Duration = timedelta(days=7)
    #: A page is rendered again at most this often while the data stays the same.
    cache_for: Duration = timedelta(seconds=60)
    #: Requests per minute one address may make (429 beyond it).
    rate_limit: int = Field(default=120, ge=1, le=100_000)
    #: Take the client's address from X-Forwarded-For (only behind your own reverse proxy).
    forwarded_for: bool = False

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        return listen_address(value)

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{value!r} is not an http(s) address such as https://watch.example")
        return value.rstrip("/")

    @field_validator("period", "cache_for")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        return positive(value)


class WikidataSettings(Section):
    """``govwatch import --wikidata-query``: where the query runs and how we introduce
    ourselves (Wikimedia's User-Agent policy asks for a descriptive agent with a contact)."""

    endpoint: str = "https://query.wikidata.org/sparql"
    user_agent: str = (
        "govwatch/0.1 (https://github.com/govwatch/govwatch; roster import of government "
        "members) httpx"
    )
    #: The public endpoint stops a query after 60 seconds; a little more for the answer.
    timeout: Duration = timedelta(seconds=70)

    @field_validator("endpoint")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("use an http(s) URL such as https://query.wikidata.org/sparql")
        return value
