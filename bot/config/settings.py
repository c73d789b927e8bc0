"""The settings model: sections, keys, defaults and what each key accepts.

Durations are strings such as ``"30s"``, ``"15m"``, ``"6h"``, ``"7d"``; secrets are
``SecretStr`` and never print. A section whose keys together cannot work (webhook mode
without a webhook URL) raises :class:`Requirements`, which names each missing key.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from bot.config.proxies import DIRECT, parse_proxy, proxy_secrets

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
ENV_PREFIX = "GOVWATCH_"


def parse_duration(value: object) -> timedelta:
    """Parse ``"30s"``/``"15m"``/``"6h"``/``"7d"`` (or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f'not a duration: {value!r} (use e.g. "30s", "15m", "6h", "7d")')


def format_duration(value: timedelta) -> str:
    """Format a timedelta in the largest unit that divides it exactly."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


def known_zone(name: str) -> str:
    """``name`` when it is an IANA time zone this machine knows; ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder such as "Asia" is not a zone
        raise ValueError(
            f'unknown time zone {name!r} (use an IANA name such as "Asia/Almaty" or "UTC")'
        ) from None
    return name


TimeZoneName = Annotated[str, AfterValidator(known_zone)]


class Requirements(ValueError):
    """Keys a section needs because of others: (key, reason, the key that makes it needed)."""

    def __init__(self, items: list[tuple[str, str, str]]) -> None:
        self.items = items
        super().__init__("; ".join(f"{key}: {reason}" for key, reason, _ in items))


def _require(items: list[tuple[str, str, str]]) -> None:
    if items:
        raise Requirements(items)


