"""The chat backends' sections (Telegram, Slack) and what each needs to start."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config.values import Duration, Section, require

_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: The only ports the Bot API delivers webhooks to.
_WEBHOOK_PORTS = (None, 80, 88, 443, 8443)


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
            require(_telegram_needs(self))
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
            require(_slack_needs(self))
        return self

    @field_validator("editors")
    @classmethod
    def _team_user_pairs(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"[A-Z0-9]+:[A-Z0-9]+", item):
                raise ValueError(f'editor {item!r} must look like "T0123:U0456" (team_id:user_id)')
        return value


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
