"""A roster from Wikidata: a SPARQL JSON result (``application/sparql-results+json``).

One row per person, position and handle combination (``person``, ``personLabel``,
``personLabel_ru``, ``personLabel_kk``, ``positionLabel``, ``start``, ``end`` and one
variable per platform) merges into one roster entry per person, matched on import by
its Wikidata id. Every bad row is named (row number, person, why) before anything is
imported, as for roster files. ``docs/wikidata.md`` explains the shipped query.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.domain import Platform
from bot.errors import InvalidHandle, RosterError
from bot.handles import account_url, normalize_handle
from bot.roster.parse import (
    AccountEntry,
    OfficialEntry,
    make_slug,
    tenure,
    validate_entries,
    watchlist_name,
)
from bot.store.positions import Tenure, current_title

#: The result variable of each platform, and the Wikidata property it comes from.
PLATFORM_VARIABLES: Mapping[str, tuple[Platform, str]] = {
    "telegram": (Platform.TELEGRAM, "P3789"),
    "x": (Platform.X, "P2002"),
    "instagram": (Platform.INSTAGRAM, "P2003"),
    "facebook": (Platform.FACEBOOK, "P2013"),
    "youtube": (Platform.YOUTUBE, "P2397"),
    "bluesky": (Platform.BLUESKY, "P12361"),
    "mastodon": (Platform.MASTODON, "P4033"),
    "vk": (Platform.VK, "P3185"),
}
ENTITY_PREFIX = "http://www.wikidata.org/entity/"
_XSD_DATES = ("http://www.w3.org/2001/XMLSchema#dateTime", "http://www.w3.org/2001/XMLSchema#date")


@dataclass(slots=True)
class _Person:
    """What the rows of one person say, merged."""

    qid: str
    label: str
    first_row: int
    names: dict[str, str] = field(default_factory=dict)
    positions: set[Tenure] = field(default_factory=set)
    handles: dict[Platform, set[str]] = field(default_factory=dict)
    raw_handles: dict[tuple[Platform, str], str] = field(default_factory=dict)


def _value(binding: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    cell = binding.get(name)
    return cell if isinstance(cell, Mapping) and isinstance(cell.get("value"), str) else None


def _text(binding: Mapping[str, Any], name: str) -> str | None:
    cell = _value(binding, name)
    if cell is None or cell.get("type") not in ("literal", "typed-literal"):
        return None
    return str(cell["value"]).strip() or None


def _qid(binding: Mapping[str, Any]) -> str:
    cell = _value(binding, "person")
    if cell is None:
        raise ValueError("person is missing")
    value = str(cell["value"])
    qid = value.removeprefix(ENTITY_PREFIX)
    if cell.get("type") != "uri" or qid == value or not qid[1:].isdigit() or qid[:1] != "Q":
        raise ValueError(f"person {value!r} is not a Wikidata item")
    return qid


def _day(binding: Mapping[str, Any], name: str) -> date | None:
    """A date cell as a day; None when absent. An unknown value ("somevalue") is refused:
    an end we cannot date would make a member look in office or gone when neither is known."""
    cell = _value(binding, name)
    if cell is None:
        return None
    if (
        cell.get("type") not in ("literal", "typed-literal")
        or cell.get("datatype") not in _XSD_DATES
    ):
        raise ValueError(f"{name} is not a date (an unknown value in Wikidata?)")
    text = str(cell["value"])
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a date from year 1 to 9999") from None


def _label(binding: Mapping[str, Any], qid: str) -> str:
    for name in ("personLabel", "personLabel_ru", "personLabel_kk"):
        label = _text(binding, name)
        # The label service gives the bare id when an item has no label in the language.
        if label and label != qid:
            return label
    raise ValueError("the person has no label (personLabel)")


def _row(number: int, binding: Mapping[str, Any], people: dict[str, _Person]) -> list[str]:
    """Merge one row into ``people``; the row's problems (empty when it is good)."""
    problems: list[str] = []
    qid = _qid(binding)
    label = _label(binding, qid)
    person = people.setdefault(qid, _Person(qid, label, number))
    for lang in ("ru", "kk"):
        name = _text(binding, f"personLabel_{lang}")
        if name and name != qid:
            person.names.setdefault(lang, name)
    title = _text(binding, "positionLabel")
    try:
        start, end = _day(binding, "start"), _day(binding, "end")
        if title is not None or start is not None or end is not None:
            person.positions.add(tenure(title, start, end))
    except ValueError as exc:
        problems.append(str(exc))
    for variable, (platform, prop) in PLATFORM_VARIABLES.items():
        raw = _text(binding, variable)
        if raw is None:
            continue
        try:
            handle = normalize_handle(platform, raw)
        except InvalidHandle as exc:
            problems.append(f"{variable} ({prop}) {raw!r}: {exc}")
            continue
        person.handles.setdefault(platform, set()).add(handle)
        person.raw_handles.setdefault((platform, handle), raw)
    return problems


