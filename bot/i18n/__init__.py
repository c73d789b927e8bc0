"""Message catalogs (ru, kk, en) and locale-aware number and date formatting.

Catalogs are TOML files named ``<domain>.<locale>.toml`` in this folder (for example
``chat.ru.toml``, ``alerts.kk.toml``); every domain must define the same keys in every
locale, which a test checks. Keys are looked up flat (``"top.title"``): a TOML table
``[top]`` with ``title = "..."`` defines ``top.title``. Values are ``str.format`` templates.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

LOCALES: Final = ("ru", "kk", "en")
DEFAULT_LOCALE: Final = "ru"
_HERE = Path(__file__).parent


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@lru_cache(maxsize=len(LOCALES))
def catalog(locale: str) -> Mapping[str, str]:
    """Every message of ``locale``, flattened, from all domain files."""
    out: dict[str, str] = {}
    for path in sorted(_HERE.glob(f"*.{locale}.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), out)
    return out


def normalize_locale(locale: str | None) -> str:
    """Map ``None`` or an unsupported code (``"ru-RU"``, ``"kz"``) to a supported locale."""
    if not locale:
        return DEFAULT_LOCALE
    code = locale.lower().replace("_", "-").split("-")[0]
    if code == "kz":
        code = "kk"
    return code if code in LOCALES else DEFAULT_LOCALE


def t(locale: str | None, key: str, /, **params: Any) -> str:
    """The message ``key`` in ``locale``, formatted with ``params`` (falls back to English)."""
    loc = normalize_locale(locale)
    template = catalog(loc).get(key) or catalog("en").get(key)
    if template is None:
        raise KeyError(f"no message {key!r}")
    return template.format(**params) if params else template


def plural(locale: str | None, n: int, forms: str) -> str:
    """Pick a plural form: ``forms`` is "one|few|many" (ru) or "one|other" (en, kk)."""
    parts = forms.split("|")
    loc = normalize_locale(locale)
    if loc == "ru" and len(parts) >= 3:
        n10, n100 = abs(n) % 10, abs(n) % 100
        if n10 == 1 and n100 != 11:
            return parts[0]
        if 2 <= n10 <= 4 and not 12 <= n100 <= 14:
            return parts[1]
        return parts[2]
    if len(parts) == 1:
        return parts[0]
    return parts[0] if abs(n) == 1 else parts[-1]


_THOUSANDS: Final = {"ru": "\u00a0", "kk": "\u00a0", "en": ","}
_DECIMAL: Final = {"ru": ",", "kk": ",", "en": "."}


def format_number(value: int | float, locale: str | None, *, signed: bool = False) -> str:
    """Format a number for ``locale``: ``37 480`` (ru, kk) or ``37,480`` (en)."""
    loc = normalize_locale(locale)
    if isinstance(value, float) and not value.is_integer():
        text = f"{abs(value):,.1f}"
    else:
        text = f"{abs(int(value)):,}"
    text = text.replace(",", "\x00").replace(".", _DECIMAL[loc]).replace("\x00", _THOUSANDS[loc])
    if value < 0:
        return "\u2212" + text
    return ("+" + text) if signed and value > 0 else text


def format_percent(value: float, locale: str | None, *, signed: bool = False) -> str:
    """Format a percentage with one decimal: ``+5,2 %`` (ru, kk) or ``+5.2%`` (en)."""
    loc = normalize_locale(locale)
    body = f"{abs(value):.1f}".replace(".", _DECIMAL[loc])
    sign = "\u2212" if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}{body}\u00a0%" if loc != "en" else f"{sign}{body}%"


def format_multiplier(value: float, locale: str | None) -> str:
    """A "times usual" factor, always with one decimal: ``×5,0`` and ``×36,7`` (ru, kk)."""
    loc = normalize_locale(locale)
    return "\u00d7" + f"{value:,.1f}".replace(",", "\x00").replace(".", _DECIMAL[loc]).replace(
        "\x00", _THOUSANDS[loc]
    )


_MONTHS: Final = {
    "ru": ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"],
    "kk": ["қаң", "ақп", "нау", "сәу", "мам", "мау", "шіл", "там", "қыр", "қаз", "қар", "жел"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def format_datetime(
    value: datetime, locale: str | None, *, tz: str | None = None, with_time: bool = True
) -> str:
    """Format a timestamp for ``locale`` in time zone ``tz``: ``5 мая 2026, 14:02 (Asia/Almaty)``.

    A time of day always names its zone (the IANA name; ``UTC`` when none is given), so a
    reader in another city never has to guess; a date alone does not.
    """
    loc = normalize_locale(locale)
    local = value.astimezone(ZoneInfo(tz)) if tz else value
    month = _MONTHS[loc][local.month - 1]
    if loc == "en":
        day = f"{month} {local.day}, {local.year}"
    elif loc == "kk":
        day = f"{local.year} ж. {local.day} {month}"
    else:
        day = f"{local.day} {month} {local.year}"
    return f"{day}, {local:%H:%M} ({zone_label(local)})" if with_time else day


def zone_label(value: datetime) -> str:
    """The zone of an aware ``value`` as shown to readers: ``Asia/Almaty``, ``UTC``."""
    key = getattr(value.tzinfo, "key", None)
    if isinstance(key, str):
        return key
    # datetime.UTC names itself "UTC", a fixed offset "UTC+05:00"; naive times are UTC here
    return value.tzname() or "UTC"


def format_date(value: datetime, locale: str | None, *, tz: str | None = None) -> str:
    """Format a date for ``locale`` (no time of day)."""
    return format_datetime(value, locale, tz=tz, with_time=False)


def format_duration(value: timedelta, locale: str | None) -> str:
    """Format a duration in its largest sensible unit: ``12 дней``, ``3 h``."""
    seconds = int(value.total_seconds())
    if seconds >= 86400:
        n, key = seconds // 86400, "units.days"
    elif seconds >= 3600:
        n, key = seconds // 3600, "units.hours"
    elif seconds >= 60:
        n, key = seconds // 60, "units.minutes"
    else:
        n, key = max(seconds, 0), "units.seconds"
    return f"{format_number(n, locale)}\u00a0{plural(locale, n, t(locale, key))}"
