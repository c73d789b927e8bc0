"""The local operator as a chat caller (the console: ``govwatch ask`` and the demo).

``govwatch ask`` itself lives in ``bot.cli.ask``: it opens the database and prints the
reply through the console backend, which saves attachments to files.
"""

from __future__ import annotations

from bot.reply import Caller


def console_caller(
    chat_id: str = "console", *, editor: bool = False, lang: str | None = None
) -> Caller:
    """The local operator as a chat caller (``lang`` is the hint for a new chat)."""
    return Caller(
        backend="console",
        user_id="console",
        chat_id=chat_id,
        chat_kind="private",
        local_editor=editor,
        language_hint=lang,
        display_name="console",
    )
