"""Configuration: the example file, environment overrides, durations, secrets, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.cli import main
from bot.config import Settings, check_config, format_duration, load_settings, parse_duration
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
        shared = name in (
            "enabled", "per_host_rate", "base_url", "proxies", "proxy_rate"
        ) and section.startswith("sources.")  # fmt: skip
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


# --- config check: every problem at once, each with its source (issue 15) ---------------

FILE = "<file>"  # stands for the config file's path in the tables below
TG = '[telegram]\ntoken = "123:abc"\n'
HOOK = TG + 'mode = "webhook"\nwebhook_secret = "s3cret_Token-1"\n'
#: (case, file text, environment, expected (source, key, part of the reason) triples)
BAD_CASES: list[tuple[str, str | bytes, dict[str, str], list[tuple[str, str, str]]]] = [
    ("zone unknown", '[i18n]\ntimezone = "Mars/Olympus"\n', {},
     [(FILE, "i18n.timezone", "unknown time zone 'Mars/Olympus'")]),
    ("zone is a folder", '[i18n]\ntimezone = "Asia"\n', {},
     [(FILE, "i18n.timezone", "unknown time zone 'Asia'")]),
    ("zone wrong case", '[i18n]\ntimezone = "asia/almaty"\n', {},
     [(FILE, "i18n.timezone", "unknown time zone")]),
    ("zone from env", "", {"GOVWATCH_I18N__TIMEZONE": "Mars/Olympus"},
     [("GOVWATCH_I18N__TIMEZONE", "i18n.timezone", "unknown time zone")]),
    ("webhook without url or secret", TG + 'mode = "webhook"\n', {},
     [(FILE, "telegram.webhook_url", 'required when telegram.mode = "webhook"'),
      (FILE, "telegram.webhook_secret", 'required when telegram.mode = "webhook"')]),
    ("webhook mode from env", TG, {"GOVWATCH_TELEGRAM__MODE": "webhook"},
     [("GOVWATCH_TELEGRAM__MODE", "telegram.webhook_url", "required"),
      ("GOVWATCH_TELEGRAM__MODE", "telegram.webhook_secret", "required")]),
    ("webhook over http to Telegram", HOOK + 'webhook_url = "http://bot.example.org/h"\n', {},
     [(FILE, "telegram.webhook_url", "only to https:// URLs")]),
    ("webhook to a port Telegram skips",
     HOOK + 'webhook_url = "https://bot.example.org:9000/h"\n', {},
     [(FILE, "telegram.webhook_url", "ports 443, 80, 88 or 8443")]),
    ("webhook url not a url", HOOK + 'webhook_url = "bot.example.org/h"\n', {},
     [(FILE, "telegram.webhook_url", "must be a full URL")]),
    ("webhook url with a bad port", HOOK + 'webhook_url = "https://bot.example.org:x/h"\n', {},
     [(FILE, "telegram.webhook_url", "not a valid URL")]),
    ("webhook url from env", HOOK, {"GOVWATCH_TELEGRAM__WEBHOOK_URL": "http://bot.example.org/"},
     [("GOVWATCH_TELEGRAM__WEBHOOK_URL", "telegram.webhook_url", "https://")]),
    ("webhook secret Telegram refuses",
     TG + 'mode = "webhook"\nwebhook_url = "https://b.example.org/h"\nwebhook_secret = "a b"\n',
     {}, [(FILE, "telegram.webhook_secret", "A-Z, a-z, 0-9, _ and -")]),
    ("telegram enabled without token", "[telegram]\nenabled = true\n", {},
     [(FILE, "telegram.token", "required when telegram.enabled = true")]),
    ("slack http without signing secret", '[slack]\nbot_token = "xoxb-1"\nmode = "http"\n', {},
     [(FILE, "slack.signing_secret", 'required when slack.mode = "http"')]),
    ("slack socket without app token", '[slack]\nbot_token = "xoxb-1"\n', {},
     [(FILE, "slack.app_token", 'required when slack.mode = "socket"')]),
    ("slack enabled without tokens", "[slack]\nenabled = true\n", {},
     [(FILE, "slack.bot_token", "required when slack.enabled = true"),
      (FILE, "slack.app_token", "required")]),
    ("env duration blamed on the variable", '[scheduler]\npoll_interval = "5m"\n',
     {"GOVWATCH_SCHEDULER__POLL_INTERVAL": "soon"},
     [("GOVWATCH_SCHEDULER__POLL_INTERVAL", "scheduler.poll_interval", "not a duration: 'soon'")]),
    ("env names match in any case", "", {"govwatch_scheduler__tick": "often"},
     [("govwatch_scheduler__tick", "scheduler.tick", "not a duration")]),
    ("env list that is not JSON", "", {"GOVWATCH_DETECT__FOLLOWER_MILESTONES": "[1,"},
     [("GOVWATCH_DETECT__FOLLOWER_MILESTONES", "detect.follower_milestones", "as JSON")]),
    ("env list item", "", {"GOVWATCH_DETECT__FOLLOWER_MILESTONES__0": "5"},
     [("GOVWATCH_DETECT__FOLLOWER_MILESTONES__0", "detect.follower_milestones", "valid list")]),
    ("env section that is not JSON", "", {"GOVWATCH_SCHEDULER": "fast"},
     [("GOVWATCH_SCHEDULER", "scheduler", "as JSON")]),
    ("env unknown key", "", {"GOVWATCH_SCHEDULER__NONSENSE": "1"},
     [("GOVWATCH_SCHEDULER__NONSENSE", "scheduler.nonsense", "unknown key")]),
    ("bad database url hides nothing",
     '[database]\nurl = "mysql://x"\n[scheduler]\npoll_interval = "soon"\n'
     '[i18n]\ntimezone = "Mars/Olympus"\n[slack]\nbot_token = "xoxb-1"\nmode = "http"\n', {},
     [(FILE, "database.url", "use sqlite+aiosqlite"),
      (FILE, "scheduler.poll_interval", "not a duration"),
      (FILE, "slack.signing_secret", "required"),
      (FILE, "i18n.timezone", "unknown time zone")]),
    ("database url with a bad port", '[database]\nurl = "postgresql+asyncpg://u@h:abc/db"\n',
     {}, [(FILE, "database.url", "not a valid database URL")]),
    ("database url from env, zone from file", '[i18n]\ntimezone = "Mars/Olympus"\n',
     {"GOVWATCH_DATABASE__URL": "mysql://x"},
     [("GOVWATCH_DATABASE__URL", "database.url", "use sqlite+aiosqlite"),
      (FILE, "i18n.timezone", "unknown time zone")]),
    ("toml syntax", "[scheduler\n", {},
     [(FILE, "line 1, column 11", "not valid TOML: Expected ']'")]),
    ("toml syntax on a later line", 'a = 1\n[x]\nb = = 2\n', {},
     [(FILE, "line 3, column 5", "not valid TOML: Invalid value")]),
    ("toml ends too soon", "[i18n]\ntimezone = ", {},
     [(FILE, "line 2, column 12 (end of file)", "not valid TOML: Invalid value")]),
    ("toml broken and env bad", "[scheduler\n", {"GOVWATCH_RELAY__TICK": "x"},
     [(FILE, "line 1, column 11", "not valid TOML"),
      ("GOVWATCH_RELAY__TICK", "relay.tick", "not a duration")]),
    ("not UTF-8", b"a = 1\n\xff\n", {}, [(FILE, "byte 6", "not UTF-8 text")]),
]  # fmt: skip

GOOD_CASES: list[tuple[str, str, dict[str, str]]] = [
    ("zone from the IANA list", '[i18n]\ntimezone = "Etc/GMT+5"\n', {}),
    ("webhook mode while Telegram is off", '[telegram]\nmode = "webhook"\n', {}),
    ("webhook to a local Bot API over http",
     HOOK + 'base_url = "http://127.0.0.1:8081/bot"\nwebhook_url = "http://127.0.0.1:8443/h"\n',
     {}),
    ("webhook to Telegram", HOOK + 'webhook_url = "https://bot.example.org:8443/tg"\n', {}),
    ("slack http with its secret", "", {"GOVWATCH_SLACK__BOT_TOKEN": "xoxb-1",
     "GOVWATCH_SLACK__MODE": "http", "GOVWATCH_SLACK__SIGNING_SECRET": "s"}),
    ("slack off, socket mode without tokens", '[slack]\nenabled = false\nbot_token = "x"\n', {}),
    ("env value fixes nothing broken", "", {"GOVWATCH_SCHEDULER__POLL_INTERVAL": "2m"}),
]  # fmt: skip


def _setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | bytes, env: dict[str, str]
) -> Path:
    for name in [n for n in os.environ if n.upper().startswith("GOVWATCH_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = tmp_path / "govwatch.toml"
    if isinstance(text, bytes):
        cfg.write_bytes(text)
    else:
        cfg.write_text(text)
    return cfg


def _expected(cfg: Path, rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [(str(cfg) if source == FILE else source, key, part) for source, key, part in rows]


def _matches(problems: list[tuple[str, str, str]], expected: list[tuple[str, str, str]]) -> None:
    assert sorted((s, k) for s, k, _ in problems) == sorted((s, k) for s, k, _ in expected)
    reasons = {(s, k): r for s, k, r in problems}
    for source, key, part in expected:
        assert part in reasons[(source, key)], (key, reasons[(source, key)])


@pytest.mark.parametrize(("text", "env", "rows"), [c[1:] for c in BAD_CASES],
                         ids=[c[0] for c in BAD_CASES])  # fmt: skip
def test_loader_names_every_problem_and_its_source(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str | bytes,
    env: dict[str, str],
    rows: list[tuple[str, str, str]],
) -> None:
    cfg = _setup(tmp_path, monkeypatch, text, env)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    _matches(info.value.problems, _expected(cfg, rows))
    assert check_config(cfg) == info.value.problems


@pytest.mark.parametrize(("text", "env", "rows"), [c[1:] for c in BAD_CASES],
                         ids=[c[0] for c in BAD_CASES])  # fmt: skip
def test_config_check_prints_one_line_per_problem(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str | bytes,
    env: dict[str, str],
    rows: list[tuple[str, str, str]],
) -> None:
    cfg = _setup(tmp_path, monkeypatch, text, env)
    assert main(["config", "check", "--config", str(cfg)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    parsed = [tuple(line.split(": ", 2)) for line in lines]
    assert all(len(p) == 3 for p in parsed), lines
    _matches([(s, k, r) for s, k, r in parsed], _expected(cfg, rows))


@pytest.mark.parametrize(("text", "env"), [c[1:] for c in GOOD_CASES],
                         ids=[c[0] for c in GOOD_CASES])  # fmt: skip
def test_valid_configurations_pass(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    env: dict[str, str],
) -> None:
    cfg = _setup(tmp_path, monkeypatch, text, env)
    assert check_config(cfg) == []
    load_settings(cfg)
    assert main(["config", "check", "--config", str(cfg)]) == 0
    assert capsys.readouterr().out == f"{cfg}: ok\n"


def test_config_check_command_in_a_process(tmp_path: Path) -> None:
    cfg = tmp_path / "govwatch.toml"
    cfg.write_text('[i18n]\ntimezone = "Mars/Olympus"\n[telegram]\ntoken = "1:a"\n')
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("GOVWATCH_")}
    env |= {"GOVWATCH_SCHEDULER__POLL_INTERVAL": "soon", "GOVWATCH_TELEGRAM__MODE": "webhook"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", "--config", str(cfg)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert sorted(done.stderr.splitlines()) == sorted([
        "GOVWATCH_SCHEDULER__POLL_INTERVAL: scheduler.poll_interval: not a duration: 'soon' "
        '(use e.g. "30s", "15m", "6h", "7d")',
        'GOVWATCH_TELEGRAM__MODE: telegram.webhook_url: required when telegram.mode = "webhook"',
        "GOVWATCH_TELEGRAM__MODE: telegram.webhook_secret: "
        'required when telegram.mode = "webhook"',
        f"{cfg}: i18n.timezone: unknown time zone 'Mars/Olympus' "
        '(use an IANA name such as "Asia/Almaty" or "UTC")',
    ])  # fmt: skip


def test_other_commands_refuse_the_same_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _setup(tmp_path, monkeypatch, "", {"GOVWATCH_I18N__TIMEZONE": "Mars/Olympus"})
    assert main(["db", "upgrade", "--config", str(cfg)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "govwatch: GOVWATCH_I18N__TIMEZONE: i18n.timezone: unknown time zone 'Mars/Olympus' "
        '(use an IANA name such as "Asia/Almaty" or "UTC")'
    ]
