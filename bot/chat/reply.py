"""A platform-neutral reply: what the command layer and the alert renderer produce.

Adapters (Telegram, Slack, console) turn a :class:`Reply` into their own markup and are
the only place where escaping happens: text in a ``Span`` is always plain, untrusted
text, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A run of plain text with optional emphasis or a link."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    link: str | None = None


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
    return f"{span.text} ({span.link})" if span.link and span.link != span.text else span.text


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
