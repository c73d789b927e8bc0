"""Turn one stored event into a platform-neutral alert in the chat's language.

An alert says who (the official), what (the change, with numbers formatted for the
locale), where (a link to the post or profile) and when. Post alerts carry the evidence a
journalist needs: a deleted post's text and when it vanished, an edit's removed and added
words (``bot.notify.worddiff``), and a button that sends the evidence file. Payload keys
are documented in ``bot/detect/__init__.py``; missing keys are tolerated so an old row never
breaks the relay.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.actions import chart_action, evidence_action, mute_action, unfollow_action
from bot.detect.keywords import AlertWords
from bot.i18n import (
    format_date,
    format_datetime,
    format_duration,
    format_number,
    format_percent,
    plural,
    t,
    zone_label,
)
from bot.names import localized_name
from bot.notify.marks import highlight_quotes, marker_lines
from bot.notify.same import render_coordinated
from bot.notify.unusual import unusual_line
from bot.notify.visibility import visibility_details, visibility_what
from bot.notify.worddiff import Piece, word_diff
from bot.reply import Button, Line, Paragraph, Reply, Span
from bot.reports.states import reason_group
from bot.store.models import Account, EventRow, Official

#: Post excerpts in alerts are cut to this many characters.
EXCERPT_CHARS = 600
#: A deleted post's text is quoted up to this many characters (the rest is in the evidence).
DELETED_CHARS = 1500
_ICONS: Mapping[str, str] = {
    "new_post": "📝",
    "post_edited": "✏️",
    "post_deleted": "🗑",
    "followers_up": "📈",
    "followers_down": "📉",
    "followers_milestone": "🏁",
    "went_silent": "🤐",
    "back_from_silence": "📣",
    "profile_changed": "🪪",
    "account_missing": "❓",
    "account_restored": "✅",
    "source_degraded": "⚠️",
    "source_recovered": "🔧",
    "visibility_changed": "👁",
    "coordinated_posts": "🧩",
}


def render_event(
    event: EventRow,
    *,
    official: Official | None,
    account: Account | None,
    locale: str,
    tz: str | None = None,
    words: AlertWords | None = None,
) -> Reply:
    """The alert for ``event`` in ``locale`` (times shown in ``tz``; ``words`` marked)."""
    if event.kind == "coordinated_posts":  # several officials: its own layout
        return render_coordinated(event, locale=locale, tz=tz)
    payload: Mapping[str, Any] = event.payload or {}
    who = localized_name(official, locale) if official else _account_label(account, payload)
    lines: list[Line] = [(Span(f"{_ICONS.get(event.kind, '•')} "), Span(who, bold=True))]
    lines.append((Span(_what(event, payload, locale)),))
    unusual = unusual_line(event.kind, payload, event.occurred_at, locale)
    if unusual is not None:
        lines.append(unusual)
    # The evidence button is the event's own, so it needs no official (only a stored id).
    evidence = event.kind in _POST_KINDS and bool(event.id)
    profile = payload.get("profile_url") or (account.url if account else None)
    lines.extend(marker_lines(event.kind, payload, words, locale))
    lines.extend(_details(event.kind, payload, locale, tz, evidence=evidence, profile=profile))
    lines = highlight_quotes(lines, payload, words)
    lines.append(_where(event, account, payload, locale, tz))
    buttons: tuple[tuple[Button, ...], ...] = ()
    if evidence:
        buttons += ((Button(t(locale, "alert.button.evidence"), evidence_action(event.id)),),)
    if official is not None:
        buttons += (
            (
                Button(t(locale, "alert.button.mute"), mute_action(official.id)),
                Button(t(locale, "alert.button.chart"), chart_action(official.id)),
                Button(t(locale, "alert.button.unsubscribe"), unfollow_action(official.id)),
            ),
        )
    summary = f"{who}: {_what(event, payload, locale)}"
    if unusual is not None:
        summary += " " + "".join(span.text for span in unusual)
    return Reply(blocks=(Paragraph(tuple(lines)),), buttons=buttons, summary=summary)


def _account_label(account: Account | None, payload: Mapping[str, Any]) -> str:
    platform = str(payload.get("platform") or (account.platform if account else "?"))
    handle = str(payload.get("handle") or (account.handle if account else "?"))
    return f"{platform}:{_shown_handle(platform, handle)}"


#: Platforms whose handle is a URL (a feed, a page): alerts name the site instead.
_URL_HANDLES = frozenset({"rss", "html"})


def _shown_handle(platform: str, handle: str) -> str:
    """The account as a reader knows it: a feed or page by its site, never its long URL."""
    if platform not in _URL_HANDLES:
        return handle
    host = urlsplit(handle).hostname or ""
    return host.removeprefix("www.") or handle


def _link(
    event: EventRow, account: Account | None, payload: Mapping[str, Any]
) -> tuple[str, bool] | None:
    """(URL, is the post's own link) to show, or None: only addresses the source gave.

    A post event whose URL is just the account's address (the item had no link of its
    own) links to the account, never to a made-up post; a feed's address is an XML
    document for programs, so such RSS alerts carry no link. A deleted post's own link
    no longer opens: it is quoted in the details and this link goes to the account.
    """
    platform = str(payload.get("platform") or (account.platform if account else ""))
    profile = payload.get("profile_url") or (account.url if account else None)
    url = payload.get("url") or profile
    if not _web(url):
        return None
    own = _own_post_link(event.kind, payload, profile)
    if event.kind == "post_deleted" and own:
        url, own = profile, False
        if not _web(url):
            return None
    if platform == "rss" and not own and event.kind in _POST_KINDS:
        return None
    return str(url), own


def _web(url: object) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://"))


def _own_post_link(kind: str, payload: Mapping[str, Any], profile: object) -> bool:
    """True when the payload's URL is the post's own address, not the account's."""
    url = payload.get("url")
    return kind in _POST_KINDS and _web(url) and url not in (profile, payload.get("handle"))


