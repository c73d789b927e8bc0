"""The leaf every layer may import: replies, who is asking, and the chat backend interface.

A :class:`Reply` is what the command layer, the alert renderer and the digest produce.
Adapters (Telegram, Slack, console) turn it into their own markup and are the only place
where escaping happens: text in a ``Span`` is always plain, untrusted text, never markup.
This module imports nothing of govwatch, so it sits below every package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol


@dataclass(frozen=True, slots=True)
class Span:
    """A run of plain text with optional emphasis or a link."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    link: str | None = None
    #: Struck through: words a diff shows as removed.
    strike: bool = False
    #: Words a diff shows as added (shown bold; plain text marks them ``{+…+}``).
    inserted: bool = False


Line = tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Lines of text; each line is a tuple of spans."""

    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A small table; cells are plain text. ``align`` holds "l" or "r" per column."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...] = ()
    title: str | None = None


Block = Paragraph | Table


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button; ``action`` is opaque callback data (at most 64 bytes)."""

    text: str
    action: str

    def __post_init__(self) -> None:
        if len(self.action.encode()) > 64:
            raise ValueError("button action longer than 64 bytes")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with the reply (a PNG chart, a CSV report)."""

    data: bytes
    filename: str
    mime: str
    caption: str | None = None

    @property
    def is_image(self) -> bool:
        """True for images that chat platforms show inline."""
        return self.mime.startswith("image/")


@dataclass(frozen=True, slots=True)
class Reply:
    """Everything one answer or alert consists of."""

    blocks: tuple[Block, ...] = ()
    attachment: Attachment | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    #: Short plain text used where markup cannot go (notifications, Slack fallback).
    summary: str | None = None
    #: The platform message id this reply answers (a follow-up in an alert's thread).
    reply_to: str | None = None

    @classmethod
    def text(cls, *lines: str) -> Reply:
        """A reply of plain lines."""
        return cls(blocks=(Paragraph(tuple((Span(line),) for line in lines)),))


@dataclass(frozen=True, slots=True)
class ReplyBuilder:
    """Collects blocks while a command works out its answer."""

    blocks: list[Block] = field(default_factory=list)

    def line(self, *spans: Span | str) -> ReplyBuilder:
        """Append one line (strings become plain spans) to the current paragraph."""
        line = tuple(Span(s) if isinstance(s, str) else s for s in spans)
        if self.blocks and isinstance(self.blocks[-1], Paragraph):
            last = self.blocks[-1]
            self.blocks[-1] = Paragraph((*last.lines, line))
        else:
            self.blocks.append(Paragraph((line,)))
        return self

    def paragraph(self) -> ReplyBuilder:
        """Start a new paragraph."""
        self.blocks.append(Paragraph(()))
        return self

    def table(self, table: Table) -> ReplyBuilder:
        """Append a table."""
        self.blocks.append(table)
        return self

    def build(self, **kwargs: object) -> Reply:
        """The finished reply (empty paragraphs dropped)."""
        blocks = tuple(b for b in self.blocks if not (isinstance(b, Paragraph) and not b.lines))
        return Reply(blocks=blocks, **kwargs)  # type: ignore[arg-type]


def render_plain(reply: Reply) -> str:
    """Plain text, for the console and for fallbacks: tables as aligned columns."""
    out: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Paragraph):
            for line in block.lines:
                out.append("".join(_plain_span(s) for s in line))
        else:
            out.extend(format_table(block))
        out.append("")
    if reply.attachment is not None:
        out.append(f"[{reply.attachment.filename}, {len(reply.attachment.data)} bytes]")
    for row in reply.buttons:
        out.append("  ".join(f"[{b.text}]" for b in row))
    return "\n".join(out).strip("\n")


def _plain_span(span: Span) -> str:
    text = span.text
    if span.strike:
        text = _marked(text, "[-", "-]")
    elif span.inserted:
        text = _marked(text, "{+", "+}")
    return f"{text} ({span.link})" if span.link and span.link != span.text else text


def _marked(text: str, start: str, end: str) -> str:
    """``[-removed-]`` or ``{+added+}`` words, edge spaces outside, as wdiff prints them."""
    core = text.strip()
    if not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}{start}{core}{end}{trail}"


def format_table(table: Table) -> list[str]:
    """Lay a table out in monospaced columns (used inside <pre> and code blocks too)."""
    rows = [table.header, *table.rows]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(table.header))]
    lines = [table.title] if table.title else []
    for index, row in enumerate(rows):
        cells = []
        for i, width in enumerate(widths):
            cell = row[i] if i < len(row) else ""
            align = table.align[i] if i < len(table.align) else "l"
            cells.append(cell.rjust(width) if align == "r" else cell.ljust(width))
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


# --- who is asking -----------------------------------------------------------------------

ChatKind = Literal["private", "group", "channel"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The person and chat a command comes from, as the backend reports them."""

    backend: str
    user_id: str
    chat_id: str
    chat_kind: ChatKind = "private"
    #: True when the backend confirmed the user administers this (group) chat.
    is_chat_admin: bool = False
    team_id: str | None = None
    display_name: str | None = None
    #: The user's interface language as the platform reports it (a hint for new chats).
    language_hint: str | None = None
    chat_title: str | None = None
    #: Set only by the console backend for a local operator (``govwatch ask --as-editor``).
    local_editor: bool = False


# --- the backend interface ---------------------------------------------------------------


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


# --- storing a reply (a composed digest waits in the outbox as JSON) ---------------------


def _span_json(span: Span) -> dict[str, Any]:
    pairs = (("t", span.text), ("b", span.bold), ("i", span.italic), ("c", span.code),
             ("l", span.link), ("s", span.strike), ("n", span.inserted))  # fmt: skip
    return {k: v for k, v in pairs if v}


def _span_of(data: dict[str, Any]) -> Span:
    flags = {name: bool(data.get(key)) for key, name in _FLAGS.items()}
    return Span(str(data.get("t", "")), link=data.get("l"), **flags)


_FLAGS = {"b": "bold", "i": "italic", "c": "code", "s": "strike", "n": "inserted"}


def _block_json(block: Block) -> dict[str, Any]:
    if isinstance(block, Paragraph):
        return {"p": [[_span_json(s) for s in line] for line in block.lines]}
    return {"table": [list(block.header), [list(r) for r in block.rows], list(block.align),
                      block.title]}  # fmt: skip


def _block_of(data: dict[str, Any]) -> Block:
    if "p" in data:
        return Paragraph(tuple(tuple(_span_of(s) for s in line) for line in data["p"]))
    header, rows, align, title = data["table"]
    return Table(tuple(header), tuple(tuple(r) for r in rows), tuple(align), title)


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A JSON-ready form of ``reply`` (attachments are not stored)."""
    if reply.attachment is not None:
        raise ValueError("a reply with an attachment cannot be stored")
    return {
        "blocks": [_block_json(b) for b in reply.blocks],
        "buttons": [[[b.text, b.action] for b in row] for row in reply.buttons],
        "summary": reply.summary,
    }


def reply_from_json(data: dict[str, Any]) -> Reply:
    """The reply :func:`reply_to_json` stored."""
    return Reply(
        blocks=tuple(_block_of(b) for b in data.get("blocks", ())),
        buttons=tuple(tuple(Button(t, a) for t, a in row) for row in data.get("buttons", ())),
        summary=data.get("summary"),
    )