def _entry(person: _Person, slug: str, watchlist: str | None, today: date) -> OfficialEntry:
    accounts = []
    for platform, handles in sorted(person.handles.items(), key=lambda item: item[0].value):
        # One account per platform, as in a roster; several values: the first by sort order.
        handle = sorted(handles)[0]
        url = account_url(platform, person.raw_handles[(platform, handle)], handle)
        accounts.append(AccountEntry(platform, handle, url))
    positions = tuple(sorted(person.positions, key=Tenure.key))
    return OfficialEntry(
        slug=slug,
        name=person.label,
        name_ru=person.names.get("ru"),
        name_kk=person.names.get("kk"),
        position=current_title(positions, today),
        watchlists=(watchlist,) if watchlist else (),
        accounts=tuple(accounts),
        positions=positions,
        wikidata_id=person.qid,
    )


def parse_sparql_json(
    text: str | bytes, *, source: str, watchlist: str | None = None, today: date
) -> list[OfficialEntry]:
    """Roster entries (one per person) from a SPARQL JSON result; RosterError names every
    bad row ("row 7 (Q123 Name): why")."""
    if watchlist is not None:
        try:
            watchlist = watchlist_name(watchlist)
        except ValueError as exc:
            raise RosterError(source, [("--watchlist", str(exc))]) from None
    try:
        data = json.loads(text)
        bindings = data["results"]["bindings"]
        if not isinstance(bindings, list):
            raise TypeError
    except (ValueError, TypeError, KeyError):
        raise RosterError(source, [("-", "not a SPARQL JSON result (results.bindings)")]) from None
    people: dict[str, _Person] = {}
    problems: list[tuple[str, str]] = []
    for number, binding in enumerate(bindings, start=1):
        if not isinstance(binding, Mapping):
            problems.append((f"row {number}", "not a result row"))
            continue
        try:
            found = _row(number, binding, people)
        except ValueError as exc:
            problems.append((f"row {number} ({_who(binding)})", str(exc)))
            continue
        qid = _qid(binding)
        problems.extend((f"row {number} ({qid} {people[qid].label})", p) for p in found)
    if problems:
        raise RosterError(source, problems)
    return _entries(list(people.values()), source=source, watchlist=watchlist, today=today)


def _who(binding: Mapping[str, Any]) -> str:
    cell = _value(binding, "person")
    return str(cell["value"]).removeprefix(ENTITY_PREFIX) if cell else "no person"


def _entries(people: Sequence[_Person], *, source: str, watchlist: str | None,
             today: date) -> list[OfficialEntry]:  # fmt: skip
    slugs: set[str] = set()
    raws = []
    for person in sorted(people, key=lambda p: p.first_row):
        slug = make_slug(person.label)
        if slug in slugs:  # namesakes: the id tells them apart
            slug = f"{slug[:180]}-{person.qid.lower()}"
        slugs.add(slug)
        raws.append((person, _entry(person, slug, watchlist, today)))
    # The roster's own checks (a handle listed for two people...), rows named.
    labels = [(f"row {p.first_row}", _raw(e)) for p, e in raws]
    validate_entries(labels, source=source)
    return [e for _, e in raws]


def _raw(entry: OfficialEntry) -> dict[str, Any]:
    """The entry in roster-file shape, for :func:`validate_entries`."""
    # The name only labels problems here: "row 7 (Q123 Name)", as the rows' own checks do.
    raw: dict[str, Any] = {"slug": entry.slug, "name": f"{entry.wikidata_id} {entry.name}"}
    raw["accounts"] = {a.platform.value: a.handle for a in entry.accounts}
    return raw


def load_sparql_json(
    path: str | Path, *, watchlist: str | None, today: date
) -> list[OfficialEntry]:
    """Read and check a saved SPARQL JSON result."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise RosterError(str(p), [("-", "file not found")]) from None
    except OSError as exc:
        raise RosterError(str(p), [("-", f"cannot read: {exc.strerror}")]) from None
    return parse_sparql_json(data, source=str(p), watchlist=watchlist, today=today)