_POST_KINDS = frozenset({"new_post", "post_edited", "post_deleted"})


def _int(payload: Mapping[str, Any], key: str) -> int | None:
    value = payload.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _time(payload: Mapping[str, Any], key: str) -> datetime | None:
    value = payload.get(key)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _what(event: EventRow, payload: Mapping[str, Any], locale: str) -> str:
    kind = event.kind
    if kind in ("followers_up", "followers_down"):
        return _followers_change(event, payload, locale)
    if kind == "followers_milestone":
        milestone = _int(payload, "milestone") or _int(payload, "followers") or 0
        return t(
            locale, "alert.text.followers_milestone", milestone=format_number(milestone, locale)
        )
    if kind in ("went_silent", "back_from_silence"):
        return t(locale, f"alert.text.{kind}", days=_silence_span(event, payload, locale))
    if kind == "visibility_changed":
        return visibility_what(payload, locale)
    if kind == "profile_changed":
        fields = payload.get("fields") or list((payload.get("changes") or {}).keys())
        names = ", ".join(t(locale, f"alert.field.{f}") for f in fields if f in _FIELDS)
        return t(locale, "alert.text.profile_changed", fields=names or "—")
    try:
        return t(locale, f"alert.text.{kind}")
    except KeyError:
        return kind


_FIELDS = frozenset({"display_name", "description", "avatar_url"})


def _silence_span(event: EventRow, payload: Mapping[str, Any], locale: str) -> str:
    # From the timestamps when the payload has them: "silent_days" is rounded to a tenth
    # of a day, which would print short silences as "0 minutes".
    start: datetime | None
    end: datetime | None
    if event.kind == "went_silent":
        start, end = _time(payload, "last_post_at"), event.occurred_at
    else:
        start, end = _time(payload, "silent_since"), _time(payload, "returned_at")
    if start is not None and end is not None and end > start:
        return format_duration(end - start, locale)
    days = payload.get("silent_days")
    if isinstance(days, int | float) and not isinstance(days, bool) and days > 0:
        return format_duration(timedelta(days=float(days)), locale)
    return "—"


def _followers_change(event: EventRow, payload: Mapping[str, Any], locale: str) -> str:
    delta = _int(payload, "delta")
    after = _int(payload, "after")
    before = _int(payload, "before")
    if delta is None and after is not None and before is not None:
        delta = after - before
    since = _time(payload, "since")
    period = (
        format_duration(event.occurred_at - since, locale)
        if since is not None and event.occurred_at > since
        else None
    )
    params = {
        "delta": format_number(delta or 0, locale, signed=True),
        "now": format_number(after, locale) if after is not None else "?",
        "period": period or "—",
    }
    text = t(
        locale,
        "alert.text.followers_change" if period else "alert.text.followers_change_np",
        **params,
    )
    percent = payload.get("percent")
    if isinstance(percent, int | float) and not isinstance(percent, bool):
        text += f" ({format_percent(float(percent), locale, signed=True)})"
    if payload.get("exact") is False:
        text += " " + t(locale, "alert.approximate")
    return text


