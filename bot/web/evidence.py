"""A post's evidence on the site: the same page and JSON that ``/evidence`` sends in chat.

``/evidence/p<row>`` is a stored post (the official's page links its edited and deleted
posts), ``/evidence/e<event>`` the post an alert event is about (the events lists link
them); ``.json`` after either gives the JSON document. Both are read only and hold only
public data: the post's versions, the page fragments they were read from with their
SHA-256, and the post's events.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

_REF = re.compile(r"^([ep])([1-9][0-9]{0,18})(\.json)?$")
_STYLE = re.compile(rb"<style>(.*?)</style>", re.S)


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """What an evidence address names."""

    kind: str  # "e": an event's post; "p": a post row
    number: str
    json: bool


def parse_ref(text: str) -> EvidenceRef | None:
    """``e12``, ``p34`` or either with ``.json``; None for anything else."""
    match = _REF.match(text)
    if match is None:
        return None
    return EvidenceRef(match.group(1), match.group(2), bool(match.group(3)))


def event_href(event_id: int) -> str:
    """The address of the evidence of the post event ``event_id`` is about."""
    return f"/evidence/e{event_id}"


def post_href(post_row_id: int) -> str:
    """The address of the evidence of stored post ``post_row_id``."""
    return f"/evidence/p{post_row_id}"


def page_csp(html: bytes) -> str:
    """The evidence page's policy: the site's, with its one inline stylesheet allowed by
    hash (the page is also a standalone file, so its style stays inline)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _STYLE.finditer(html)
    )
    return (
        f"default-src 'none'; style-src {hashes or 'none'}; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
