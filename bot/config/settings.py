"""The whole configuration: every section, the environment over the file, secrets.

Each section is declared in the module of its job (``core``, ``chat``, ``detect``,
``services``, ``sources``; shared value types in ``values``); they are re-exported here
so ``from bot.config.settings import HttpSettings`` keeps working.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.config.chat import SlackSettings, TelegramSettings
from bot.config.core import (
    DatabaseSettings,
    HttpSettings,
    I18nSettings,
    LoggingSettings,
    RelaySettings,
    SchedulerSettings,
)
from bot.config.detect import DetectSettings, LanguagesSettings
from bot.config.proxies import proxy_secrets
from bot.config.services import OpsSettings, RetentionSettings, WebSettings, WikidataSettings
from bot.config.sources import (
    BlueskySourceSettings,
    FacebookSourceSettings,
    InstagramSourceSettings,
    MastodonSourceSettings,
    SourceSettings,
    SourcesSettings,
    TelegramSourceSettings,
    VkSourceSettings,
    XSourceSettings,
    YoutubeSourceSettings,
)
from bot.config.values import (
    Duration,
    Requirements,
    Section,
    TimeZoneName,
    format_duration,
    known_zone,
    parse_duration,
    require,
)

ENV_PREFIX = "GOVWATCH_"


class _EnvSource(EnvSettingsSource):
    """The environment; a value that is not valid JSON where JSON is needed stays a string."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        """Decode JSON; on failure keep the text so validation names the key (no traceback)."""
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


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
        require(needs)
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


__all__ = [
    "ENV_PREFIX",
    "BlueskySourceSettings",
    "DatabaseSettings",
    "DetectSettings",
    "Duration",
    "FacebookSourceSettings",
    "HttpSettings",
    "I18nSettings",
    "InstagramSourceSettings",
    "LanguagesSettings",
    "LoggingSettings",
    "MastodonSourceSettings",
    "OpsSettings",
    "RelaySettings",
    "Requirements",
    "RetentionSettings",
    "SchedulerSettings",
    "Section",
    "Settings",
    "SlackSettings",
    "SourceSettings",
    "SourcesSettings",
    "TelegramSettings",
    "TelegramSourceSettings",
    "TimeZoneName",
    "VkSourceSettings",
    "WebSettings",
    "WikidataSettings",
    "XSourceSettings",
    "YoutubeSourceSettings",
    "format_duration",
    "known_zone",
    "parse_duration",
]
