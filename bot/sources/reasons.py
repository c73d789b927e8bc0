"""Why an account could not be read, in words, for operators (CLI output and logs).

The reason codes are the stable names of DESIGN.md (``network``, ``login_wall``...);
chat replies word them through the catalogs, the command line in plain English here.
"""

from __future__ import annotations

from collections.abc import Mapping

REASON_WORDS: Mapping[str, str] = {
    "network": "network failure",
    "timeout": "timed out",
    "rate_limited": "rate limited by the platform",
    "blocked_address": "address refused by the SSRF guard",
    "too_large": "answer too large",
    "too_many_redirects": "too many redirects",
    "bad_encoding": "answer could not be decoded",
    "token_required": "no token configured",
    "token_invalid": "the token was refused",
    "not_permitted": "the token lacks a permission",
    "bad_request": "the platform refused the request's parameters (not proof of absence)",
    "login_wall": "the page asks to log in",
    "consent_page": "the page asks for cookie consent",
    "layout_changed": "the page layout changed",
    "bad_json": "the answer is not valid JSON",
    "bad_number": "a number on the page could not be read",
    "bad_selector": "a CSS selector is invalid",
    "no_selectors": "no CSS selectors configured",
    "not_a_feed": "the address is not a feed",
    "unsafe_xml": "the feed uses unsafe XML",
    "truncated": "the answer was cut off",
    "api_error": "the platform's API reported an error",
    "channel_id_required": "a channel id is needed",
    "bad_handle": "the handle is not valid",
    "source_disabled": "the source is disabled",
    "parser_error": "a parser error (see the log)",
    "internal_error": "an internal error (see the log)",
}


def reason_in_words(reason: str | None) -> str:
    """``network`` -> "network failure"; ``http_503`` -> "HTTP 503"; unknown codes as is."""
    if not reason:
        return "unknown cause"
    if reason.startswith("http_") and reason[5:].isdigit():
        return f"HTTP {reason[5:]}"
    return REASON_WORDS.get(reason, reason.replace("_", " "))
