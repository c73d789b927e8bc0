"""Configuration: the example file, environment overrides, durations, secrets, errors."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.cli import main
from bot.config import Settings, format_duration, load_settings, parse_duration
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        key = field.alias or name
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_example_file_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.scheduler.poll_interval == timedelta(minutes=15)
    assert settings.detect.silent_after == timedelta(days=7)
    assert settings.http.allow_private_networks is False


def test_example_file_documents_every_key() -> None:
    text = EXAMPLE.read_text()
    missing = []
    for key in sorted(_keys(Settings)):
        section, _, name = key.rpartition(".")
        header = f"[{section}]"
        shared = name in ("enabled", "per_host_rate", "base_url") and section.startswith("sources.")
        in_section = header in text and (
            f"\n{name} =" in text.split(header, 1)[1].split("\n[", 1)[0]
            or f"\n# {name} =" in text.split(header, 1)[1].split("\n[", 1)[0]
        )
        if not (in_section or shared):
            missing.append(key)
    assert missing == []
    # every documented key is also a real key (no stale documentation)
    data = tomllib.loads(text)
    Settings(**data)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("6h", 21600), ("7d", 604800), ("2w", 1209600), ("500ms", 0.5),
     (" 1.5h ", 5400), (90, 90)],
)  # fmt: skip
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["", "7", "7 days", "-1s", "1y", True, None, -5])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_duration_round_trip() -> None:
    assert format_duration(timedelta(days=7)) == "1w"
    assert format_duration(timedelta(minutes=90)) == "90m"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[scheduler]\npoll_interval = "5m"\n[sources.telegram]\nbase_url = "http://a"\n')
    monkeypatch.setenv("GOVWATCH_SCHEDULER__POLL_INTERVAL", "2m")
    monkeypatch.setenv("GOVWATCH_SOURCES__TELEGRAM__BASE_URL", "http://b")
    monkeypatch.setenv("GOVWATCH_TELEGRAM__TOKEN", "123456:secret-token-value")
    settings = load_settings(cfg)
    assert settings.scheduler.poll_interval == timedelta(minutes=2)
    assert settings.sources.telegram.base_url == "http://b"
    assert settings.telegram.active
    assert "secret-token-value" not in repr(settings)
    assert "secret-token-value" not in settings.model_dump_json()
    assert "123456:secret-token-value" in settings.secrets()


def test_every_problem_is_reported(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[scheduler]\npoll_interval = "soon"\nmax_concurrency = 0\n'
        '[database]\nurl = "mysql://x"\n[nonsense]\na = 1\n'
    )
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    keys = {key for _, key, _ in info.value.problems}
    assert keys == {
        "scheduler.poll_interval",
        "scheduler.max_concurrency",
        "database.url",
        "nonsense",
    }
    assert all(file == str(cfg) for file, _, _ in info.value.problems)


def test_config_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[detect]\nsilent_after = "a week"\nconfirm_polls = "two"\n')
    assert main(["config", "check", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert all(line.startswith(f"{cfg}: detect.") for line in err)
    assert main(["--config", str(EXAMPLE), "config", "check"]) == 0


def test_invalid_toml_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[scheduler\n")
    assert main(["config", "check", "--config", str(cfg)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["config", "check", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
