"""Atom feeds (RFC 4287) of events, written with the standard library's XML serializer,
which escapes every text and attribute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement, tostring

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry: an event."""

    id: str
    title: str
    updated: datetime
    link: str | None
    html: str


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    page_url: str,
    updated: datetime,
    entries: Sequence[Entry],
    lang: str,
) -> bytes:
    """The feed document as UTF-8 bytes."""
    feed = Element("feed", {"xmlns": ATOM, "xml:lang": lang})
    SubElement(feed, "id").text = feed_id
    SubElement(feed, "title").text = title
    SubElement(feed, "updated").text = _time(updated)
    SubElement(feed, "link", {"rel": "self", "href": self_url, "type": "application/atom+xml"})
    SubElement(feed, "link", {"rel": "alternate", "href": page_url, "type": "text/html"})
    SubElement(SubElement(feed, "author"), "name").text = "govwatch"
    SubElement(feed, "generator").text = "govwatch"
    for item in entries:
        entry = SubElement(feed, "entry")
        SubElement(entry, "id").text = item.id
        SubElement(entry, "title").text = item.title
        SubElement(entry, "updated").text = _time(item.updated)
        if item.link:
            SubElement(entry, "link", {"rel": "alternate", "href": item.link})
        SubElement(entry, "content", {"type": "html"}).text = item.html
    body: bytes = tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
