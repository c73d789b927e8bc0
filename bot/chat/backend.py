"""The interface every chat backend (Telegram, Slack, console) implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from bot.chat.reply import Reply


@dataclass(frozen=True, slots=True)
class ChatAddress:
    """Where a message goes: the backend's own chat id (and Slack team)."""

    backend: str
    external_id: str
    team_id: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the platform answered to a successful send."""

    message_id: str | None


class ChatBackend(Protocol):
    """A chat platform: receives commands, sends replies and alerts.

    ``send`` raises the ``DeliveryError`` subclasses of ``bot.errors`` so the relay can
    classify failures (retry later, deactivate the chat, resend as plain text...).
    """

    name: ClassVar[str]

    async def start(self) -> None:
        """Connect and begin receiving commands (returns once running)."""

    async def stop(self) -> None:
        """Stop receiving and release connections."""

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        """Send ``reply`` to ``address``; ``plain`` asks for no markup at all."""
