"""Roster files: officials, their accounts and watchlists, in TOML or CSV.

``parse_roster`` validates a whole file and reports every bad entry with its position
before anything is imported; ``import_roster`` applies a valid roster in one transaction
and is idempotent (officials are matched by slug, accounts by platform and handle);
``export_roster`` writes the same format back, so export -> import round-trips.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Platform
from bot.errors import InvalidHandle, RosterError
from bot.handles import canonical_url, normalize_handle, parse_platform, validate_url
from bot.names import search_key, transliterate
from bot.store.engine import Database
from bot.store.models import Account, Official, Watchlist, WatchlistMember

OFFICIAL_KEYS = (
    "slug", "name", "name_ru", "name_kk", "name_en", "position", "organisation",
    "tenure_start", "tenure_end", "notes", "watchlists", "accounts",
)  # fmt: skip
HTML_KEYS = ("url", "followers", "post", "post_date", "post_text", "post_link", "name")
CSV_HTML_PREFIX = "html_"
_WATCHLIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")


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


@dataclass(slots=True)
class ImportStats:
    """What an import did."""

    officials_created: int = 0
    officials_updated: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    watchlists_created: int = 0

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"officials: {self.officials_created} new, {self.officials_updated} updated; "
            f"accounts: {self.accounts_created} new, {self.accounts_updated} updated; "
            f"watchlists: {self.watchlists_created} new"
        )


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


def _watchlists(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("watchlists must be a list of names")
    names = []
    for item in items:
        if not isinstance(item, str) or not _WATCHLIST_NAME.match(item.strip().lower()):
            raise ValueError(f"bad watchlist name {item!r} (lower-case letters, digits, - and _)")
        names.append(item.strip().lower())
    return tuple(dict.fromkeys(names))


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


def _accounts(value: object) -> tuple[AccountEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise InvalidHandle("accounts must be a table of platform = handle")
    entries = []
    for raw_platform, raw_handle in value.items():
        platform = parse_platform(str(raw_platform))
        if raw_handle is None or raw_handle == "":
            continue
        if platform is Platform.HTML:
            entries.append(_html_account(raw_handle))
            continue
        if not isinstance(raw_handle, str):
            raise InvalidHandle(f"{platform.value}: the handle must be text")
        handle = normalize_handle(platform, raw_handle)
        entries.append(AccountEntry(platform, handle, canonical_url(platform, handle)))
    return tuple(entries)


def _entry(raw: Mapping[str, Any]) -> OfficialEntry:
    unknown = set(raw) - set(OFFICIAL_KEYS)
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    name = _text(raw.get("name"), "name")
    if not name:
        raise ValueError("name is missing")
    slug = _text(raw.get("slug"), "slug") or make_slug(name)
    if not _SLUG.match(slug):
        raise ValueError(f"bad slug {slug!r} (lower-case letters, digits and -)")
    return OfficialEntry(
        slug=slug,
        name=name,
        name_ru=_text(raw.get("name_ru"), "name_ru"),
        name_kk=_text(raw.get("name_kk"), "name_kk"),
        name_en=_text(raw.get("name_en"), "name_en"),
        position=_text(raw.get("position"), "position"),
        organisation=_text(raw.get("organisation"), "organisation"),
        tenure_start=_date(raw.get("tenure_start"), "tenure_start"),
        tenure_end=_date(raw.get("tenure_end"), "tenure_end"),
        notes=_text(raw.get("notes"), "notes"),
        watchlists=_watchlists(raw.get("watchlists")),
        accounts=_accounts(raw.get("accounts")),
    )


def validate_entries(
    raws: Sequence[tuple[str, Mapping[str, Any]]], *, source: str
) -> list[OfficialEntry]:
    """Validate raw entries (position label, mapping); raise RosterError listing every problem."""
    problems = _Problems()
    entries: list[OfficialEntry] = []
    slugs: dict[str, str] = {}
    handles: dict[tuple[Platform, str], str] = {}
    for position, raw in raws:
        label = f"{position} ({raw.get('name') or 'no name'})"
        try:
            entry = _entry(raw)
        except (ValueError, InvalidHandle) as exc:
            problems.add(label, str(exc))
            continue
        if entry.slug in slugs:
            problems.add(label, f"same official as {slugs[entry.slug]} (slug {entry.slug!r})")
        slugs.setdefault(entry.slug, label)
        for acc in entry.accounts:
            key = (acc.platform, acc.handle)
            if key in handles:
                problems.add(
                    label, f"{acc.platform.value} {acc.handle!r} is also listed by {handles[key]}"
                )
            handles.setdefault(key, label)
        entries.append(entry)
    if problems.items:
        raise RosterError(source, problems.items)
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
        if problems:
            raise RosterError(source, problems)
    else:
        raise RosterError(source, [("-", f"unknown roster format {fmt!r} (toml or csv)")])
    return validate_entries(raws, source=source)


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


# --- importing ---------------------------------------------------------------------------


def _official_fields(entry: OfficialEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "name_ru": entry.name_ru,
        "name_kk": entry.name_kk,
        "name_en": entry.name_en,
        "search_key": search_key((entry.name, entry.name_ru, entry.name_kk, entry.name_en)),
        "position": entry.position,
        "organisation": entry.organisation,
        "tenure_start": entry.tenure_start,
        "tenure_end": entry.tenure_end,
        "notes": entry.notes,
    }


async def _load_existing(
    session: AsyncSession, entries: Sequence[OfficialEntry]
) -> tuple[dict[str, Official], dict[tuple[str, str], Account], dict[str, Watchlist]]:
    slugs = [e.slug for e in entries]
    officials = {
        o.slug: o for o in (await session.scalars(select(Official).where(Official.slug.in_(slugs))))
    }
    wanted = {(a.platform.value, a.handle) for e in entries for a in e.accounts}
    official_ids = [o.id for o in officials.values()]
    accounts: dict[tuple[str, str], Account] = {}
    if wanted or official_ids:
        platforms = {p for p, _ in wanted}
        rows = await session.scalars(
            select(Account).where(
                Account.official_id.in_(official_ids)
                | (Account.platform.in_(platforms) & Account.handle.in_({h for _, h in wanted}))
            )
        )
        accounts = {(a.platform, a.handle): a for a in rows}
    names = {w for e in entries for w in e.watchlists}
    watchlists = {
        w.name: w for w in await session.scalars(select(Watchlist).where(Watchlist.name.in_(names)))
    }
    return officials, accounts, watchlists


def _conflict(acc: Account, official: Official) -> str:
    return (
        f"{acc.platform} {acc.handle!r} already belongs to another official "
        f"(id {acc.official_id}), not {official.slug}"
    )


async def import_entries(db: Database, entries: Sequence[OfficialEntry]) -> ImportStats:
    """Create or update officials, accounts and watchlists in one transaction."""
    stats = ImportStats()
    async with db.sessions() as session, session.begin():
        officials, accounts, watchlists = await _load_existing(session, entries)
        problems: list[tuple[str, str]] = []
        for entry in entries:
            official = officials.get(entry.slug)
            if official is None:
                official = Official(slug=entry.slug, **_official_fields(entry))
                session.add(official)
                officials[entry.slug] = official
                stats.officials_created += 1
            else:
                changed = False
                for key, value in _official_fields(entry).items():
                    if getattr(official, key) != value:
                        setattr(official, key, value)
                        changed = True
                stats.officials_updated += int(changed)
        await session.flush()
        by_official_platform = {(a.official_id, a.platform): a for a in accounts.values()}
        for entry in entries:
            official = officials[entry.slug]
            for item in entry.accounts:
                _apply_account(
                    session, item, official, accounts, by_official_platform, stats, problems
                )
        if problems:
            raise RosterError("import", problems)
        await _apply_watchlists(session, entries, officials, watchlists, stats)
    return stats


def _apply_account(
    session: AsyncSession,
    item: AccountEntry,
    official: Official,
    accounts: dict[tuple[str, str], Account],
    by_official_platform: dict[tuple[int, str], Account],
    stats: ImportStats,
    problems: list[tuple[str, str]],
) -> None:
    existing = accounts.get((item.platform.value, item.handle))
    if existing is not None and existing.official_id != official.id:
        problems.append((official.slug, _conflict(existing, official)))
        return
    if existing is None:
        # One account per platform per official in a roster: a new handle renames it,
        # keeping its history.
        existing = by_official_platform.get((official.id, item.platform.value))
    if existing is None:
        acc = Account(
            official_id=official.id,
            platform=item.platform.value,
            handle=item.handle,
            url=item.url,
            options=dict(item.options),
        )
        session.add(acc)
        accounts[(acc.platform, acc.handle)] = acc
        by_official_platform[(official.id, acc.platform)] = acc
        stats.accounts_created += 1
        return
    if (existing.handle, existing.url, existing.options) != (
        item.handle,
        item.url,
        dict(item.options),
    ):
        existing.handle, existing.url, existing.options = item.handle, item.url, dict(item.options)
        stats.accounts_updated += 1


async def _apply_watchlists(
    session: AsyncSession,
    entries: Sequence[OfficialEntry],
    officials: Mapping[str, Official],
    watchlists: dict[str, Watchlist],
    stats: ImportStats,
) -> None:
    for name in sorted({w for e in entries for w in e.watchlists} - set(watchlists)):
        wl = Watchlist(name=name)
        session.add(wl)
        watchlists[name] = wl
        stats.watchlists_created += 1
    await session.flush()
    pairs = {(watchlists[w].id, officials[e.slug].id) for e in entries for w in e.watchlists}
    if not pairs:
        return
    rows = await session.execute(
        select(WatchlistMember.watchlist_id, WatchlistMember.official_id).where(
            WatchlistMember.watchlist_id.in_({w for w, _ in pairs})
        )
    )
    existing = {(wl_id, off_id) for wl_id, off_id in rows}
    for wl_id, off_id in sorted(pairs - existing):
        session.add(WatchlistMember(watchlist_id=wl_id, official_id=off_id))


# --- exporting ---------------------------------------------------------------------------


async def collect_entries(db: Database) -> list[OfficialEntry]:
    """Read every official with accounts and watchlists as roster entries."""
    async with db.sessions() as session:
        officials = list(await session.scalars(select(Official).order_by(Official.slug)))
        accounts = list(await session.scalars(select(Account).order_by(Account.platform)))
        members = (
            await session.execute(
                select(WatchlistMember.official_id, Watchlist.name)
                .join(Watchlist, Watchlist.id == WatchlistMember.watchlist_id)
                .order_by(Watchlist.name)
            )
        ).all()
    by_official: dict[int, list[AccountEntry]] = {}
    for a in accounts:
        entry = AccountEntry(
            Platform(a.platform), a.handle, a.url or a.handle, dict(a.options or {})
        )
        by_official.setdefault(a.official_id, []).append(entry)
    lists: dict[int, list[str]] = {}
    for official_id, name in members:
        lists.setdefault(official_id, []).append(name)
    return [
        OfficialEntry(
            slug=o.slug,
            name=o.name,
            name_ru=o.name_ru,
            name_kk=o.name_kk,
            name_en=o.name_en,
            position=o.position,
            organisation=o.organisation,
            tenure_start=o.tenure_start,
            tenure_end=o.tenure_end,
            notes=o.notes,
            watchlists=tuple(lists.get(o.id, ())),
            accounts=tuple(by_official.get(o.id, ())),
        )
        for o in officials
    ]


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _account_value(acc: AccountEntry) -> object:
    if acc.platform is Platform.HTML:
        return {"url": acc.handle, **acc.options}
    return acc.handle


def to_toml(entries: Iterable[OfficialEntry]) -> str:
    """Render entries as a roster TOML file."""
    out = ["# govwatch roster (see DESIGN.md for the format)", ""]
    for e in entries:
        out.append("[[official]]")
        for key in OFFICIAL_KEYS[:-2]:
            value = getattr(e, key)
            if value is not None:
                out.append(f"{key} = {_toml_value(value)}")
        if e.watchlists:
            out.append(f"watchlists = {_toml_value(list(e.watchlists))}")
        if e.accounts:
            out.append("[official.accounts]")
            out.extend(f"{a.platform.value} = {_toml_value(_account_value(a))}" for a in e.accounts)
        out.append("")
    return "\n".join(out)


def to_csv(entries: Iterable[OfficialEntry]) -> str:
    """Render entries as a roster CSV file (one row per official)."""
    platforms = [p.value for p in Platform if p is not Platform.HTML]
    html_cols = ["html"] + [CSV_HTML_PREFIX + k for k in HTML_KEYS if k != "url"]
    header = [k for k in OFFICIAL_KEYS if k != "accounts"] + platforms + html_cols
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for e in entries:
        row: dict[str, str] = {}
        for key in OFFICIAL_KEYS[:-2]:
            value = getattr(e, key)
            row[key] = value.isoformat() if isinstance(value, date) else (value or "")
        row["watchlists"] = ";".join(e.watchlists)
        for acc in e.accounts:
            if acc.platform is Platform.HTML:
                row["html"] = acc.handle
                row.update({CSV_HTML_PREFIX + k: v for k, v in acc.options.items()})
            else:
                row[acc.platform.value] = acc.handle
        writer.writerow(row)
    return buf.getvalue()
