"""The local operator: the console's caller, and one command run for ``govwatch ask``.

``run_ask`` runs one command against an open database and prints the reply; the CLI
(``bot.cli.ask``) opens the database for it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.commands.service import CommandService
from bot.config import Settings
from bot.reply import Caller, Reply, render_plain
from bot.store.engine import Database


def console_caller(
    chat_id: str = "console", *, editor: bool = False, lang: str | None = None
) -> Caller:
    """The local operator as a chat caller."""
    return Caller(
        backend="console",
        user_id="console",
        chat_id=chat_id,
        chat_kind="private",
        local_editor=editor,
        language_hint=lang,
        display_name="console",
    )


async def run_ask(
    db: Database, settings: Settings, args: argparse.Namespace, *, stream: TextIO | None = None
) -> Reply:
    """Run ``args.text`` as the local operator (``args.chat``, ``--as-editor``) and print it."""
    lang = getattr(args, "lang", None)
    caller = console_caller(args.chat, editor=bool(args.as_editor), lang=lang)
    reply = await CommandService(db=db, settings=settings).handle(caller, args.text, locale=lang)
    out = stream or sys.stdout
    out.write(render_plain(reply) + "\n")
    out.flush()
    return reply
