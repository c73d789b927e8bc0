"""The console chat backend: commands and alerts as plain text (the demo's chat).

Pictures and files are saved in the ``output`` folder and shown by their path. In an
interactive console (the demo) buttons are numbered choices, ``[1] Mute  [2] Chart``:
typing ``1`` presses the button; elsewhere (``govwatch ask``) nothing could press them,
so each shows the command it runs. ``govwatch ask`` (``bot.cli.ask``) opens the
database; this adapter never does.
"""

from __future__ import annotations

import itertools
import sys
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import ClassVar, TextIO

from bot.actions import action_command
from bot.chat.attachments import save_attachment
from bot.commands.local import console_caller
from bot.commands.service import CommandService
from bot.reply import Attachment, Button, Caller, ChatAddress, Reply, SendResult, render_plain

#: How many numbered buttons stay pressable (the oldest are forgotten first).
KEEP_BUTTONS = 1000


class ConsoleBackend:
    """Prints replies and alerts to a text stream (the demo's chat, and ``ask``)."""

    name: ClassVar[str] = "console"

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        commands: CommandService | None = None,
        output: Path | None = None,
        caller: Caller | None = None,
        interactive: bool = False,
        prompt: str = "> ",
    ) -> None:
        self.stream = stream or sys.stdout
        self.commands = commands
        self.output = output
        #: The local operator; a pressed button runs as them in the alert's chat.
        self.caller = caller or console_caller()
        self.interactive = interactive
        self.prompt = prompt
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._buttons: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self._prompting = False

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to release."""

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        """Print ``reply`` with the chat it is for (and the prompt again after it)."""
        message_id = str(next(self._ids))
        body = self.render(reply, chat_id=address.external_id)
        self._write(f"--- [{address.external_id}] ---\n{body}\n")
        return SendResult(message_id=message_id)

    async def ask(self, caller: Caller, text: str, *, locale: str | None = None) -> Reply:
        """Run ``text`` as ``caller`` and print the reply."""
        reply = await self._service().handle(caller, text, locale=locale)
        self._write(self.render(reply, chat_id=caller.chat_id) + "\n")
        return reply

    async def press(self, number: int) -> Reply | None:
        """Press the button shown as ``[number]`` and print the answer (None: no such button)."""
        found = self._buttons.get(number)
        if found is None:
            return None
        chat_id, action = found
        reply = await self._service().handle_action(replace(self.caller, chat_id=chat_id), action)
        self._write(self.render(reply, chat_id=chat_id) + "\n")
        return reply

    async def handle_line(self, caller: Caller, text: str) -> Reply:
        """What the user typed: a shown button's number presses it, anything else is a command."""
        self._prompting = False
        if text.isdigit():
            reply = await self.press(int(text))
            if reply is not None:
                return reply
        return await self.ask(caller, text)

    def show_prompt(self) -> None:
        """Print the input prompt (interactive consoles only)."""
        if self.interactive and not self._prompting:
            self.stream.write(self.prompt)
            self.stream.flush()
            self._prompting = True

    def input_ended(self) -> None:
        """The user pressed Enter (or input closed): the prompt is no longer on screen."""
        self._prompting = False

    def render(self, reply: Reply, *, chat_id: str = "console") -> str:
        """``reply`` as plain text: its attachment saved to a file, its buttons as choices."""
        lines = [render_plain(replace(reply, attachment=None, buttons=()))]
        if reply.attachment is not None:
            lines.append(self._saved(reply.attachment))
        for row in reply.buttons:
            lines.append("  ".join(self._button(chat_id, b) for b in row))
        return "\n".join(line for line in lines if line)

    def _saved(self, attachment: Attachment) -> str:
        folder = self.output or Path.cwd()
        label = f"{attachment.caption}: " if attachment.caption else ""
        try:
            path = save_attachment(attachment, folder)
        except (OSError, ValueError) as exc:
            return f"📎 {label}{attachment.filename} not saved ({exc})"
        return f"📎 {label}{path}"

    def _button(self, chat_id: str, button: Button) -> str:
        if not self.interactive:
            return f"[{button.text} → {action_command(button.action)}]"
        number = next(self._numbers)
        self._buttons[number] = (chat_id, button.action)
        while len(self._buttons) > KEEP_BUTTONS:
            self._buttons.popitem(last=False)
        return f"[{number}] {button.text}"

    def _write(self, text: str) -> None:
        # An alert arriving while the prompt waits starts on its own line, then the
        # prompt comes back so the user knows they can type.
        was_prompting = self._prompting
        if was_prompting:
            self.stream.write("\n")
            self._prompting = False
        self.stream.write(text)
        self.stream.flush()
        if was_prompting:
            self.show_prompt()

    def _service(self) -> CommandService:
        if self.commands is None:
            raise RuntimeError("ConsoleBackend needs a CommandService to run commands")
        return self.commands
