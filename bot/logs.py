"""Logging set-up with secret redaction: tokens never reach a log."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

# Token shapes worth masking even when they are not in the config (e.g. typed in chat).
_TOKEN_PATTERNS = (
    re.compile(r"\d{6,12}(?::|%3[Aa])[A-Za-z0-9_-]{30,}"),  # Telegram bot token (or URL-quoted)
    re.compile(r"xox[abposre]-[A-Za-z0-9-]{10,}"),  # Slack bot/user/refresh tokens
    re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),  # Slack incoming webhook
    re.compile(r"xapp-[A-Za-z0-9-]{10,}"),  # Slack app-level token
    re.compile(r"(?i)(access_token|key|bearer_token|service_token|api_key)=[^&\s\"']+"),
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s\"']+"),
    # Secrets inside dict/JSON reprs, bearer values anywhere, passwords in database URLs.
    re.compile(
        r"(?i)([\"'](?:access_token|api_key|bearer_token|service_token|token|bot_token|"
        r"app_token|signing_secret|webhook_secret|secret|password)[\"']\s*:\s*[\"'])[^\"']+"
    ),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/%=-]{8,}"),
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(?=@)"),
)
MASK = "***"


class RedactingFilter(logging.Filter):
    """Replaces configured secrets and token-shaped strings in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self.secrets:
            # Also the URL-quoted form: a token may travel inside a logged URL.
            text = text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(_mask_match, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self.redact(message)
        record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _mask_match(match: re.Match[str]) -> str:
    if match.lastindex:
        head = match.group(1)
        separator = "" if head.endswith((" ", ":", '"', "'")) else "="
        return f"{head}{separator}{MASK}"
    return MASK


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single-line JSON object (after the redacting filter ran)."""
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str = "INFO", *, secrets: Iterable[str] = (), json_format: bool = False
) -> RedactingFilter:
    """Log to stderr (text, or JSON lines) with secrets redacted on every handler."""
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_format
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO; Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    return redactor


#: Libraries whose INFO lines (alembic's "Context impl SQLiteImpl", APScheduler's every
#: job run) bury govwatch's own; they still speak at DEBUG and at WARNING and above.
CHATTY_LIBRARIES = ("alembic", "apscheduler", "aiosqlite", "asyncio")


def quiet_libraries() -> None:
    """Keep libraries' INFO lines out of the output unless the root logger is at DEBUG."""
    root = logging.getLogger().level
    level = root if root <= logging.DEBUG else max(logging.WARNING, root)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(level)
