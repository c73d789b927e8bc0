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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Platform
from bot.errors import RosterError
from bot.names import search_key
from bot.roster.parse import (
    CSV_HTML_PREFIX,
    HTML_KEYS,
    SCALAR_KEYS,
    AccountEntry,
    OfficialEntry,
)
from bot.store.engine import Database
from bot.store.models import Account, Official, Watchlist, WatchlistMember
from bot.store.positions import (
    Tenure,
    is_former,
    last_held,
    position_rows,
    set_tenures,
    tenures_of,
)

#: The kinds of :class:`Change` an import names (``--dry-run`` prints them).
CHANGE_KINDS = ("new_member", "left_office", "new_handle", "changed_handle")


@dataclass(frozen=True, slots=True)
class Change:
    """One change an import makes that a journalist cares about."""

    kind: str
    official: str
    detail: str

    def line(self) -> str:
        """One line for the terminal."""
        labels = {
            "new_member": "new member",
            "left_office": "left office",
            "new_handle": "new handle",
            "changed_handle": "changed handle",
        }
        return f"{labels[self.kind]}: {self.official} ({self.detail})"


@dataclass(slots=True)
class ImportStats:
    """What an import did."""

    officials_created: int = 0
    officials_updated: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    watchlists_created: int = 0
    positions_updated: int = 0
    changes: list[Change] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"officials: {self.officials_created} new, {self.officials_updated} updated; "
            f"accounts: {self.accounts_created} new, {self.accounts_updated} updated; "
            f"watchlists: {self.watchlists_created} new; "
            f"positions: {self.positions_updated} officials changed"
        )

    @property
    def changed(self) -> bool:
        """The import changed something."""
        return any((self.officials_created, self.officials_updated, self.accounts_created,
                    self.accounts_updated, self.watchlists_created, self.positions_updated,
                    self.changes))  # fmt: skip


def _official_fields(entry: OfficialEntry, *, merge: bool) -> dict[str, Any]:
    fields = _all_fields(entry)
    if merge:
        # From Wikidata: only what it says; the roster's other fields stay.
        return {k: v for k, v in fields.items() if v is not None and v != ""}
    return fields


def _all_fields(entry: OfficialEntry) -> dict[str, Any]:
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
        "wikidata_id": entry.wikidata_id,
    }


async def _load_existing(
    session: AsyncSession, entries: Sequence[OfficialEntry]
) -> tuple[dict[str, Official], dict[tuple[str, str], Account], dict[str, Watchlist]]:
    """Existing officials by entry slug (matched on Wikidata id first, then slug), the
    accounts involved, and the watchlists named."""
    slugs = [e.slug for e in entries]
    by_slug = {
        o.slug: o for o in (await session.scalars(select(Official).where(Official.slug.in_(slugs))))
    }
    qids = [e.wikidata_id for e in entries if e.wikidata_id]
    by_qid: dict[str, Official] = {}
    if qids:
        rows = await session.scalars(select(Official).where(Official.wikidata_id.in_(qids)))
        by_qid = {o.wikidata_id: o for o in rows if o.wikidata_id}
    officials: dict[str, Official] = {}
    for e in entries:
        found = by_qid.get(e.wikidata_id or "") or by_slug.get(e.slug)
        if found is not None:
            officials[e.slug] = found
    wanted = {(a.platform.value, a.handle) for e in entries for a in e.accounts}
    official_ids = [o.id for o in officials.values()]
    accounts: dict[tuple[str, str], Account] = {}
    if wanted or official_ids:
        platforms = {p for p, _ in wanted}
        rows_acc = await session.scalars(
            select(Account).where(
                Account.official_id.in_(official_ids)
                | (Account.platform.in_(platforms) & Account.handle.in_({h for _, h in wanted}))
            )
        )
        accounts = {(a.platform, a.handle): a for a in rows_acc}
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


