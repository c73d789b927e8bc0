"""Roster files (officials, their accounts and watchlists, TOML or CSV): parse, validate.

``load_roster`` / ``parse_roster_text`` validate a whole file and report every bad entry
with its position before anything is imported. Importing into the database and exporting
back (export -> import round-trips) live in :mod:`bot.roster.transfer`.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from bot.domain import Platform
from bot.errors import InvalidHandle, RosterError
from bot.handles import account_url, normalize_handle, parse_platform, validate_url
from bot.names import transliterate
from bot.store.positions import Tenure

OFFICIAL_KEYS = (
    "slug", "name", "name_ru", "name_kk", "name_en", "position", "organisation",
    "tenure_start", "tenure_end", "notes", "watchlists", "accounts",
    "start", "end", "wikidata_id", "positions",
)  # fmt: skip
#: The keys written as plain values (export), in this order.
SCALAR_KEYS = (
    "slug", "name", "name_ru", "name_kk", "name_en", "wikidata_id", "position", "start", "end",
    "organisation", "tenure_start", "tenure_end", "notes",
)  # fmt: skip
#: Keys of one more position (``[[official.positions]]``; a CSV row of only these).
POSITION_KEYS = ("position", "start", "end")
_WIKIDATA_ID = re.compile(r"^Q[1-9][0-9]{0,14}$")
HTML_KEYS = ("url", "followers", "post", "post_date", "post_text", "post_link", "name")
CSV_HTML_PREFIX = "html_"
_WATCHLIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
_TEXT_KEYS = ("name_ru", "name_kk", "name_en", "position", "organisation", "notes")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """One validated account of a roster entry."""

    platform: Platform
    handle: str
    url: str
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OfficialEntry:
    """One validated roster entry."""

    slug: str
    name: str
    name_ru: str | None = None
    name_kk: str | None = None
    name_en: str | None = None
    position: str | None = None
    organisation: str | None = None
    tenure_start: date | None = None
    tenure_end: date | None = None
    notes: str | None = None
    watchlists: tuple[str, ...] = ()
    accounts: tuple[AccountEntry, ...] = ()
    #: Positions held, with their first and last day (empty: always in office).
    positions: tuple[Tenure, ...] = ()
    wikidata_id: str | None = None


def make_slug(name: str) -> str:
    """A stable identifier derived from a name ("Askhat Aimagambetov" -> "askhat-aimagambetov")."""
    return "-".join(transliterate(name).split())[:200] or "official"


# --- parsing -----------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, position: str, message: str) -> None:
        self.items.append((position, message))


def _text(value: object, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text")
    cleaned = value.strip()
    if len(cleaned) > 500:
        raise ValueError(f"{key} is longer than 500 characters")
    return cleaned or None


def _date(value: object, key: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{key} must be a date like 2021-01-18")


def _watchlists(value: object, problems: list[str]) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        problems.append("watchlists must be a list of names")
        return ()
    names = []
    for item in items:
        if not isinstance(item, str) or not _WATCHLIST_NAME.match(item.strip().lower()):
            problems.append(f"bad watchlist name {item!r} (lower-case letters, digits, - and _)")
            continue
        names.append(item.strip().lower())
    return tuple(dict.fromkeys(names))


def watchlist_name(value: str) -> str:
    """A watchlist name as stored (lower case); ValueError when it is not one."""
    name = value.strip().lower()
    if not _WATCHLIST_NAME.match(name):
        raise ValueError(f"bad watchlist name {value!r} (lower-case letters, digits, - and _)")
    return name


def _html_account(value: object) -> AccountEntry:
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, Mapping):
        raise InvalidHandle("html must be a table with url and CSS selectors")
    unknown = set(value) - set(HTML_KEYS)
    if unknown:
        raise InvalidHandle(f"html has unknown keys: {', '.join(sorted(unknown))}")
    url = value.get("url")
    if not isinstance(url, str):
        raise InvalidHandle("html needs a url")
    validate_url(url.strip())
    options = {k: str(v) for k, v in value.items() if k != "url" and v not in (None, "")}
    if "followers" not in options and "post" not in options:
        raise InvalidHandle("html needs a followers or a post selector")
    return AccountEntry(Platform.HTML, url.strip(), url.strip(), options)


def _account(raw_platform: object, raw_handle: object) -> AccountEntry | None:
    platform = parse_platform(str(raw_platform))
    if raw_handle is None or raw_handle == "":
        return None
    if platform is Platform.HTML:
        return _html_account(raw_handle)
    if not isinstance(raw_handle, str):
        raise InvalidHandle(f"{platform.value}: the handle must be text")
    handle = normalize_handle(platform, raw_handle)
    return AccountEntry(platform, handle, account_url(platform, raw_handle, handle))


def _accounts(value: object, problems: list[str]) -> tuple[AccountEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        problems.append("accounts must be a table of platform = handle")
        return ()
    entries = []
    for raw_platform, raw_handle in value.items():
        try:
            entry = _account(raw_platform, raw_handle)
        except (ValueError, InvalidHandle) as exc:
            problems.append(str(exc))
            continue
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


def _checked(problems: list[str], check: Callable[[object, str], T], raw: Mapping[str, Any],
             key: str) -> T | None:  # fmt: skip
    """``check(raw[key], key)``, or None with its problem noted."""
    try:
        return check(raw.get(key), key)
    except ValueError as exc:
        problems.append(str(exc))
        return None


def _slug(raw: Mapping[str, Any], name: str | None, problems: list[str]) -> str | None:
    given = _checked(problems, _text, raw, "slug")
    slug = given or (make_slug(name) if name else None)
    if slug is not None and not _SLUG.match(slug):
        problems.append(f"bad slug {slug!r} (lower-case letters, digits and -)")
        return None
    return slug


def _entry(raw: Mapping[str, Any], problems: list[str]) -> OfficialEntry | None:
    """The entry of ``raw`` with every problem noted (None when it has no usable name)."""
    unknown = set(raw) - set(OFFICIAL_KEYS)
    if unknown:
        problems.append(f"unknown keys: {', '.join(sorted(unknown))}")
    noted = len(problems)
    name = _checked(problems, _text, raw, "name")
    if name is None and len(problems) == noted:
        problems.append("name is missing")
    slug = _slug(raw, name, problems)
    text = {key: _checked(problems, _text, raw, key) for key in _TEXT_KEYS}
    start = _checked(problems, _date, raw, "tenure_start")
    end = _checked(problems, _date, raw, "tenure_end")
    watchlists = _watchlists(raw.get("watchlists"), problems)
    accounts = _accounts(raw.get("accounts"), problems)
    positions = _positions(raw, text["position"], problems)
    wikidata_id = _checked(problems, _wikidata_id, raw, "wikidata_id")
    if not name or slug is None:
        return None
    return OfficialEntry(
        slug=slug,
        name=name,
        name_ru=text["name_ru"],
        name_kk=text["name_kk"],
        name_en=text["name_en"],
        position=text["position"],
        organisation=text["organisation"],
        tenure_start=start,
        tenure_end=end,
        notes=text["notes"],
        watchlists=watchlists,
        accounts=accounts,
        positions=positions,
        wikidata_id=wikidata_id,
    )


def _wikidata_id(value: object, key: str) -> str | None:
    text = _text(value, key)
    if text is not None and not _WIKIDATA_ID.match(text.upper()):
        raise ValueError(f"{key} must be a Wikidata item id like Q123456")
    return text.upper() if text else None


def tenure(title: str | None, start: date | None, end: date | None) -> Tenure:
    """A position checked: a title, and an end not before its start (ValueError)."""
    if not title:
        raise ValueError("start and end need a position")
    if start is not None and end is not None and end < start:
        raise ValueError(f"position {title!r} ends ({end}) before it starts ({start})")
    return Tenure(title, start, end)


def _one_position(raw: Mapping[str, Any], title: str | None, problems: list[str]) -> Tenure | None:
    noted = len(problems)
    start = _checked(problems, _date, raw, "start")
    end = _checked(problems, _date, raw, "end")
    if len(problems) > noted or (title is None and start is None and end is None):
        return None
    try:
        return tenure(title, start, end)
    except ValueError as exc:
        problems.append(str(exc))
        return None


def _positions(
    raw: Mapping[str, Any], title: str | None, problems: list[str]
) -> tuple[Tenure, ...]:
    """The top-level position (with its start and end) and every ``positions`` entry."""
    found = [p for p in [_one_position(raw, title, problems)] if p is not None]
    more = raw.get("positions")
    if more is None:
        return tuple(found)
    if not isinstance(more, list):
        problems.append("positions must be [[official.positions]] tables")
        return tuple(found)
    for number, item in enumerate(more, start=1):
        if not isinstance(item, Mapping) or set(item) - set(POSITION_KEYS):
            problems.append(f"positions #{number}: use only position, start and end")
            continue
        noted = len(problems)
        title_more = _checked(problems, _text, item, "position")
        if len(problems) == noted and title_more is None:
            problems.append(f"positions #{number}: position is missing")
            continue
        one = _one_position(item, title_more, problems)
        if one is not None:
            found.append(one)
    return tuple(dict.fromkeys(found))


def _validate(
    raws: Sequence[tuple[str, Mapping[str, Any]]],
) -> tuple[list[OfficialEntry], list[tuple[str, str]]]:
    problems = _Problems()
    entries: list[OfficialEntry] = []
    slugs: dict[str, str] = {}
    handles: dict[tuple[Platform, str], str] = {}
    qids: dict[str, str] = {}
    for position, raw in raws:
        label = f"{position} ({raw.get('name') or 'no name'})"
        found: list[str] = []
        entry = _entry(raw, found)
        for message in found:
            problems.add(label, message)
        if entry is None:
            continue
        if entry.slug in slugs:
            problems.add(label, f"same official as {slugs[entry.slug]} (slug {entry.slug!r})")
        slugs.setdefault(entry.slug, label)
        if entry.wikidata_id and entry.wikidata_id in qids:
            problems.add(
                label, f"wikidata_id {entry.wikidata_id} is also {qids[entry.wikidata_id]}"
            )
        if entry.wikidata_id:
            qids.setdefault(entry.wikidata_id, label)
        for acc in entry.accounts:
            key = (acc.platform, acc.handle)
            if key in handles:
                problems.add(
                    label, f"{acc.platform.value} {acc.handle!r} is also listed by {handles[key]}"
                )
            handles.setdefault(key, label)
        if not found:
            entries.append(entry)
    return entries, problems.items


def validate_entries(
    raws: Sequence[tuple[str, Mapping[str, Any]]], *, source: str
) -> list[OfficialEntry]:
    """Validate raw entries (position label, mapping); raise RosterError listing every problem

    of every entry (an entry with three problems gets three lines)."""
    entries, problems = _validate(raws)
    if problems:
        raise RosterError(source, problems)
    return entries


def _csv_row_to_raw(row: Mapping[str, str | None]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    accounts: dict[str, Any] = {}
    html: dict[str, str] = {}
    for key, value in row.items():
        if key is None:
            raise ValueError("row has more cells than the header")
        key = key.strip()
        value = (value or "").strip()
        if not value:
            continue
        if key == "html":
            html["url"] = value
        elif key.startswith(CSV_HTML_PREFIX):
            html[key.removeprefix(CSV_HTML_PREFIX)] = value
        elif key in OFFICIAL_KEYS:
            raw[key] = value
        else:
            accounts[key] = value
    if html:
        accounts["html"] = html
    if accounts:
        raw["accounts"] = accounts
    return raw


def parse_roster_text(text: str, *, fmt: str, source: str = "<roster>") -> list[OfficialEntry]:
    """Parse and validate roster text in ``fmt`` ("toml" or "csv")."""
    raws: list[tuple[str, Mapping[str, Any]]] = []
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RosterError(source, [("-", f"not valid TOML: {exc}")]) from None
        extra = set(data) - {"official"}
        if extra:
            raise RosterError(
                source, [("-", f"unknown top-level keys: {', '.join(sorted(extra))}")]
            )
        officials = data.get("official", [])
        if not isinstance(officials, list):
            raise RosterError(source, [("-", "use [[official]] tables")])
        raws = [(f"official #{i}", o) for i, o in enumerate(officials, start=1)]
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        problems: list[tuple[str, str]] = []
        for index, row in enumerate(reader, start=2):
            try:
                raws.append((f"line {index}", _csv_row_to_raw(row)))
            except ValueError as exc:
                problems.append((f"line {index}", str(exc)))
        entries, more = _validate(_merge_position_rows(raws))
        if problems or more:
            # in file order: a row's cell-count problem before the next rows' problems
            ordered = sorted([*problems, *more], key=lambda p: _line_number(p[0]))
            raise RosterError(source, ordered)
        return entries
    else:
        raise RosterError(source, [("-", f"unknown roster format {fmt!r} (toml or csv)")])
    return validate_entries(raws, source=source)


def _merge_position_rows(
    raws: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[tuple[str, Mapping[str, Any]]]:
    """CSV: a row naming an earlier row's official with only position, start and end adds
    a position to it (several positions, one row each)."""
    merged: list[tuple[str, dict[str, Any]]] = []
    by_slug: dict[str, dict[str, Any]] = {}
    for label, raw in raws:
        name, slug = raw.get("name"), raw.get("slug")
        key = slug or (make_slug(name) if isinstance(name, str) and name.strip() else None)
        only_position = set(raw) <= {"slug", "name", *POSITION_KEYS} and "position" in raw
        first = by_slug.get(key) if isinstance(key, str) else None
        if first is not None and only_position:
            first.setdefault("positions", []).append({k: raw[k] for k in POSITION_KEYS if k in raw})
            continue
        row = dict(raw)
        merged.append((label, row))
        if isinstance(key, str):
            by_slug.setdefault(key, row)
    return list(merged)


def _line_number(position: str) -> int:
    words = position.split()
    return int(words[1]) if len(words) > 1 and words[1].isdigit() else 0


def load_roster(path: str | Path) -> list[OfficialEntry]:
    """Read and validate a roster file (format from its extension: .toml or .csv)."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("toml", "csv"):
        raise RosterError(str(p), [("-", "roster files end in .toml or .csv")])
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(str(p), [("-", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(str(p), [("-", f"cannot read: {exc}")]) from None
    return parse_roster_text(text, fmt=fmt, source=str(p))
