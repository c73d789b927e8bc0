"""Roster import and export: apply validated entries to the database, write them back.

``import_entries`` applies a valid roster (see :mod:`bot.roster.parse`) in one transaction and
is idempotent (officials are matched by slug, accounts by platform and handle);
``collect_entries`` reads the roster back and ``to_toml`` / ``to_csv`` write it in the
format ``load_roster`` reads, so export -> import round-trips.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Platform
from bot.errors import RosterError
from bot.names import search_key
from bot.roster.parse import (
    CSV_HTML_PREFIX,
    HTML_KEYS,
    OFFICIAL_KEYS,
    AccountEntry,
    OfficialEntry,
)
from bot.store.engine import Database
from bot.store.models import Account, Official, Watchlist, WatchlistMember


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