async def import_entries(
    db: Database,
    entries: Sequence[OfficialEntry],
    *,
    merge: bool = False,
    dry_run: bool = False,
    today: date | None = None,
) -> ImportStats:
    """Create or update officials, positions, accounts and watchlists in one transaction.

    ``merge`` (Wikidata) sets only the fields an entry gives and keeps the rest;
    ``dry_run`` does everything, reports it and rolls back."""
    today = today or datetime.now(UTC).date()
    async with db.sessions() as session:
        transaction = await session.begin()
        try:
            stats = await _apply(session, entries, merge=merge, today=today)
        except BaseException:
            await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
    return stats


async def _apply(
    session: AsyncSession, entries: Sequence[OfficialEntry], *, merge: bool, today: date
) -> ImportStats:
    stats = ImportStats()
    officials, accounts, watchlists = await _load_existing(session, entries)
    problems: list[tuple[str, str]] = []
    created: set[str] = set()
    for entry in entries:
        official = officials.get(entry.slug)
        fields = _official_fields(entry, merge=merge)
        if official is None:
            official = Official(slug=entry.slug, **_all_fields(entry))
            session.add(official)
            officials[entry.slug] = official
            created.add(entry.slug)
            stats.officials_created += 1
            stats.changes.append(Change("new_member", entry.name, _lists(entry) or "new"))
            continue
        if entry.wikidata_id and official.wikidata_id not in (None, entry.wikidata_id):
            problems.append((entry.slug, f"is Wikidata {official.wikidata_id}, "
                                         f"not {entry.wikidata_id}"))  # fmt: skip
            continue
        changed = False
        for key, value in fields.items():
            if getattr(official, key) != value:
                setattr(official, key, value)
                changed = True
        stats.officials_updated += int(changed)
    if problems:
        raise RosterError("import", problems)
    await session.flush()
    await _apply_positions(session, entries, officials, created, stats, merge=merge, today=today)
    by_official_platform = {(a.official_id, a.platform): a for a in accounts.values()}
    for entry in entries:
        official = officials[entry.slug]
        for item in entry.accounts:
            _apply_account(session, item, official, accounts, by_official_platform, stats, problems)
    if problems:
        raise RosterError("import", problems)
    await _apply_watchlists(session, entries, officials, watchlists, stats, created)
    return stats


def _lists(entry: OfficialEntry) -> str:
    return ", ".join(entry.watchlists)


async def _apply_positions(
    session: AsyncSession,
    entries: Sequence[OfficialEntry],
    officials: Mapping[str, Official],
    created: set[str],
    stats: ImportStats,
    *,
    merge: bool,
    today: date,
) -> None:
    ids = [officials[e.slug].id for e in entries]
    rows = await position_rows(session, ids)
    for entry in entries:
        official = officials[entry.slug]
        old = rows.get(official.id, [])
        before = sorted((Tenure(r.title, r.start, r.end) for r in old), key=Tenure.key)
        after = sorted(set(entry.positions), key=Tenure.key)
        if merge and not after:
            continue  # Wikidata gave no position: the roster's stay
        if before == after:
            continue
        await set_tenures(session, official.id, old, after)
        stats.positions_updated += 1
        if entry.slug not in created and not is_former(before, today) and is_former(after, today):
            last = last_held(after)
            detail = f"{last.title}, until {last.end}" if last and last.end else "former"
            stats.changes.append(Change("left_office", entry.name, detail))
    await session.flush()


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
        stats.changes.append(Change("new_handle", official.name, f"{acc.platform} {acc.handle}"))
        return
    if (existing.handle, existing.url, existing.options) != (
        item.handle,
        item.url,
        dict(item.options),
    ):
        if existing.handle != item.handle:
            detail = f"{existing.platform} {existing.handle} -> {item.handle}"
            stats.changes.append(Change("changed_handle", official.name, detail))
        existing.handle, existing.url, existing.options = item.handle, item.url, dict(item.options)
        stats.accounts_updated += 1