def _details(
    kind: str,
    payload: Mapping[str, Any],
    locale: str,
    tz: str | None,
    *,
    evidence: bool,
    profile: object,
) -> list[Line]:
    if kind == "post_deleted":
        return _deleted_lines(payload, locale, tz, evidence=evidence, profile=profile)
    if kind in ("new_post", "post_edited"):
        return _post_lines(kind, payload, locale, tz, evidence=evidence)
    if kind == "visibility_changed":
        return visibility_details(payload, locale)
    lines: list[Line] = []
    if kind == "profile_changed":
        changes = payload.get("changes") or {}
        for field, change in changes.items():
            if field in _FIELDS and isinstance(change, Mapping) and field != "avatar_url":
                before = str(change.get("before") or "—")[:300]
                after = str(change.get("after") or "—")[:300]
                lines.append((Span(f"{t(locale, f'alert.field.{field}')}: {before} → {after}"),))
    elif kind == "went_silent":
        last = _time(payload, "last_post_at")
        value = format_datetime(last, locale, tz=tz) if last else t(locale, "alert.never_posted")
        lines.append((Span(t(locale, "alert.last_post", when=value)),))
    elif kind in ("account_missing", "source_degraded") and payload.get("reason"):
        # The reason in words of the chat's language, never the raw code (http_503).
        words = t(locale, f"states.reason.{reason_group(str(payload['reason']))}")
        lines.append((Span(t(locale, "alert.reason", reason=words)),))
    return lines


def _where(
    event: EventRow,
    account: Account | None,
    payload: Mapping[str, Any],
    locale: str,
    tz: str | None,
) -> Line:
    platform = str(payload.get("platform") or (account.platform if account else ""))
    handle = str(payload.get("handle") or (account.handle if account else ""))
    label = t(
        locale,
        "alert.where",
        platform=t(locale, f"alert.platform.{platform}") if platform else "?",
        handle=_shown_handle(platform, handle),
    )
    when = format_datetime(event.occurred_at, locale, tz=tz)
    spans: list[Span] = [Span(f"{label} · {when}")]
    link = _link(event, account, payload)
    if link is not None:
        url, own = link
        spans.append(Span(" · "))
        spans.append(Span(t(locale, "alert.open_post" if own else "alert.open"), link=url))
    return tuple(spans)


def _quote(text: str, bound: int) -> list[Line]:
    """A post's text as italic lines, cut to ``bound`` characters (then "…")."""
    text = text.strip()
    if len(text) > bound:
        text = text[:bound].rstrip() + "…"
    return [(Span(part, italic=True),) for part in text.splitlines() if part.strip()]


def _post_lines(
    kind: str, payload: Mapping[str, Any], locale: str, tz: str | None, *, evidence: bool
) -> list[Line]:
    """A new post's text, or what an edit changed; then where it was forwarded from."""
    if kind == "post_edited":
        lines = _edit_lines(payload, locale, tz)
    else:
        lines = _quote(str(payload.get("text") or ""), EXCERPT_CHARS)
    origin = payload.get("forwarded_from")
    if origin:
        lines.append((Span(t(locale, "alert.forwarded_from", origin=str(origin))),))
    if kind == "post_edited" and evidence and isinstance(payload.get("old_text"), str):
        button = t(locale, "alert.button.evidence")
        lines.append((Span(t(locale, "alert.edited.full", button=button), italic=True),))
    return lines


