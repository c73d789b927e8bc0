"""The console chat backend: commands and alerts as plain text (the demo's chat).

``govwatch ask`` (``bot.cli.ask``) opens the database; this adapter never does.
"""

from __future__ import annotations

import itertools
import sys
from typing import ClassVar, TextIO

from bot.commands.service import CommandService
from bot.reply import Caller, ChatAddress, Reply, SendResult, render_plain


class ConsoleBackend:
    """Prints replies and alerts to a text stream (the demo's chat, and ``ask``)."""

    name: ClassVar[str] = "console"

    def __init__(
        self, *, stream: TextIO | None = None, commands: CommandService | None = None
    ) -> None:
        self.stream = stream or sys.stdout
        self.commands = commands
        self._ids = itertools.count(1)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to release."""

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        """Print ``reply`` with the chat it is for."""
        message_id = str(next(self._ids))
        self.stream.write(f"--- [{address.external_id}] ---\n{render_plain(reply)}\n")
        self.stream.flush()
        return SendResult(message_id=message_id)

    async def ask(self, caller: Caller, text: str, *, locale: str | None = None) -> Reply:
        """Run ``text`` as ``caller`` and print the reply."""
        if self.commands is None:
            raise RuntimeError("ConsoleBackend.ask needs a CommandService")
        reply = await self.commands.handle(caller, text, locale=locale)
        self.stream.write(render_plain(reply) + "\n")
        self.stream.flush()
        return reply
