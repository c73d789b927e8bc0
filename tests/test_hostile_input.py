"""Hostile input against the pure pieces: URLs and handles, names, lookups, plain replies, logs.

Every case must end in a clear ``InvalidHandle`` (never a bare ValueError or a traceback),
or be neutralised (masked token, literal text), and change nothing it should not.
"""

from __future__ import annotations

import io
import logging
import sys
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.config import load_settings
from bot.domain import Platform
from bot.errors import InvalidHandle
from bot.handles import normalize_handle, validate_url
from bot.logs import MASK, RedactingFilter, setup_logging
from bot.names import fold, matches, query_tokens, search_key
from bot.reply import Paragraph, Reply, Span, Table, render_plain
from bot.store.engine import Database
from bot.store.models import Official
from bot.store.officials import find_officials
from tests.crash_summary import Tally

BAD_URLS = [
    "file:///etc/passwd",
    "FILE:///etc/shadow",
    "gopher://127.0.0.1:25/_HELO",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://gov.example/feed.rss",
    "//gov.example/feed.rss",
    "gov.example/feed.rss",
    "http://",
    "http:///path-only",
    "http://user:pass@gov.example/",
    "http://gov.example@127.0.0.1/",
    "http://@gov.example/",
    "http://gov.example:99999/",
    "http://gov.example:port/",
    "http://[::1",
    "http://[not-ipv6]/",
    "http://gov.example/a b",
    "http://gov.example/\r\nHost: internal",
    "http://gov.example\\@127.0.0.1/",
    "http://gov.example/\x00",
    "http://exa\u202emple.com/",  # right-to-left override
    "http://gov\u200b.example/",  # zero-width space
    "http://\ufeffgov.example/",  # byte-order mark
    "http://gov.example/\u2066x\u2069",  # bidi isolates
    "",
    " ",
]

GOOD_URLS = [
    "https://gov.example/press.rss",
    "http://gov.example:8080/feed?x=1&y=2",
    "https://xn--80ak6aa92e.xn--p1ai/news",
    "https://[2001:db8::1]/feed",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_validate_url_refuses(url: str, crash_tally: Tally) -> None:
    with pytest.raises(InvalidHandle):
        validate_url(url)
    crash_tally.refusal()


@pytest.mark.parametrize("url", GOOD_URLS)
def test_validate_url_accepts_plain_urls(url: str) -> None:
    assert validate_url(url) == url


SQLISH = [
    "'; DROP TABLE accounts; --",
    "x' OR '1'='1",
    "1; SELECT pg_sleep(10)",
    "%",
    "_",
    "\\",
    "z%' --",
]


@pytest.mark.parametrize(
    "platform", [p for p in Platform if p not in (Platform.RSS, Platform.HTML)]
)
# "_" alone is a legal Instagram/X/VK name, so it is not in this table.
@pytest.mark.parametrize(
    "raw", [*(s for s in SQLISH if s != "_"), "x" * 100_000, "@", "https://[t.me/x", "\x00abc"]
)
def test_normalize_handle_refuses_hostile_handles(
    platform: Platform, raw: str, crash_tally: Tally
) -> None:
    with pytest.raises(InvalidHandle) as info:
        normalize_handle(platform, raw)
    # The message is one readable line, not a dump of 100 kB of input.
    assert "\n" not in str(info.value)
    crash_tally.refusal()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(platform=st.sampled_from(list(Platform)), raw=st.text(max_size=300))
def test_normalize_handle_never_crashes(platform: Platform, raw: str) -> None:
    try:
        handle = normalize_handle(platform, raw)
    except InvalidHandle:
        return
    assert isinstance(handle, str)
    assert handle
    # Whatever is accepted is safe to put on one line of a reply.
    assert not any(ch in handle for ch in "\r\n\x00\u202e\u200b")


@settings(max_examples=200, deadline=None)
@given(
    url=st.builds(
        lambda scheme, host, tail: f"{scheme}://{host}{tail}",
        st.sampled_from(["http", "https", "file", "gopher", "HTTP"]),
        st.text(max_size=40),
        st.text(max_size=40),
    )
)
def test_validate_url_never_crashes(url: str) -> None:
    try:
        accepted = validate_url(url)
    except InvalidHandle:
        return  # refused: the only exception it may raise
    # Accepted: an http(s) URL with a host and no credentials, returned unchanged.
    parts = urlsplit(accepted)
    assert accepted == url
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert "@" not in parts.netloc


def test_names_ignore_invisible_characters() -> None:
    key = search_key(["Ай\u200bмагамбетов\u202e", "Ai\u2066magambetov\u2069"])
    assert key == "aimagambetov"
    assert matches(key, query_tokens("Аймагамбетов"))
    assert matches(key, query_tokens("aima\u200bgambetov"))


@pytest.mark.parametrize("query", ["", "\u200b", "\u202e\u202c", "%%%", "___", "'--"])
def test_invisible_or_punctuation_queries_have_no_tokens(query: str) -> None:
    assert query_tokens(query) == []
    assert not matches(fold("Anyone At All"), query_tokens(query))


async def test_lookup_with_sql_and_wildcards_changes_nothing(
    database: Database, crash_tally: Tally
) -> None:
    async with database.sessions() as session:
        session.add_all(
            [
                Official(slug="dana", name="Dana Omarova", search_key=search_key(["Dana Omarova"])),
                Official(slug="askhat", name="Askhat A", search_key=search_key(["Askhat A"])),
            ]
        )
        await session.commit()
    for query in [
        *SQLISH,
        "#1 OR 1=1",
        "#99999999999999999999",
        "#²",
        "#٣",
        '"; DELETE FROM officials; "',
    ]:
        async with database.sessions() as session:
            found = await find_officials(session, query)
        assert found == [], query
        crash_tally.refusal()
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Official)) == 2