def _edit_lines(payload: Mapping[str, Any], locale: str, tz: str | None) -> list[Line]:
    """What an edit changed: the version, then removed and added words with some context."""
    new = str(payload.get("text") or "")
    old = payload.get("old_text")
    lines: list[Line] = []
    facts = []
    version = _int(payload, "version")
    if version is not None and version >= 2:
        facts.append(t(locale, "alert.edited.version", version=format_number(version, locale)))
    seen = _time(payload, "previous_seen_at")
    if seen is not None:
        when = format_datetime(seen, locale, tz=tz)
        facts.append(t(locale, "alert.edited.previous_seen", when=when))
    if facts:
        lines.append((Span(" · ".join(facts)),))
    if not isinstance(old, str):  # a row from before versions were kept: the new text only
        return lines + _quote(new, EXCERPT_CHARS)
    diff = word_diff(old, new)
    if diff.empty:
        note = "alert.edited.same_text" if old.strip() == new.strip() else "alert.edited.spacing"
        return [*lines, (Span(t(locale, note)),), *_quote(new, EXCERPT_CHARS)]
    lines.extend(_diff_lines(diff.pieces))
    if diff.hidden:
        forms = t(locale, "alert.edited.changes")
        count = format_number(diff.hidden, locale)
        more = t(
            locale, "alert.edited.more", count=count, changes=plural(locale, diff.hidden, forms)
        )
        lines.append((Span(more, italic=True),))
    return lines


def _diff_lines(pieces: tuple[Piece, ...]) -> list[Line]:
    """Diff pieces as lines of spans: removed words struck through, added words bold."""
    lines: list[Line] = []
    current: list[Span] = []
    for piece in pieces:
        for index, part in enumerate(piece.text.split("\n")):
            if index:
                lines.append(tuple(current))
                current = []
            if not current:
                part = part.lstrip()
            if part:
                current.append(
                    Span(
                        part,
                        bold=piece.kind == "added",
                        strike=piece.kind == "removed",
                        inserted=piece.kind == "added",
                    )
                )
    lines.append(tuple(current))
    return [line for line in lines if line]


def _deleted_lines(
    payload: Mapping[str, Any], locale: str, tz: str | None, *, evidence: bool, profile: object
) -> list[Line]:
    """What was deleted: its text, when it was published, seen and missed, and the proof."""
    text = payload.get("text")
    lines = _quote(text, DELETED_CHARS) if isinstance(text, str) else []
    if not lines:
        lines.append((Span(t(locale, "alert.deleted.no_text")),))
    published = _time(payload, "published_at")
    if published is not None:
        when = format_datetime(published, locale, tz=tz)
        lines.append((Span(t(locale, "alert.deleted.published", when=when)),))
    vanished = _vanished(
        _time(payload, "last_seen_at"), _time(payload, "first_missed_at"), locale, tz
    )
    if vanished:
        lines.append((Span(vanished),))
    facts = []
    views = _int(payload, "views")
    if views is not None:
        facts.append(t(locale, "alert.deleted.views", views=format_number(views, locale)))
    misses = _int(payload, "misses")
    if misses is not None and misses > 0:
        checks = plural(locale, misses, t(locale, "alert.deleted.checks"))
        count = format_number(misses, locale)
        facts.append(t(locale, "alert.deleted.confirmed", count=count, checks=checks))
    if facts:
        lines.append((Span(" · ".join(facts)),))
    url = payload.get("url")
    if _own_post_link("post_deleted", payload, profile):
        lines.append(
            (Span(t(locale, "alert.deleted.dead_link") + " "), Span(str(url), link=str(url)))
        )
    if evidence:
        button = t(locale, "alert.button.evidence")
        lines.append((Span(t(locale, "alert.deleted.evidence", button=button), italic=True),))
    return lines


def _vanished(
    seen: datetime | None, missed: datetime | None, locale: str, tz: str | None
) -> str | None:
    """'Vanished between 14:02 and 14:17' in the chat's zone, from what the payload knows."""
    if seen is not None and missed is not None and missed > seen:
        zone = ZoneInfo(tz) if tz else None
        first, last = (seen.astimezone(zone), missed.astimezone(zone)) if zone else (seen, missed)
        label = zone_label(first)
        if first.date() == last.date():
            day = format_date(first, locale)
            return t(locale, "alert.deleted.vanished_day", day=day, start=f"{first:%H:%M}",
                     end=f"{last:%H:%M}", zone=label)  # fmt: skip
        start = f"{format_date(first, locale)}, {first:%H:%M}"
        end = f"{format_date(last, locale)}, {last:%H:%M}"
        return t(locale, "alert.deleted.vanished", start=start, end=end, zone=label)
    if seen is not None:
        return t(locale, "alert.deleted.last_seen", when=format_datetime(seen, locale, tz=tz))
    if missed is not None:
        return t(locale, "alert.deleted.first_missed", when=format_datetime(missed, locale, tz=tz))
    return None
