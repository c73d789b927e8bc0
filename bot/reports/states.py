"""What a report may say about an account: read, unreadable, absent or never polled.

A report states facts only about accounts it read. Every other account is put in one of
three honest buckets: it could not be read (and why, as a reason group the command layer
turns into words), the official has no account there, or it has not been polled yet.
Reason codes (``http_503``, ``layout_changed``) never reach a reply: :func:`reason_group`
maps each to one of a few groups with a catalog entry ``states.reason.<group>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from bot.reports.scope import AccountRow

READ = "read"
UNREADABLE = "unreadable"
ABSENT = "absent"
NEVER = "never"

#: The group of an account that answered in the past but was not read during the period.
STALE = "stale"
_GROUPS = {
    "network": "network",
    "timeout": "timeout",
    "rate_limited": "rate_limited",
    "api_error": "server",
    "not_permitted": "refused",
    "bad_request": "request",
    "login_wall": "refused",
    "blocked_address": "refused",
    "token_invalid": "token",
    "token_required": "token",
    "bad_handle": "roster",
    "channel_id_required": "roster",
    "no_selectors": "roster",
    "bad_selector": "roster",
    "source_disabled": "disabled",
    "internal_error": "internal",
    "not_found": "not_found",
    "migrated": "migrated",
    STALE: STALE,
}
#: Answers that came back but could not be understood.
_PAGE = ("layout_changed", "bad_number", "truncated", "not_a_feed", "bad_json", "bad_encoding",
         "unsafe_xml", "no_posts_found", "too_large", "too_many_redirects")  # fmt: skip


def reason_group(reason: str | None) -> str:
    """The group of a stored reason code (``other`` when unknown)."""
    code = (reason or "").strip().lower()
    if code in _PAGE:
        return "page"
    if code.startswith("http_"):
        return _http_group(code.removeprefix("http_"))
    return _GROUPS.get(code, "other")


def _http_group(status: str) -> str:
    if status == "429":
        return "rate_limited"
    if status in ("404", "410"):
        return "not_found"
    if status.startswith("5"):
        return "server"
    return "refused" if status.startswith("4") else "other"


def account_state(account: AccountRow, since: datetime | None = None) -> str:
    """The account's state; with ``since``, "read" means read successfully since then."""
    if not account.exists:
        return ABSENT
    if account.status is None:
        return NEVER
    if since is not None:
        return (
            READ if account.last_ok_at is not None and account.last_ok_at >= since else UNREADABLE
        )
    return READ if account.healthy else UNREADABLE


def failure_group(account: AccountRow, since: datetime | None = None) -> str:
    """Why an unreadable account was not read: its last failure, or "not read lately"."""
    if account.healthy and since is not None:
        return STALE
    return reason_group(account.reason)


def failure_counts(accounts: Iterable[AccountRow], since: datetime | None = None) -> Counter[str]:
    """How many of ``accounts`` could not be read, by reason group."""
    return Counter(
        failure_group(a, since) for a in accounts if account_state(a, since) == UNREADABLE
    )


def official_state(accounts: list[AccountRow], since: datetime | None = None) -> str:
    """One official's state from their accounts: any failure makes it unreadable."""
    states = {account_state(a, since) for a in accounts} - {ABSENT}
    if not states:
        return ABSENT
    for state in (UNREADABLE, NEVER):
        if state in states:
            return state
    return READ
