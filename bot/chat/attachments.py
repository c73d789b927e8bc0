"""Attachments outside chat apps: the console saves them as files in one folder.

Names come from our own code (``chart-7.png``), but they are cleaned anyway: only the
last path segment, word characters, dots and dashes, no leading dot. A file is never
overwritten: ``chart-7.png`` exists, so ``chart-7-1.png``, then ``chart-7-2.png``.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from bot.reply import Attachment

_UNSAFE = re.compile(r"[^\w.\-]+")
MAX_NAME = 100
MAX_SUFFIX = 10_000


def safe_filename(name: str, mime: str = "") -> str:
    """``name`` as one harmless file name (never a path, never hidden or empty)."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", last).lstrip(".")[-MAX_NAME:].lstrip(".") or "attachment"
    if not Path(cleaned).suffix:
        cleaned += mimetypes.guess_extension(mime) or ".bin"
    return cleaned


def save_attachment(attachment: Attachment, folder: Path) -> Path:
    """Write ``attachment`` into ``folder`` (created if missing) under a new name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(safe_filename(attachment.filename, attachment.mime))
    for n in range(MAX_SUFFIX):
        candidate = folder / (name.name if n == 0 else f"{name.stem}-{n}{name.suffix}")
        if candidate.resolve().parent != folder.resolve():
            raise ValueError(f"{candidate} is outside {folder}")
        try:
            with candidate.open("xb") as out:
                out.write(attachment.data)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(folder / name)