def test_render_plain_keeps_markup_literal() -> None:
    nasty = "<b>x</b> *bold* _it_ `code` [a](javascript:alert(1)) <!channel> @everyone"
    reply = Reply(
        blocks=(
            Paragraph(((Span(nasty, bold=True, link="javascript:alert(1)"),),)),
            Table(header=("name", "n"), rows=((nasty, "1"), ("x" * 5000, "2"))),
        )
    )
    text = render_plain(reply)
    assert nasty in text
    assert "x" * 5000 in text


# --- tokens never reach a log ----------------------------------------------------------

TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SLACK_BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-abcdef0123456789"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
WEBHOOK_SECRET = "tg-webhook-secret-Zq81"
YT_KEY = "AIzaSyD-abcdefghijklmnopqrstuvwx"
FB_TOKEN = "EAABwzLixnjYBAO0ZAZabcdefghij"
X_BEARER = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid"
VK_TOKEN = "vk1.a.abcdefghijklmnopqrstuvwxyz"
CONFIGURED = [TG_TOKEN, SLACK_BOT, SLACK_APP, SIGNING, WEBHOOK_SECRET, YT_KEY, FB_TOKEN]

# Strings as they appear in real log lines (URLs, headers, reprs, tracebacks).
LEAKY_LINES = [
    f"POST https://api.telegram.org/bot{TG_TOKEN}/sendMessage 200",
    f"GET https://api.telegram.org/bot{TG_TOKEN.replace(':', '%3A')}/getMe",
    f"slack auth with {SLACK_BOT}",
    f"socket mode app token {SLACK_APP}",
    "refresh xoxe-1-My0xLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MA",
    "xoxp-1234-5678-91011-abcdefabcdef user token",
    "posting to https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
    f"X-Slack-Signature computed with {SIGNING}",
    f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}",
    f"GET https://www.googleapis.com/youtube/v3/channels?part=statistics&key={YT_KEY}",
    f"GET https://graph.facebook.com/v21.0/me?fields=id&access_token={FB_TOKEN}",
    f"Authorization: Bearer {X_BEARER}",
    f"headers={{'Authorization': 'Bearer {X_BEARER}'}}",
    f'{{"access_token": "{VK_TOKEN}", "v": "5.199"}}',
    f"https://api.vk.com/method/users.get?service_token={VK_TOKEN}&v=5.199",
    "connecting to postgresql+asyncpg://govwatch:hunter2-Pa55@db.internal:5432/gw",
]
LEAKS = [
    TG_TOKEN,
    TG_TOKEN.split(":")[1],
    SLACK_BOT,
    SLACK_APP,
    "My0xLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MA",
    "abcdefabcdef",
    "XXXXXXXXXXXXXXXXXXXXXXXX",
    SIGNING,
    WEBHOOK_SECRET,
    YT_KEY,
    FB_TOKEN,
    X_BEARER,
    VK_TOKEN,
    "hunter2-Pa55",
]


def _leaks(text: str) -> list[str]:
    return [secret for secret in LEAKS if secret in text]


@pytest.mark.parametrize("line", LEAKY_LINES)
def test_redaction_of_every_token_shape(line: str) -> None:
    redacted = RedactingFilter(CONFIGURED).redact(line)
    assert _leaks(redacted) == []
    assert MASK in redacted


@pytest.mark.parametrize("line", LEAKY_LINES)
def test_redaction_without_configured_secrets(line: str) -> None:
    """Token shapes typed in chat or in URLs are masked even when not configured."""
    redacted = RedactingFilter().redact(line)
    configured_only = {SIGNING, WEBHOOK_SECRET, YT_KEY, FB_TOKEN}
    assert [s for s in _leaks(redacted) if s not in configured_only] == []


@pytest.mark.parametrize("json_format", [False, True])
def test_debug_logs_never_show_tokens(monkeypatch: pytest.MonkeyPatch, json_format: bool) -> None:
    """Every path into a log at DEBUG: message, %-args, exception, traceback, repr of settings."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        settings_ = load_settings(
            None,
            telegram={"token": TG_TOKEN, "webhook_secret": WEBHOOK_SECRET},
            slack={"bot_token": SLACK_BOT, "app_token": SLACK_APP, "signing_secret": SIGNING},
        )
        setup_logging("DEBUG", secrets=settings_.secrets(), json_format=json_format)
        log = logging.getLogger("govwatch.hostile")
        for line in LEAKY_LINES:
            log.debug(line)
            log.debug("with args: %s %r", line, {"token": TG_TOKEN})
        log.info("settings: %r", settings_)
        log.debug("telegram settings %s", settings_.telegram)
        try:
            raise RuntimeError(f"send failed for https://api.telegram.org/bot{TG_TOKEN}/x")
        except RuntimeError:
            log.exception("delivery crashed")
        logging.getLogger("httpx").warning("HTTP Request: POST %s", f"/bot{TG_TOKEN}/getUpdates")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    captured = stream.getvalue()
    assert "delivery crashed" in captured
    assert "Traceback" in captured
    assert captured.count("with args") == len(LEAKY_LINES)
    assert _leaks(captured) == []


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(max_size=30),
    bot_id=st.integers(min_value=100_000, max_value=999_999_999_999),
    secret=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
        min_size=35,
        max_size=40,
    ),
    suffix=st.text(max_size=30),
)
def test_any_telegram_token_is_masked(prefix: str, bot_id: int, secret: str, suffix: str) -> None:
    token = f"{bot_id}:{secret}"
    redacted = RedactingFilter().redact(f"{prefix} {token} {suffix}")
    assert token not in redacted
    assert secret not in redacted