async def _apply_watchlists(
    session: AsyncSession,
    entries: Sequence[OfficialEntry],
    officials: Mapping[str, Official],
    watchlists: dict[str, Watchlist],
    stats: ImportStats,
    created: set[str],
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
    names = {wl.id: name for name, wl in watchlists.items()}
    by_id = {o.id: (slug, o) for slug, o in officials.items()}
    for wl_id, off_id in sorted(pairs - existing):
        session.add(WatchlistMember(watchlist_id=wl_id, official_id=off_id))
        slug, official = by_id[off_id]
        if slug not in created:
            stats.changes.append(Change("new_member", official.name, names[wl_id]))


# --- exporting ---------------------------------------------------------------------------


async def collect_entries(db: Database) -> list[OfficialEntry]:
    """Read every official with positions, accounts and watchlists as roster entries."""
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
        tenures = await tenures_of(session, [o.id for o in officials])
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
            positions=_main_first(o.position, tenures.get(o.id, [])),
            wikidata_id=o.wikidata_id,
        )
        for o in officials
    ]


def _main_first(title: str | None, tenures: Sequence[Tenure]) -> tuple[Tenure, ...]:
    # The official's shown position goes first (the roster's top-level position, start
    # and end); the others follow as [[official.positions]].
    main = [t for t in tenures if t.title == title]
    if not main:
        return tuple(tenures)
    first = main[-1]
    return (first, *(t for t in tenures if t is not first))


def _scalars(e: OfficialEntry) -> dict[str, object]:
    """The entry's plain values in ``SCALAR_KEYS`` order (position, start, end: the first
    position's when it has that title)."""
    values: dict[str, object] = {k: getattr(e, k, None) for k in SCALAR_KEYS}
    values["start"] = values["end"] = None
    main = e.positions[0] if e.positions and e.positions[0].title == e.position else None
    if main is not None:
        values["start"], values["end"] = main.start, main.end
    return values


def _more_positions(e: OfficialEntry) -> tuple[Tenure, ...]:
    if e.positions and e.positions[0].title == e.position:
        return e.positions[1:]
    return e.positions


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
        for key, value in _scalars(e).items():
            if value is not None:
                out.append(f"{key} = {_toml_value(value)}")
        if e.watchlists:
            out.append(f"watchlists = {_toml_value(list(e.watchlists))}")
        if e.accounts:
            out.append("[official.accounts]")
            out.extend(f"{a.platform.value} = {_toml_value(_account_value(a))}" for a in e.accounts)
        for more in _more_positions(e):
            out.append("[[official.positions]]")
            out.append(f"position = {_toml_value(more.title)}")
            out.extend(f"{k} = {_toml_value(v)}" for k, v in (("start", more.start),
                       ("end", more.end)) if v is not None)  # fmt: skip
        out.append("")
    return "\n".join(out)


def _cell(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value or "")


def to_csv(entries: Iterable[OfficialEntry]) -> str:
    """Render entries as a roster CSV file (one row per official, then one row per further
    position with only slug, name, position, start and end)."""
    platforms = [p.value for p in Platform if p is not Platform.HTML]
    html_cols = ["html"] + [CSV_HTML_PREFIX + k for k in HTML_KEYS if k != "url"]
    header = [*SCALAR_KEYS, "watchlists", *platforms, *html_cols]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for e in entries:
        row = {key: _cell(value) for key, value in _scalars(e).items()}
        row["watchlists"] = ";".join(e.watchlists)
        for acc in e.accounts:
            if acc.platform is Platform.HTML:
                row["html"] = acc.handle
                row.update({CSV_HTML_PREFIX + k: v for k, v in acc.options.items()})
            else:
                row[acc.platform.value] = acc.handle
        writer.writerow(row)
        for more in _more_positions(e):
            writer.writerow({"slug": e.slug, "name": e.name, "position": more.title,
                             "start": _cell(more.start), "end": _cell(more.end)})  # fmt: skip
    return buf.getvalue()
