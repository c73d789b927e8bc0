"""The ``coordinated_posts`` alert and the lines ``/same`` lists: who, when, the text.

The event names several officials (``bot.store.sameness``), so it is rendered here, not
by ``bot.notify.render``'s one-official layout. Names, handles, links and the text come
from outside: they go out as plain spans, which every backend escapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.i18n import format_datetime, format_duration, format_number, format_percent, plural, t
from bot.reply import Line, Paragraph, Reply, Span
from bot.store.models import EventRow

#: Characters of the shared text quoted in an alert.
ALERT_CHARS = 600
#: Characters of the shared text quoted per group in ``/same``.
LIST_CHARS = 200


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _web(url: object) -> str | None:
    # Links come from the platforms: only web links become clickable.
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def posts_of(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The group's posts, oldest first (entries that are not objects are skipped)."""
    posts = [p for p in payload.get("posts") or () if isinstance(p, Mapping)]
    return sorted(posts, key=lambda p: str(p.get("published_at") or ""))


def who(post: Mapping[str, Any], locale: str) -> str:
    """The official's name in ``locale`` when known, else the main name."""
    names = post.get("names")
    local = names.get(locale) if isinstance(names, Mapping) else None
    return str(local or post.get("name") or "?")


def title(payload: Mapping[str, Any], locale: str) -> str:
    """ "Same text from 3 officials" in ``locale``."""
    count = payload.get("officials")
    n = count if isinstance(count, int) else len({p.get("official_id") for p in posts_of(payload)})
    officials = f"{format_number(n, locale)} {plural(locale, n, t(locale, 'same.officials'))}"
    return t(locale, "same.alert.title", officials=officials)


def post_lines(payload: Mapping[str, Any], locale: str, tz: str | None) -> list[Line]:
    """One line per post: the official, the platform, the time and the link."""
    lines: list[Line] = []
    for post in posts_of(payload):
        platform = str(post.get("platform") or "")
        try:
            where = t(locale, f"alert.platform.{platform}")
        except KeyError:
            where = platform or "?"
        at = _time(post.get("published_at"))
        when = format_datetime(at, locale, tz=tz) if at else "—"
        spans: list[Span] = [
            Span("• "),
            Span(who(post, locale), bold=True),
            Span(f" · {where} · {when}"),
        ]
        link = _web(post.get("url")) or _web(post.get("profile_url"))
        if link is not None:
            spans += [Span(" · "), Span(t(locale, "alert.open_post"), link=link)]
        lines.append(tuple(spans))
    return lines


def quote_lines(text: object, bound: int) -> list[Line]:
    """The shared text as italic lines, cut to ``bound`` characters (then "…")."""
    body = str(text or "").strip()
    if len(body) > bound:
        body = body[:bound].rstrip() + "…"
    return [(Span(part, italic=True),) for part in body.splitlines() if part.strip()]


def span_line(payload: Mapping[str, Any], locale: str) -> Line:
    """How far apart the posts were and what "the same" means (the threshold)."""
    first, last = _time(payload.get("first_at")), _time(payload.get("last_at"))
    gap = format_duration(last - first, locale) if first and last and last > first else "—"
    threshold = payload.get("threshold")
    share = float(threshold) if isinstance(threshold, int | float) else 0.8
    window = payload.get("window_s")
    hours = timedelta(seconds=window if isinstance(window, int) else 7200)
    text = t(
        locale,
        "same.alert.method",
        gap=gap,
        share=format_percent(share * 100, locale),
        window=format_duration(hours, locale),
    )
    return (Span(text, italic=True),)


def render_coordinated(event: EventRow, *, locale: str, tz: str | None = None) -> Reply:
    """The ``coordinated_posts`` alert in ``locale`` (times in ``tz``)."""
    payload: Mapping[str, Any] = event.payload or {}
    head = title(payload, locale)
    lines: list[Line] = [(Span("🧩 "), Span(head, bold=True))]
    lines += post_lines(payload, locale, tz)
    lines += quote_lines(payload.get("text"), ALERT_CHARS)
    lines.append(span_line(payload, locale))
    names = ", ".join(dict.fromkeys(who(p, locale) for p in posts_of(payload)))
    return Reply(blocks=(Paragraph(tuple(lines)),), summary=f"{head}: {names}")


def names_of(payloads: Sequence[Mapping[str, Any]], locale: str) -> list[str]:
    """Every official named in ``payloads``, once each, in order of appearance."""
    return list(dict.fromkeys(who(p, locale) for payload in payloads for p in posts_of(payload)))
