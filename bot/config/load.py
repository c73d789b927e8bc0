"""Loading settings: a TOML file plus ``GOVWATCH_<SECTION>__<KEY>`` environment overrides.

Precedence, highest first: environment, TOML file, built-in defaults. Every problem is
reported at once as ``(source, key, reason)``, where the source is the file or the
environment variable that gave the bad value.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from bot.config.settings import ENV_PREFIX, Settings
from bot.config.values import Requirements
from bot.errors import ConfigError

DEFAULT_CONFIG_FILE = "govwatch.toml"
Problem = tuple[str, str, str]
#: tomllib before Python 3.14 keeps the position of a syntax error only in its message.
_TOML_AT = re.compile(
    r"^(?P<msg>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def resolve_config_path(explicit: str | None) -> Path | None:
    """The config file to read: ``--config``, then ``$GOVWATCH_CONFIG``, then ./govwatch.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("GOVWATCH_CONFIG")
    if env:
        return Path(env)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def _read_toml(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """The file's tables, or nothing and the reason it cannot be used."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return {}, [(str(path), "-", "file not found")]
    except UnicodeDecodeError as exc:
        return {}, [(str(path), f"byte {exc.start}", "not UTF-8 text")]
    except OSError as exc:
        return {}, [(str(path), "-", f"cannot read: {exc.strerror}")]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return {}, [_toml_problem(path, text, exc)]


def _toml_problem(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    match = _TOML_AT.match(str(exc))
    if match is None:
        return (str(path), "-", f"not valid TOML: {exc}")
    if match["line"]:
        where = f"line {match['line']}, column {match['col']}"
    else:
        lines = text.split("\n")
        where = f"line {len(lines)}, column {len(lines[-1]) + 1} (end of file)"
    return (str(path), where, f"not valid TOML: {match['msg']}")


def _environment() -> dict[str, str]:
    """Our variables, by lower-case name (matching is case-insensitive, as when loading)."""
    prefix = ENV_PREFIX.lower()
    return {name.lower(): name for name in os.environ if name.lower().startswith(prefix)}


def _env_name(loc: tuple[str | int, ...]) -> str:
    return (ENV_PREFIX + "__".join(str(part) for part in loc)).lower()


def _env_source(loc: tuple[str | int, ...], env: dict[str, str]) -> str | None:
    """The variable that set ``loc``, a section holding it, or a part of it; None if none."""
    for size in range(len(loc), 0, -1):
        if _env_name(loc[:size]) in env:
            return env[_env_name(loc[:size])]
    inner = [env[name] for name in sorted(env) if name.startswith(_env_name(loc) + "__")]
    return inner[0] if inner else None


def _reason(err: Any, from_env: bool) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    reason = str(err["msg"]).removeprefix("Value error, ")
    if from_env and err["type"] in ("list_type", "dict_type", "model_type"):
        example = "[1, 2]" if err["type"] == "list_type" else '{"key": "value"}'
        reason += f" (in the environment write it as JSON, e.g. {example})"
    return reason


def _problems(exc: ValidationError, file: str) -> list[Problem]:
    env = _environment()
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        error = err.get("ctx", {}).get("error")
        if isinstance(error, Requirements):
            for key, reason, cause in error.items:
                # A check across sections names its keys in full ("ops.max_tick_age").
                at, by = (*loc, *key.split(".")), (*loc, *cause.split("."))
                source = _env_source(at, env) or _env_source(by, env)
                problems.append((source or file, ".".join(map(str, at)), reason))
            continue
        source = _env_source(loc, env)
        key = ".".join(str(part) for part in loc) or "-"
        problems.append((source or file, key, _reason(err, source is not None)))
    return problems


def _validate(file_data: dict[str, Any], label: str) -> tuple[Settings | None, list[Problem]]:
    try:
        return Settings(**file_data), []
    except ValidationError as exc:
        return None, _problems(exc, label)
    except SettingsError as exc:
        return None, [("<environment>", "-", str(exc))]


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or defaults) plus the environment; raise ConfigError."""
    file_data: dict[str, Any] = {}
    problems: list[Problem] = []
    label = "<defaults>" if path is None else str(path)
    if path is not None:
        # A broken file still lets the environment be checked: every problem at once.
        file_data, problems = _read_toml(Path(path))
    for section, values in overrides.items():
        merged = dict(file_data.get(section, {}))
        merged.update(values)
        file_data[section] = merged
    settings, invalid = _validate(file_data, label)
    problems += invalid
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def check_config(path: str | Path | None) -> list[Problem]:
    """Every problem of the file at ``path`` and the environment together (empty: valid)."""
    try:
        load_settings(path)
    except ConfigError as exc:
        return exc.problems
    return []
