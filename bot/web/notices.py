"""Events as the site lists them: the notifier's own alert text (``notify.render``), as HTML.

The same words a chat receives (a deleted post's text and when it vanished, an edit's
removed and added words), without the chat's buttons: where a chat offers the evidence
button, the site links the post's evidence page (``bot.web.evidence``) instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from markupsafe import Markup

from bot.i18n import t
from bot.names import localized_name
from bot.notify.render import render_event
from bot.reply import Paragraph, Reply
from bot.store.evidence import POST_EVENTS
from bot.store.public import PublicEvent
from bot.web.evidence import event_href
from bot.web.markup import reply_html


@dataclass(frozen=True, slots=True)
class EventItem:
    """One event on a page or in a feed."""

    id: int
    kind: str
    who: str
    page: str | None
    at: datetime
    summary: str
    html: Markup
    #: The address of the post's evidence page (post events only).
    evidence: str | None = None


def event_items(
    events: Sequence[PublicEvent],
    *,
    loc: str,
    tz: str,
    slugs: Mapping[int, str] | None = None,
) -> list[EventItem]:
    """The events rendered in ``loc`` with times in ``tz``, newest first as given."""
    items = []
    for found in events:
        event, official = found.event, found.official
        reply = render_event(event, official=official, account=found.account, locale=loc, tz=tz)
        post_event = event.kind in POST_EVENTS and bool(event.id)
        if post_event:
            reply = _without_button_words(reply, t(loc, "alert.button.evidence"))
        slug = official.slug if official is not None else None
        if slug is None and slugs and event.official_id is not None:
            slug = slugs.get(event.official_id)
        items.append(
            EventItem(
                id=int(event.id),
                kind=event.kind,
                who=localized_name(official, loc) if official is not None else "",
                page="/o/" + quote(slug, safe="") if slug else None,
                at=event.detected_at or event.occurred_at,
                summary=reply.summary or event.kind,
                html=reply_html(reply, skip_first=True),
                evidence=event_href(int(event.id)) if post_event else None,
            )
        )
    return items


def _without_button_words(reply: Reply, button: str) -> Reply:
    """``reply`` without the lines that point at the chat's evidence button (the page
    links the evidence instead)."""
    blocks = tuple(
        Paragraph(tuple(line for line in b.lines if not any(button in s.text for s in line)))
        if isinstance(b, Paragraph)
        else b
        for b in reply.blocks
    )
    return Reply(blocks=blocks, summary=reply.summary)
