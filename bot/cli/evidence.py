"""``govwatch evidence <post link> [--out DIR]``: the evidence files of one post, for scripts.

Writes ``evidence-<platform>-<post id>.json`` and ``.html`` into DIR (default: here,
replacing earlier files of the same post), prints each path with its SHA-256 and each
version's fragment check, and exits 0. A link that matches no stored post is one line on
stderr and exit 1, saying whether the account is not watched or the post was not stored.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from bot.clock import zone
from bot.config import Settings
from bot.errors import UserInputError
from bot.i18n import normalize_locale
from bot.reports.evidence import (
    Choices,
    EvidenceFiles,
    Found,
    NoEvent,
    NoPost,
    NotWatched,
    Resolution,
    find_by_event,
    find_by_link,
    find_by_row,
    load_evidence,
)
from bot.store.engine import Database
from bot.store.migrate import open_database

EXIT_NO_MATCH = 1
_ROW = "post:"


def with_database(settings: Settings, url: str | None) -> Settings:
    """``settings`` with ``--database URL`` in place of the configured database."""
    if not url:
        return settings
    try:
        section = type(settings.database).model_validate(
            {**settings.database.model_dump(), "url": url}
        )
    except ValidationError as exc:
        reason = exc.errors()[0].get("msg", "invalid")
        raise UserInputError(f"--database {url!r}: {reason}") from None
    return settings.model_copy(update={"database": section})


async def _resolve(db: Database, target: str) -> Resolution:
    async with db.sessions() as session:
        if target.startswith("=") and len(target) > 1:
            return await find_by_event(session, target[1:])
        if target.startswith(_ROW):
            return await find_by_row(session, target.removeprefix(_ROW))
        return await find_by_link(session, target)


def describe_miss(found: Resolution, target: str) -> str:
    """Why ``target`` gave no evidence, in one line."""
    head = f"no stored post matches {target}"
    if isinstance(found, NoEvent):
        return f"{head}: event {found.event_id} is not an alert about a post"
    if isinstance(found, NotWatched):
        if found.handle:
            return f"{head}: the {found.platform} account {found.handle} is not watched"
        if found.platform:
            return f"{head}: no {found.platform} account is watched"
        return f"{head}: no account at {found.host} is watched"
    if isinstance(found, NoPost):
        if found.account is not None:
            account = f"{found.account.platform} account {found.account.handle}"
            return f"{head}: the {account} is watched, but this post was never stored"
        return f"{head}: the watched accounts have no stored post with this link"
    if isinstance(found, Choices):
        listed = ", ".join(
            f"{_ROW}{p.id} ({p.platform} {p.handle} {p.platform_post_id})" for p in found.posts
        )
        return f"several stored posts match {target}: {listed}; name one of them instead"
    return head


def _write(out: Path, files: EvidenceFiles) -> list[Path]:
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in ((files.json_name, files.json), (files.html_name, files.html)):
            path = out / name
            path.write_bytes(data)
            paths.append(path)
    except OSError as exc:
        raise UserInputError(f"cannot write into {out}: {exc.strerror or exc}") from None
    return paths


def report_lines(paths: list[Path], files: EvidenceFiles) -> list[str]:
    """What ``govwatch evidence`` prints: each file with its SHA-256, then each version."""
    lines = [f"{p}  sha256 {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in paths]
    for version in files.document["versions"]:
        number, check = version["version"], version["raw_check"]
        computed, stored = version["raw_sha256_computed"], version["raw_sha256"]
        if check == "ok":
            lines.append(f"version {number}: fragment sha256 {computed} ok")
        elif check == "mismatch":
            lines.append(f"version {number}: fragment sha256 {computed} MISMATCH (stored {stored})")
        else:
            lines.append(f"version {number}: {check.replace('_', ' ')}")
        lines.append(f"version {number}: text sha256 {version['text_sha256']}")
    return lines


async def _evidence(settings: Settings, args: argparse.Namespace) -> int:
    locale = normalize_locale(getattr(args, "lang", None) or settings.i18n.default_locale)
    tz = str(zone(None, settings.i18n.timezone))
    async with open_database(settings) as db:
        found = await _resolve(db, args.link)
        if not isinstance(found, Found):
            print(f"govwatch: {describe_miss(found, args.link)}", file=sys.stderr)
            return EXIT_NO_MATCH
        async with db.sessions() as session:
            files = await load_evidence(
                session, found.post, generated_at=datetime.now(UTC), locale=locale, tz=tz
            )
    if files is None:
        print(f"govwatch: {args.link}: the post was removed meanwhile", file=sys.stderr)
        return EXIT_NO_MATCH
    paths = _write(Path(getattr(args, "out", None) or "."), files)
    print("\n".join(report_lines(paths, files)))
    if files.failed_versions:
        failed = ", ".join(str(v) for v in files.failed_versions)
        print(f"govwatch: WARNING: the fragments of versions {failed} do not match their "
              "stored SHA-256", file=sys.stderr)  # fmt: skip
    return 0


def evidence(settings: Settings, args: argparse.Namespace) -> int:
    """Write the evidence files of the post ``args.link`` names."""
    settings = with_database(settings, getattr(args, "database", None))
    return asyncio.run(_evidence(settings, args))
