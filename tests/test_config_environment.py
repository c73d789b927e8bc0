"""``bot.config.environment`` reads the environment exactly as pydantic-settings did.

govwatch's settings were a pydantic-settings ``BaseSettings`` (prefix ``GOVWATCH_``,
``__`` nesting, case-insensitive, text kept where JSON does not parse); start-up now
reads the variables itself (issue 18). Each case here gives both the same environment
and compares what they make of it, key by key. pydantic-settings is a dev dependency
for this reference only.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import create_model
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.config import Settings, load_settings
from bot.config.environment import ENV_PREFIX, environment_values


class _EnvSource(EnvSettingsSource):
    """The source govwatch used: text that is not JSON stays text."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


class _Reference(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (_EnvSource(settings_cls), init_settings)


#: The settings model as it was: the same fields on pydantic-settings' BaseSettings.
Reference = create_model(  # type: ignore[call-overload]  # fields given as a mapping
    "Reference",
    __base__=_Reference,
    **{name: (field.annotation, field) for name, field in Settings.model_fields.items()},
)


CASES: list[dict[str, str]] = [
    {},
    {
        "GOVWATCH_SCHEDULER__POLL_INTERVAL": "2m",
        "GOVWATCH_SOURCES__TELEGRAM__BASE_URL": "http://b",
        "GOVWATCH_TELEGRAM__TOKEN": "123456:secret",
    },
    {"GOVWATCH_DETECT__FOLLOWER_MILESTONES": "[1, 2]"},
    {"GOVWATCH_DETECT__FOLLOWER_MILESTONES": "[1,"},
    {"GOVWATCH_DETECT__FOLLOWER_MILESTONES__0": "5"},
    {"GOVWATCH_SCHEDULER": "fast"},
    {"GOVWATCH_SCHEDULER": '{"tick": "1s"}', "GOVWATCH_SCHEDULER__JITTER": "0s"},
    {"GOVWATCH_SCHEDULER__NONSENSE": "1", "GOVWATCH_NONSENSE": "1", "GOVWATCH_CONFIG": "x"},
    {"govwatch_relay__tick": "2s", "GoVwAtCh_HTTP__TIMEOUT": "3s"},
    {"GOVWATCH_LOGGING__JSON": "true", "GOVWATCH_LOGGING__LEVEL": "DEBUG"},
    {"GOVWATCH_LOGGING__JSON_FORMAT": "true"},
    {"GOVWATCH_LOGGING": '{"JSON": true, "Level": "ERROR"}'},
    {
        "GOVWATCH_SOURCES__TELEGRAM": '{"enabled": false}',
        "GOVWATCH_SOURCES__TELEGRAM__PROXIES": '["direct"]',
        "GOVWATCH_SOURCES__TELEGRAM__PROXY_RATE": "2.5",
    },
    {"GOVWATCH_SOURCES": '{"vk": {"ENABLED": false}, "X": {"bearer_token": "t"}}'},
    {"GOVWATCH_SOURCES__VK": "[1]", "GOVWATCH_SOURCES__VK__ENABLED": "false"},
    {"GOVWATCH_DATABASE": '{"URL": "sqlite+aiosqlite:///x.db"}'},
    {"GOVWATCH_DATABASE": '"sqlite+aiosqlite:///x.db"'},
    {
        "GOVWATCH_TELEGRAM__EDITORS": "[1, 2]",
        "GOVWATCH_SLACK__EDITORS": "T1:U1",
        "GOVWATCH_TELEGRAM__TOKEN": "",
        "GOVWATCH_TELEGRAM__ENABLED": "null",
    },
    {"GOVWATCH_RETENTION__POSTS_AFTER": "7d", "GOVWATCH_RETENTION__PRUNE_POSTS": "1"},
    {"GOVWATCH_LANGUAGES__DETECT": '["kk", "RU"]', "GOVWATCH_LANGUAGES__DETECT__X": "1"},
    {"GOVWATCH_SOURCES__TELEGRAM__BASE_URL__X": "1", "GOVWATCH_DATABASE__": "x"},
    {"GOVWATCH_OPS": "[1]", "GOVWATCH_WEB__BASE_URL": "https://watch.example"},
    {"GOVWATCH_SOURCES__TELEGRAM__PROXIES": "http://u:p@proxy:3128"},
    {"GOVWATCH_SOURCES__HTML__PROXIES": "[]", "GOVWATCH_SOURCES__HTML__BASE_URL": "[1]"},
    {"GOVWATCH_DETECT__FOLLOWER_MILESTONES": "", "GOVWATCH_I18N": ""},
]


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in [n for n in os.environ if n.upper().startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)

    def set_all(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_all


@pytest.mark.parametrize("env", CASES, ids=lambda env: ",".join(env) or "empty")
def test_the_environment_reads_as_pydantic_settings_read_it(
    environ: Any, env: dict[str, str]
) -> None:
    environ(env)
    expected = _EnvSource(Reference)()
    assert environment_values(Settings, os.environ) == expected


@pytest.mark.parametrize("env", CASES, ids=lambda env: ",".join(env) or "empty")
def test_settings_come_out_the_same(environ: Any, env: dict[str, str]) -> None:
    environ(env)
    file: dict[str, Any] = {
        "scheduler": {"tick": "2s", "jitter": "5s"},
        "database": {"pool_size": 3},
    }
    try:
        expected: Any = Reference(**file).model_dump()
    except ValueError as exc:
        expected = type(exc)
    try:
        got: Any = Settings(**file).model_dump()
    except ValueError as exc:
        got = type(exc)
    assert got == expected


def test_the_environment_overrides_the_file_key_by_key(environ: Any) -> None:
    environ({"GOVWATCH_SCHEDULER__TICK": "3s"})
    settings = load_settings(None, scheduler={"jitter": "7s", "tick": "1s"})
    assert (settings.scheduler.tick.seconds, settings.scheduler.jitter.seconds) == (3, 7)
