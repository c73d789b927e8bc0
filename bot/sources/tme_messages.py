"""Which nodes of a ``t.me/s/`` page are which part of which message.

Each part is the first match of its selector in document order within the message (the
message itself included), exactly as ``message.css_first(selector)`` would find it, but
with one query per part for the whole page instead of one per part and message: lexbor
still does all the matching; Python only tells which message holds each match.
"""

from __future__ import annotations

from itertools import pairwise

from selectolax.lexbor import LexborNode

# The link and its time share a query: only an <a> can match the one, a <time> the other.
_DATE = "a.tgme_widget_message_date, .tgme_widget_message_date time[datetime]"
_PARTS = (
    ("views", ".tgme_widget_message_views"),
    ("meta", ".tgme_widget_message_meta"),
    ("forwarded", ".tgme_widget_message_forwarded_from_name"),
    ("reply", "a.tgme_widget_message_reply"),
)
# The text; a reply preview reuses its class inside a.tgme_widget_message_reply.
_MESSAGE_TEXT = ".tgme_widget_message_text.js-message_text"
MESSAGES = ".tgme_widget_message_wrap .tgme_widget_message[data-post]"

#: A message's parts by name: date_link, time, views, meta, forwarded, reply, text.
Parts = dict[str, LexborNode]


def message_parts(messages: list[LexborNode]) -> dict[int, Parts]:
    """Every message's parts, keyed by the message's ``mem_id`` (messages in page order)."""
    parts: dict[int, Parts] = {m.mem_id: {} for m in messages}
    if not messages:
        return parts
    # Only a hostile page nests messages; then a part may belong to several of them.
    holders = _Holders(parts, nested=_nested(messages))
    # Nothing outside the element holding every message is part of one: search only it.
    scope = _common_ancestor(messages[0], messages[-1])
    for node in scope.css(_DATE):
        name = "time" if node.tag == "time" else "date_link"
        for owner in holders.of(node):
            parts[owner].setdefault(name, node)
    for name, selector in _PARTS:
        for node in scope.css(selector):
            for owner in holders.of(node):
                parts[owner].setdefault(name, node)
    for node in scope.css(_MESSAGE_TEXT):
        for owner in holders.of(node):
            found = parts[owner]
            reply = found.get("reply")
            if "text" not in found and (reply is None or not _within(node, reply)):
                found["text"] = node  # the first match is the outermost (albums nest it twice)
    return parts


class _Holders:
    """Which messages hold a node: found by walking up from it."""

    def __init__(self, messages: dict[int, Parts], *, nested: bool) -> None:
        self.messages = messages
        self.nested = nested
        # Without nesting a node's one holder is its parent's: remembered for every node
        # a walk passed, so the next part of the same message stops a step or two up.
        self.known: dict[int, int | None] = {}

    def of(self, node: LexborNode) -> list[int]:
        """The messages whose subtree holds ``node`` (it included), innermost first."""
        if self.nested:
            return [key for key in _path(node) if key in self.messages]
        passed: list[int] = []
        holder: int | None = None
        current: LexborNode | None = node
        while current is not None:
            key = current.mem_id
            if key in self.messages:
                holder = key
                break
            if key in self.known:
                holder = self.known[key]
                break
            passed.append(key)
            current = current.parent
        for key in passed:
            self.known[key] = holder
        return [holder] if holder is not None else []


def _nested(messages: list[LexborNode]) -> bool:
    """True when a message is inside another (messages in page order)."""
    # A message inside another is inside the one just before it too (a subtree is one
    # run of the page order), so only neighbours are compared; siblings, or children of
    # siblings, are apart without walking up to the root.
    for first, second in pairwise(messages):
        if not _apart(first, second) and first.mem_id in _path(second):
            return True
    return False


def _apart(first: LexborNode, second: LexborNode) -> bool:
    """True when neither node can hold the other: siblings, or children of siblings."""
    above, parent = first.parent, second.parent
    if above is None or parent is None:
        return False
    if above.mem_id == parent.mem_id:
        return True
    top, over = above.parent, parent.parent
    return top is not None and over is not None and top.mem_id == over.mem_id


def _path(node: LexborNode) -> list[int]:
    """The ``mem_id`` of ``node`` and of every element above it."""
    keys: list[int] = []
    current: LexborNode | None = node
    while current is not None:
        keys.append(current.mem_id)
        current = current.parent
    return keys


def _within(node: LexborNode, ancestor: LexborNode) -> bool:
    """True when ``node`` is ``ancestor`` or inside it."""
    return ancestor.mem_id in _path(node)


def _common_ancestor(first: LexborNode, last: LexborNode) -> LexborNode:
    """The deepest node holding both; it holds every node between them in page order too."""
    above = set(_path(first))
    current: LexborNode | None = last
    while current is not None and current.mem_id not in above:
        current = current.parent
    return current if current is not None else first
