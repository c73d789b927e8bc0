"""SQLAlchemy 2 typed models: the whole govwatch schema.

Conventions: every timestamp is a timezone-aware UTC ``UTCDateTime``; big append-only
tables (snapshots, posts, events, deliveries) use 64-bit keys; JSON columns hold small
structured values (payloads, selectors, HTTP validators), never data we query by.

No ``from __future__ import annotations`` here: SQLAlchemy then reads each ``Mapped[...]``
as an evaluated type instead of parsing and evaluating its string (a sixth of this
module's import time, issue 18: start-up); the one forward reference is quoted.
"""

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.store.types import BigID, UTCDateTime
from bot.words import index_text

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _search_terms(context: DefaultExecutionContext) -> str:
    """The index terms of the version row being inserted (``post_versions.search_terms``)."""
    # SQLAlchemy leaves get_current_parameters untyped; it returns the row's values.
    row = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return index_text(row.get("text") or "")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Official(Base):
    __tablename__ = "officials"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_ru: Mapped[str | None] = mapped_column(String(300))
    name_kk: Mapped[str | None] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    #: Lower-cased, transliterated names joined by "|", for forgiving lookups.
    search_key: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[str | None] = mapped_column(String(500))
    organisation: Mapped[str | None] = mapped_column(String(500))
    tenure_start: Mapped[date | None] = mapped_column(Date)
    tenure_end: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    #: The Wikidata item (``Q…``) an import from Wikidata matches the official on.
    wikidata_id: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    accounts: Mapped[list["Account"]] = relationship(
        back_populates="official", cascade="all, delete-orphan", passive_deletes=True
    )


