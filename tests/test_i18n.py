"""Every catalog domain has the same keys in ru, kk and en, and every template formats."""

from __future__ import annotations

import re
import string
import tomllib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import LOCALES, format_datetime, format_duration, format_number, plural, t

CATALOGS = Path(__file__).resolve().parent.parent / "bot" / "i18n"


def _flat(prefix: str, table: dict[str, object], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flat(full, value, out)
        else:
            out[full] = str(value)


def _domains() -> dict[str, dict[str, dict[str, str]]]:
    found: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for path in sorted(CATALOGS.glob("*.toml")):
        domain, locale = path.name.removesuffix(".toml").rsplit(".", 1)
        flat: dict[str, str] = {}
        with path.open("rb") as fh:
            _flat("", tomllib.load(fh), flat)
        found[domain][locale] = flat
    return found


DOMAINS = _domains()


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_domain_has_every_locale_and_same_keys(domain: str) -> None:
    locales = DOMAINS[domain]
    assert sorted(locales) == sorted(LOCALES), f"{domain}: locales {sorted(locales)}"
    reference = set(locales["en"])
    for locale, messages in locales.items():
        assert set(messages) == reference, (
            f"{domain}.{locale}: missing {sorted(reference - set(messages))}, "
            f"extra {sorted(set(messages) - reference)}"
        )


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_template_formats_with_the_same_placeholders(domain: str) -> None:
    formatter = string.Formatter()
    for key, template in DOMAINS[domain]["en"].items():
        wanted = {name for _, name, _, _ in formatter.parse(template) if name}
        for locale in LOCALES:
            other = DOMAINS[domain][locale][key]
            names = {name for _, name, _, _ in formatter.parse(other) if name}
            assert names == wanted, f"{domain}.{locale}:{key} uses {names}, en uses {wanted}"
            other.format(**dict.fromkeys(names, "X"))
            assert other.strip(), f"{domain}.{locale}:{key} is empty"


def test_no_key_is_defined_by_two_domains() -> None:
    owners: dict[str, str] = {}
    for domain, locales in DOMAINS.items():
        for key in locales["en"]:
            assert key not in owners, f"{key} defined in {owners.get(key)} and {domain}"
            owners[key] = domain


@pytest.mark.parametrize("domain", ["chat", "alerts"])
def test_ru_and_kk_are_really_translated(domain: str) -> None:
    en = DOMAINS[domain]["en"]
    cyrillic = re.compile("[а-яәғқңөұүһі]", re.IGNORECASE)
    for locale in ("ru", "kk"):
        messages = DOMAINS[domain][locale]
        prose = [
            k for k, v in en.items() if len(re.findall(r"[A-Za-z]{4,}", v)) >= 3 and "/" not in v
        ]
        untranslated = [k for k in prose if not cyrillic.search(messages[k])]
        assert not untranslated, f"{domain}.{locale} looks untranslated: {untranslated}"
    assert DOMAINS[domain]["kk"] != DOMAINS[domain]["ru"]


@pytest.mark.parametrize(
    ("locale", "number", "expected"),
    [("ru", 37480, "37\u00a0480"), ("kk", 37480, "37\u00a0480"), ("en", 37480, "37,480")],
)
def test_numbers_follow_the_locale(locale: str, number: int, expected: str) -> None:
    assert format_number(number, locale) == expected
    assert format_number(2140, locale, signed=True).startswith("+2")


def test_dates_and_durations_follow_the_locale() -> None:
    moment = datetime(2026, 5, 5, 12, 54, tzinfo=UTC)
    assert format_datetime(moment, "ru", tz="Asia/Almaty") == "5 мая 2026, 17:54 (Asia/Almaty)"
    assert format_datetime(moment, "en") == "May 5, 2026, 12:54 (UTC)"
    assert format_datetime(moment, "kk", tz="Europe/Moscow") == (
        "2026 ж. 5 мам, 15:54 (Europe/Moscow)"
    )
    assert format_datetime(moment, "en", tz="Asia/Almaty", with_time=False) == "May 5, 2026"
    assert format_duration(timedelta(days=5), "ru") == "5\u00a0дней"
    assert plural("kk", 3, t("kk", "units.days")) == t("kk", "units.days").split("|")[-1]