class Section(BaseModel):
    """Base of every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
            _ = make_url(value).port
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


class DetectSettings(Section):
    silent_after: Duration = timedelta(days=7)
    follower_change_percent: float = Field(default=5.0, ge=0)
    follower_change_min: int = Field(default=100, ge=0)
    follower_milestones: list[int] = Field(
        default_factory=lambda: [1000, 5000, 10000, 25000, 50000, 100000, 500000, 1000000]
    )
    confirm_polls: int = Field(default=2, ge=1)
    # Unusual follower changes (bot/detect/unusual.py): daily growth kept per account,
    # the fewest daily figures to judge by, the ratio that marks a jump, and the floor
    # of the usual daily change (followers, and percent of the count).
    unusual_window: Duration = timedelta(days=60)
    unusual_min_days: int = Field(default=14, ge=1, le=365)
    unusual_ratio: float = Field(default=5.0, gt=1.0)
    unusual_floor: int = Field(default=10, ge=1)
    unusual_floor_percent: float = Field(default=0.05, ge=0)

    @field_validator("unusual_window")
    @classmethod
    def _window_days(cls, value: timedelta) -> timedelta:
        if not timedelta(days=7) <= value <= timedelta(days=365):
            raise ValueError("must be between 7d and 365d (30d to 90d is the usual choice)")
        return value

    #: Same text from several officials (coordinated_posts): how many officials, within
    #: which window, posts of at least how many words, at which estimated Jaccard similarity.
    same_text_officials: int = Field(default=3, ge=2)
    same_text_window: Duration = timedelta(hours=2)
    same_text_min_words: int = Field(default=8, ge=1)
    same_text_similarity: float = Field(default=0.8, ge=0.5, le=1.0)


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


class TelegramSettings(Section):
    enabled: bool | None = None
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    editors: list[int] = Field(default_factory=list)
    #: Read/write timeout of one Bot API call; a send that times out has an unknown outcome.
    send_timeout: Duration = timedelta(seconds=20)
    #: Long-polling timeout of getUpdates.
    poll_timeout: Duration = timedelta(seconds=10)

    @property
    def active(self) -> bool:
        """True when the Telegram backend should run."""
        return self.token is not None if self.enabled is None else self.enabled

    @model_validator(mode="after")
    def _runnable(self) -> Self:
        # Runs once every key of the section is valid on its own; only an active backend
        # needs its mode's keys.
        if self.active:
            _require(_telegram_needs(self))
        return self


class SlackSettings(Section):
    enabled: bool | None = None
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    mode: Literal["socket", "http"] = "socket"
    port: int = Field(default=3000, ge=1, le=65535)
    base_url: str = "https://slack.com/api/"
    editors: list[str] = Field(default_factory=list)

    @property
    def active(self) -> bool:
        """True when the Slack backend should run."""
        return self.bot_token is not None if self.enabled is None else self.enabled

    @model_validator(mode="after")
    def _runnable(self) -> Self:
        if self.active:
            _require(_slack_needs(self))
        return self

    @field_validator("editors")
    @classmethod
    def _team_user_pairs(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"[A-Z0-9]+:[A-Z0-9]+", item):
                raise ValueError(f'editor {item!r} must look like "T0123:U0456" (team_id:user_id)')
        return value


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: The only ports the Bot API delivers webhooks to.
_WEBHOOK_PORTS = (None, 80, 88, 443, 8443)


def _telegram_needs(cfg: TelegramSettings) -> list[tuple[str, str, str]]:
    """What bot/chat/telegram.py needs at start that ``cfg`` lacks."""
    needs: list[tuple[str, str, str]] = []
    if cfg.token is None:
        needs.append(("token", "required when telegram.enabled = true", "enabled"))
    if cfg.mode != "webhook":
        return needs
    why = 'required when telegram.mode = "webhook"'
    if not cfg.webhook_url:
        needs.append(("webhook_url", why, "mode"))
    else:
        needs += [("webhook_url", reason, "webhook_url") for reason in _webhook_url_faults(cfg)]
    if cfg.webhook_secret is None:
        needs.append(("webhook_secret", why, "mode"))
    elif not _WEBHOOK_SECRET.fullmatch(cfg.webhook_secret.get_secret_value()):
        needs.append(("webhook_secret", "use 1-256 characters A-Z, a-z, 0-9, _ and -", "mode"))
    return needs


def _webhook_url_faults(cfg: TelegramSettings) -> list[str]:
    assert cfg.webhook_url is not None
    try:
        url = urlsplit(cfg.webhook_url)
        port = url.port
    except ValueError:
        return ["not a valid URL"]
    if url.scheme not in ("https", "http") or not url.hostname:
        return ["must be a full URL such as https://bot.example.org/telegram"]
    if urlsplit(cfg.base_url).hostname != "api.telegram.org":
        return []  # a local Bot API server (or a test double) also delivers to http://
    if url.scheme != "https":
        return ["Telegram delivers webhooks only to https:// URLs"]
    if port not in _WEBHOOK_PORTS:
        return ["Telegram delivers webhooks only to ports 443, 80, 88 or 8443"]
    return []


def _slack_needs(cfg: SlackSettings) -> list[tuple[str, str, str]]:
    """What bot/chat/slack.py needs at start that ``cfg`` lacks."""
    needs: list[tuple[str, str, str]] = []
    if cfg.bot_token is None:
        needs.append(("bot_token", "required when slack.enabled = true", "enabled"))
    if cfg.mode == "socket" and cfg.app_token is None:
        needs.append(
            ("app_token", 'required when slack.mode = "socket" (an xapp-... token)', "mode")
        )
    if cfg.mode == "http" and cfg.signing_secret is None:
        needs.append(("signing_secret", 'required when slack.mode = "http"', "mode"))
    return needs


class I18nSettings(Section):
    default_locale: Literal["ru", "kk", "en"] = "ru"
    timezone: TimeZoneName = "Asia/Almaty"


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = Field(default=False, alias="json")


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
        if not (_is_ip(value) or _HOST_NAME.fullmatch(value)):
            raise ValueError(
                f"{value!r} is not an address to listen on (use an IP address such as "
                '"127.0.0.1" or "0.0.0.0", or a host name)'
            )
        return value

    @field_validator("max_tick_age", "max_outbox_age", "db_timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


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
        _require(needs)
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
        return OpsSettings._address(value)

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
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


#: A host name (no scheme, port or path).
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _proxy_list(value: list[SecretStr]) -> list[SecretStr]:
    """Each entry a valid proxy URL or "direct", none twice (never quoting a URL)."""
    seen: set[str] = set()
    for index, item in enumerate(value):
        text = item.get_secret_value().strip()
        if text != DIRECT:
            try:
                parse_proxy(text)
            except ValueError as exc:
                raise ValueError(f"entry {index + 1}: {exc}") from None
        if text in seen:
            raise ValueError(f"entry {index + 1} is listed twice")
        seen.add(text)
    return value


class SourceSettings(Section):
    """Settings shared by every source section."""

    base_url: str | None = None
    per_host_rate: float | None = Field(default=None, gt=0)
    enabled: bool = True
    #: Egress addresses this platform's requests are spread over ("direct": our own);
    #: empty: every request goes out directly, as without this key.
    proxies: Annotated[list[SecretStr], AfterValidator(_proxy_list)] = Field(default_factory=list)
    #: Requests per second through each address to one host (None: per_host_rate).
    proxy_rate: float | None = Field(default=None, gt=0)


class TelegramSourceSettings(SourceSettings):
    base_url: str | None = "https://t.me"
    fetch_plain_page: bool = True


class BlueskySourceSettings(SourceSettings):
    base_url: str | None = "https://public.api.bsky.app"


class MastodonSourceSettings(SourceSettings):
    scheme: Literal["https", "http"] = "https"


class YoutubeSourceSettings(SourceSettings):
    base_url: str | None = "https://www.youtube.com"
    api_base_url: str = "https://www.googleapis.com/youtube/v3"
    api_key: SecretStr | None = None


class FacebookSourceSettings(SourceSettings):
    base_url: str | None = "https://graph.facebook.com/v21.0"
    access_token: SecretStr | None = None


class InstagramSourceSettings(SourceSettings):
    base_url: str | None = "https://graph.facebook.com/v21.0"
    access_token: SecretStr | None = None
    ig_user_id: str | None = None


class XSourceSettings(SourceSettings):
    base_url: str | None = "https://api.x.com/2"
    bearer_token: SecretStr | None = None


class VkSourceSettings(SourceSettings):
    base_url: str | None = "https://api.vk.com/method"
    service_token: SecretStr | None = None
    api_version: str = "5.199"


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


class SourcesSettings(Section):
    telegram: TelegramSourceSettings = TelegramSourceSettings()
    bluesky: BlueskySourceSettings = BlueskySourceSettings()
    mastodon: MastodonSourceSettings = MastodonSourceSettings()
    youtube: YoutubeSourceSettings = YoutubeSourceSettings()
    rss: SourceSettings = SourceSettings()
    html: SourceSettings = SourceSettings()
    facebook: FacebookSourceSettings = FacebookSourceSettings()
    instagram: InstagramSourceSettings = InstagramSourceSettings()
    x: XSourceSettings = XSourceSettings()
    vk: VkSourceSettings = VkSourceSettings()


class _EnvSource(EnvSettingsSource):
    """The environment; a value that is not valid JSON where JSON is needed stays a string."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        """Decode JSON; on failure keep the text so validation names the key (no traceback)."""
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


class LanguagesSettings(Section):
    """Post languages (``bot.langs``): identified once per stored version, in the background."""

    enabled: bool = True
    #: ISO 639-1 codes lingua chooses among; few keep it fast and accurate (kk, ru, en, uk).
    detect: list[str] = Field(default_factory=lambda: ["kk", "ru", "en", "uk"], min_length=1)
    #: Versions identified per batch (one read, one executemany write).
    batch: int = Field(default=500, ge=1, le=10000)
    #: How often ``govwatch run`` looks for versions still without a language.
    every: Duration = timedelta(seconds=30)

    @field_validator("detect")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        from lingua import IsoCode639_1

        codes = [c.strip().lower() for c in value]
        for code in codes:
            try:
                IsoCode639_1.from_str(code)
            except ValueError:
                raise ValueError(f"{code!r} is not a language lingua knows (ISO 639-1)") from None
        return codes


class Settings(BaseSettings):
    """All of govwatch's configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    detect: DetectSettings = DetectSettings()
    relay: RelaySettings = RelaySettings()
    telegram: TelegramSettings = TelegramSettings()
    slack: SlackSettings = SlackSettings()
    i18n: I18nSettings = I18nSettings()
    logging: LoggingSettings = LoggingSettings()
    ops: OpsSettings = OpsSettings()
    retention: RetentionSettings = RetentionSettings()
    languages: LanguagesSettings = LanguagesSettings()
    web: WebSettings = WebSettings()
    sources: SourcesSettings = SourcesSettings()
    wikidata: WikidataSettings = WikidataSettings()

    @model_validator(mode="after")
    def _health_bounds(self) -> Self:
        # A bound no tick can meet would make /healthz fail between any two ticks.
        needs: list[tuple[str, str, str]] = []
        if self.ops.max_tick_age < self.scheduler.tick * 2:
            needs.append(
                (
                    "ops.max_tick_age",
                    "must be at least twice scheduler.tick "
                    f"({format_duration(self.scheduler.tick)})",
                    "scheduler.tick",
                )
            )
        if self.ops.max_outbox_age < self.relay.tick * 2:
            needs.append(
                (
                    "ops.max_outbox_age",
                    f"must be at least twice relay.tick ({format_duration(self.relay.tick)})",
                    "relay.tick",
                )
            )
        _require(needs)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file (passed as init kwargs by load_settings).
        return (_EnvSource(settings_cls), init_settings)

    def secrets(self) -> list[str]:
        """Every configured secret value, for log redaction."""
        found: list[str] = []

        def walk(model: BaseModel) -> None:
            for name in type(model).model_fields:
                value = getattr(model, name)
                if isinstance(value, SecretStr) and value.get_secret_value():
                    found.append(value.get_secret_value())
                elif isinstance(value, BaseModel):
                    walk(value)
                elif name == "proxies" and isinstance(model, SourceSettings):
                    # The password, the user info and its Basic form, not just the URL.
                    for proxy in model.proxies:
                        found.extend(proxy_secrets(proxy.get_secret_value()))

        walk(self)
        return found
