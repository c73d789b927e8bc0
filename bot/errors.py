"""One error tree for govwatch.

Every error the application raises on purpose derives from :class:`GovwatchError`.
Errors carry data (``retry_after``, ``reason``) so callers can record them as state
instead of parsing messages.
"""

from __future__ import annotations

from datetime import datetime


class GovwatchError(Exception):
    """Base of every error govwatch raises on purpose."""


# --- configuration and user input -------------------------------------------------------


class ConfigError(GovwatchError):
    """The configuration is invalid; ``problems`` lists (file, key, reason) triples."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        lines = [f"{file}: {key}: {reason}" for file, key, reason in problems]
        super().__init__("\n".join(lines) or "invalid configuration")


class UserInputError(GovwatchError):
    """A user mistake that should be reported in one line, without a traceback."""


class SparqlError(GovwatchError):
    """A SPARQL endpoint gave no usable result; ``status`` is its HTTP status (None when
    there was no answer) and ``detail`` the cause in words."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class RosterError(UserInputError):
    """A roster file has bad entries; ``problems`` lists (position, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {pos}: {msg}" for pos, msg in problems]
        super().__init__("\n".join(lines))


class InvalidHandle(UserInputError):
    """A handle or URL cannot name an account on the given platform."""


# --- network ---------------------------------------------------------------------------


class FetchError(GovwatchError):
    """A fetch failed; ``reason`` is the stable short name, ``detail`` the cause in words.

    ``detail`` (e.g. "could not resolve host t.me") names hosts and ports only, never a
    URL, so it carries no token; it is None when nothing more than ``reason`` is known.
    """

    reason: str = "network"

    def __init__(
        self, message: str = "", *, reason: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message or self.reason)
        if reason is not None:
            self.reason = reason
        self.detail = detail


class BlockedAddress(FetchError):
    """The URL or one of its redirect hops points at a forbidden address or scheme."""

    reason = "blocked_address"


class InvalidURL(FetchError):
    """The URL is malformed or uses a scheme or form govwatch refuses."""

    reason = "blocked_address"


class ResponseTooLarge(FetchError):
    """The response exceeded the configured byte cap (raw or decoded)."""

    reason = "too_large"


class FetchTimeout(FetchError):
    """The fetch did not finish before its total deadline."""

    reason = "timeout"


class RateLimited(FetchError):
    """The server answered 429 (or 503 with Retry-After); ``retry_after`` is in seconds."""

    reason = "rate_limited"

    def __init__(
        self, message: str = "", *, retry_after: float | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class TooManyRedirects(FetchError):
    """The redirect chain was longer than allowed."""

    reason = "too_many_redirects"


# --- parsing ---------------------------------------------------------------------------


class ParseError(GovwatchError):
    """A page or API response did not have the expected structure (``detail``: in words)."""

    def __init__(
        self, message: str = "", *, reason: str = "layout_changed", detail: str | None = None
    ) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.detail = detail


# --- delivery --------------------------------------------------------------------------


class DeliveryError(GovwatchError):
    """Sending a message to a chat failed."""

    retryable: bool = True


class DeliveryRetryAfter(DeliveryError):
    """The chat platform asked us to wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"retry after {retry_after}s")
        self.retry_after = retry_after


class ChatGone(DeliveryError):
    """The chat no longer accepts messages (blocked, not found, archived, revoked)."""

    retryable = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatMigrated(DeliveryError):
    """A Telegram group became a supergroup with ``new_chat_id``."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class BadMarkup(DeliveryError):
    """The platform could not parse our markup; resend as plain text."""


class OutcomeUnknown(DeliveryError):
    """The request may or may not have reached the platform (timeout after sending)."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help (bad request that is not a markup problem)."""

    retryable = False


class LeaseHeld(GovwatchError):
    """Another process holds a job's lease (``govwatch db prune`` beside a running job)."""

    def __init__(self, key: str, owner: str | None, until: datetime | None) -> None:
        until_text = until.isoformat(timespec="seconds") if until is not None else "?"
        super().__init__(f"{key} is being run by {owner or 'another process'} until {until_text}")
        self.key = key
        self.owner = owner
        self.until = until


class LeaseLost(LeaseHeld):
    """A job's lease expired mid-run and another process took it: the run stopped."""