class Position(Base):
    """A position an official holds or held; ``start``/``end`` are inclusive days, None
    when open. An official without positions counts as always in office."""

    __tablename__ = "positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    official_id: Mapped[int] = mapped_column(
        ForeignKey("officials.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("platform", "handle", name="uq_accounts_platform_handle"),
        Index("ix_accounts_due", "enabled", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    official_id: Mapped[int] = mapped_column(
        ForeignKey("officials.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000))
    platform_id: Mapped[str | None] = mapped_column(String(200))
    #: Per-account source options (e.g. CSS selectors for ``html``).
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_interval_s: Mapped[int | None] = mapped_column(Integer)
    # scheduling and lease
    next_poll_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    # health
    last_polled_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[str | None] = mapped_column(String(20))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: Conditional-GET validators per URL (ETag, Last-Modified).
    http_validators: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    official: Mapped[Official] = relationship(back_populates="accounts")


class Watchlist(Base):
    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    # per-watchlist overrides of [detect]
    silent_after_s: Mapped[int | None] = mapped_column(Integer)
    follower_change_percent: Mapped[float | None] = mapped_column()
    follower_change_min: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WatchlistMember(Base):
    __tablename__ = "watchlist_members"

    watchlist_id: Mapped[int] = mapped_column(
        ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True
    )
    official_id: Mapped[int] = mapped_column(
        ForeignKey("officials.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Snapshot(Base):
    """Append-only history: written when a value changes, or at most every few hours."""

    __tablename__ = "snapshots"
    # followers is carried in the index so "followers at time T" (reports, charts) is an
    # index-only probe, with no table page read per account.
    # ix_snapshots_observed finds every account's snapshots of a few hours at once
    # (period baselines for /top and /report). Rows arrive in time order, so on
    # PostgreSQL a BRIN index does it at almost no write cost; SQLite gets a B-tree.
    __table_args__ = (
        Index("ix_snapshots_account_observed", "account_id", "observed_at", "followers"),
        Index(
            "ix_snapshots_observed",
            "observed_at",
            postgresql_using="brin",
            postgresql_with={"pages_per_range": "32", "autosummarize": "on"},
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column()
    followers: Mapped[int | None] = mapped_column(Integer)
    followers_exact: Mapped[bool | None] = mapped_column(Boolean)
    posts_count: Mapped[int | None] = mapped_column(Integer)
    display_name: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(String(2000))


class AccountState(Base):
    """The latest known state of each account: what detection compares against."""

    __tablename__ = "account_state"
    __table_args__ = (
        Index("ix_account_state_followers", "followers"),
        # /metrics counts degraded accounts on every scrape: only those rows are indexed.
        Index(
            "ix_account_state_degraded",
            "account_id",
            postgresql_where=text("degraded"),
            sqlite_where=text("degraded = 1"),
        ),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(100))
    first_seen_at: Mapped[datetime] = mapped_column()
    observed_at: Mapped[datetime] = mapped_column()
    last_ok_at: Mapped[datetime | None] = mapped_column()
    followers: Mapped[int | None] = mapped_column(Integer)
    followers_exact: Mapped[bool | None] = mapped_column(Boolean)
    followers_margin: Mapped[int] = mapped_column(Integer, default=0)
    followers_alerted: Mapped[int | None] = mapped_column(Integer)
    milestone_reached: Mapped[int | None] = mapped_column(Integer)
    posts_count: Mapped[int | None] = mapped_column(Integer)
    display_name: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(String(2000))
    last_post_at: Mapped[datetime | None] = mapped_column()
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    absent_streak: Mapped[int] = mapped_column(Integer, default=0)
    unknown_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_snapshot_at: Mapped[datetime | None] = mapped_column()
    #: Detector scratch space (e.g. posts missing from the window, with their miss counts).
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Who may see the account (bot.domain.Visibility), as last announced; NULL: not said.
    visibility: Mapped[str | None] = mapped_column(String(20))


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("account_id", "platform_post_id", name="uq_posts_account_post"),
        Index("ix_posts_account_published", "account_id", "published_at"),
        # A period's posts of every account at once (/top posts): one range read.
        Index("ix_posts_published", "published_at", "account_id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform_post_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    published_at: Mapped[datetime | None] = mapped_column()
    text: Mapped[str] = mapped_column(Text, default="")
    views: Mapped[int | None] = mapped_column(Integer)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    forwarded_from: Mapped[str | None] = mapped_column(String(500))
    is_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    is_repost: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    deleted_at: Mapped[datetime | None] = mapped_column()
    #: ``bot.detect.state.text_hash`` of ``text``: a new version is stored when it changes.
    text_hash: Mapped[str | None] = mapped_column(String(16))
    #: How many versions of the text are stored (the latest is number ``versions``).
    versions: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class PostVersion(Base):
    """Every text a post had, with the fragment it was read from: the evidence.

    A row is added only when the text changes, so storage grows with edits, not polls.
    ``last_seen_at`` and ``views`` are refreshed when the version is superseded or the
    post is confirmed deleted; for a post still on the page, ``account_state.extra``
    (``window_at`` and the window entry's views) holds the latest sighting.
    """

    __tablename__ = "post_versions"
    __table_args__ = (
        UniqueConstraint("post_id", "version", name="uq_post_versions_post_version"),
        # Only the versions whose language is still to be identified (bot.poll.languages).
        Index(
            "ix_post_versions_language_todo",
            "id",
            postgresql_where=text("language IS NULL"),
            sqlite_where=text("language IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigID, ForeignKey("posts.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    #: The post's fragment as served (HTML block, JSON object, feed entry XML), or NULL
    #: for versions stored before fragments were kept.
    raw: Mapped[str | None] = mapped_column(Text)
    #: Hex SHA-256 of ``raw`` encoded as UTF-8.
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    views: Mapped[int | None] = mapped_column(Integer)
    #: ``bot.words.index_text(text)``: the terms the full-text index holds (bot.store.search).
    #: Filled from ``text`` on insert when the row does not give it.
    search_terms: Mapped[str | None] = mapped_column(Text, default=_search_terms)
    #: ``bot.langs`` code of ``text`` (kk, ru, en, uk, mixed, unknown); NULL until the
    #: background job (bot.poll.languages) has identified it.
    language: Mapped[str | None] = mapped_column(String(12))


class SavedSearch(Base):
    """A /search too long for its page buttons (64 bytes): the buttons name this row."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Hex SHA-256 of ``query``: one row per distinct search.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The search's arguments as a command line (without its page).
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_account_occurred", "account_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    official_id: Mapped[int | None] = mapped_column(
        ForeignKey("officials.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column()
    detected_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("backend", "external_id", name="uq_chats_backend_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    backend: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[str | None] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20), default="private")
    title: Mapped[str | None] = mapped_column(String(300))
    locale: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(10), default="off")
    digest_time: Mapped[str | None] = mapped_column(String(5))
    digest_last_sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("chat_id", "target_type", "target_id", name="uq_subscriptions_target"),
        Index("ix_subscriptions_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    #: "official", "watchlist" or "all" (then target_id is 0).
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer, default=0)
    #: Event kinds to deliver; an empty list means every journalist-facing kind.
    event_kinds: Mapped[list[Any]] = mapped_column(default=list)
    #: "immediate" or "digest".
    mode: Mapped[str] = mapped_column(String(10), default="immediate")
    locale: Mapped[str | None] = mapped_column(String(5))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mute(Base):
    """A chat that asked not to hear about one official (from an alert's button)."""

    __tablename__ = "mutes"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    official_id: Mapped[int] = mapped_column(
        ForeignKey("officials.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """The outbox: one row per (event, chat), or one composed digest, drained by the relay."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "chat_id", name="uq_deliveries_event_chat"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        # Removing a digest sets digest_id NULL in the rows it summarised (retention).
        Index(
            "ix_deliveries_digest",
            "digest_id",
            postgresql_where=text("digest_id IS NOT NULL"),
            sqlite_where=text("digest_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    #: NULL for a digest row (it carries its composed reply in ``payload`` instead).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    #: pending | claimed | sending | sent | failed | skipped | digest | digested
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Sends whose outcome could not be known (lease expired mid-send, or timed out).
    unknown_outcomes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: A stored reply (``bot.reply.reply_to_json``) sent instead of rendering an event.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: For a ``digested`` row: the digest delivery that summarised it.
    digest_id: Mapped[int | None] = mapped_column(
        BigID, ForeignKey("deliveries.id", ondelete="SET NULL")
    )
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    platform_message_id: Mapped[str | None] = mapped_column(String(100))
    #: A human-readable note on the last attempt; never read back as state.
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Editor(Base):
    __tablename__ = "editors"
    __table_args__ = (UniqueConstraint("backend", "user_id", name="uq_editors_backend_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    backend: Mapped[str] = mapped_column(String(20))
    #: Telegram user id, or "team_id:user_id" for Slack.
    user_id: Mapped[str] = mapped_column(String(100))
    added_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    backend: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Setting(Base):
    """Runtime settings changed by editors in chat (``/settings``)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100))


class KeywordSubscription(Base):
    """A chat's keyword alert: new posts and edits of a target whose text has its words.

    Separate from ``subscriptions`` so a chat may follow a target both plainly and by
    words; the fanout gives it one delivery per event either way.
    """

    __tablename__ = "keyword_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    #: "official", "watchlist" or "all" (then target_id is 0), as in ``subscriptions``.
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer, default=0)
    #: The words as typed, one item each: ``тариф``, ``"цены на газ"``, ``-реклама``
    #: (``bot.detect.keywords.Item.stored``); matched through ``bot.words`` when loaded.
    words: Mapped[list[Any]] = mapped_column(default=list)
    #: ``new_post`` and/or ``post_edited``.
    event_kinds: Mapped[list[Any]] = mapped_column(default=list)
    #: "immediate" or "digest".
    mode: Mapped[str] = mapped_column(String(10), default="immediate")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WatchlistWords(Base):
    """Editors' watchwords of a watchlist: its members' matching posts are marked in alerts."""

    __tablename__ = "watchlist_words"

    watchlist_id: Mapped[int] = mapped_column(
        ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True
    )
    #: Items as in ``KeywordSubscription.words``.
    words: Mapped[list[Any]] = mapped_column(default=list)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LeaderboardDigest(Base):
    """A chat's weekly leaderboard digest: ``/top`` with rank moves, every Monday.

    One per chat. ``last_sent_at`` is the slot last taken (as ``chats.digest_last_sent_at``
    for the event digest): the conditional update of it makes one worker queue each week.
    """

    __tablename__ = "leaderboard_digests"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    watchlist_id: Mapped[int | None] = mapped_column(
        ForeignKey("watchlists.id", ondelete="CASCADE")
    )
    platform: Mapped[str | None] = mapped_column(String(20))
    #: "followers", "growth", "percent" or "posts", as ``/top``.
    metric: Mapped[str] = mapped_column(String(10), default="followers")
    digest_time: Mapped[str] = mapped_column(String(5), default="09:00")
    last_sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostSketch(Base):
    """A recent new post's MinHash sketch (``bot.detect.sameness``): same-text detection.

    Kept only while a group could still form around it (pruned after the window); the
    group it joined is the ``coordinated_posts`` event in ``group_event_id``.
    """

    __tablename__ = "post_sketches"

    post_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(Integer)
    official_id: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(index=True)
    #: ``PERMUTATIONS`` little-endian uint32 MinHash values.
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    group_event_id: Mapped[int | None] = mapped_column(BigInteger)


class PostBand(Base):
    """One LSH band key of a sketch: candidates are found by (band key, publication time).

    The time is whole seconds since the epoch (UTC), a plain integer: twenty rows are
    written per new post, so they skip the timestamp conversion.
    """

    __tablename__ = "post_bands"
    __table_args__ = (Index("ix_post_bands_key_published", "band_key", "published_s"),)

    post_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("post_sketches.post_id", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    band_key: Mapped[int] = mapped_column(BigInteger)
    published_s: Mapped[int] = mapped_column(BigInteger)


class ServiceLease(Base):
    """Who runs a job that must have one holder per database (the relay), and until when."""

    __tablename__ = "service_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    until: Mapped[datetime] = mapped_column()


__all__ = [
    "Account",
    "AccountState",
    "AuditLog",
    "Base",
    "Chat",
    "Delivery",
    "Editor",
    "EventRow",
    "KeywordSubscription",
    "LeaderboardDigest",
    "Mute",
    "Official",
    "Post",
    "PostBand",
    "PostSketch",
    "PostVersion",
    "SavedSearch",
    "ServiceLease",
    "Setting",
    "Snapshot",
    "Subscription",
    "Watchlist",
    "WatchlistMember",
    "WatchlistWords",
    "utcnow",
]
