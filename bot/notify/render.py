"""Turn one stored event into a platform-neutral alert in the chat's language.

An alert says who (the official), what (the change, with numbers formatted for the
locale), where (a link to the post or profile) and when. Payload keys are documented in
``bot/detect/__init__.py``; missing keys are tolerated so an old row never breaks the relay.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.actions import chart_action, mute_action, unfollow_action
from bot.detect.keywords import AlertWords
from bot.i18n import format_datetime, format_duration, format_number, format_percent, t
from bot.names import localized_name
from bot.notify.marks import highlight_quotes, marker_lines
from bot.reply import Button, Line, Paragraph, Reply, Span
from bot.reports.states import reason_group
from bot.store.models import Account, EventRow, Official

#: Post excerpts in alerts are cut to this many characters.
EXCERPT_CHARS = 600
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
    payload: Mapping[str, Any] = event.payload or {}
    who = localized_name(official, locale) if official else _account_label(account, payload)
    lines: list[Line] = [(Span(f"{_ICONS.get(event.kind, '•')} "), Span(who, bold=True))]
    lines.append((Span(_what(event, payload, locale)),))
    lines.extend(marker_lines(event.kind, payload, words, locale))
    lines.extend(_details(event.kind, payload, locale, tz))
    lines = highlight_quotes(lines, payload, words)
    lines.append(_where(event, account, payload, locale, tz))
    buttons: tuple[tuple[Button, ...], ...] = ()
    if official is not None:
        buttons = (
            (
                Button(t(locale, "alert.button.mute"), mute_action(official.id)),
                Button(t(locale, "alert.button.chart"), chart_action(official.id)),
                Button(t(locale, "alert.button.unsubscribe"), unfollow_action(official.id)),
            ),
        )
    summary = f"{who}: {_what(event, payload, locale)}"
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
    document for programs, so such RSS alerts carry no link.
    """
    platform = str(payload.get("platform") or (account.platform if account else ""))
    profile = payload.get("profile_url") or (account.url if account else None)
    url = payload.get("url") or profile
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    own = event.kind in ("new_post", "post_edited") and url not in (profile, payload.get("handle"))
    if platform == "rss" and not own and event.kind in _POST_KINDS:
        return None
    return url, own


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


def _details(kind: str, payload: Mapping[str, Any], locale: str, tz: str | None) -> list[Line]:
    lines: list[Line] = []
    if kind in ("new_post", "post_edited"):
        text = str(payload.get("text") or "").strip()
        if text:
            excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"
            lines.extend(
                (Span(part, italic=True),) for part in excerpt.splitlines() if part.strip()
            )
        origin = payload.get("forwarded_from")
        if origin:
            lines.append((Span(t(locale, "alert.forwarded_from", origin=str(origin))),))
    elif kind == "profile_changed":
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
