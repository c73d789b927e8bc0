"""A fake Slack on loopback: the Web API, file uploads, response_url and Socket Mode.

It speaks the real HTTP protocol slack_sdk uses (form or JSON bodies, ``Authorization:
Bearer``, ``{"ok": false, "error": ...}``, 429 with ``Retry-After``), so the backend under
test runs its real client code. Tests inspect what arrived (``posts``, ``responses``,
``uploads``, ``views``) and script failures with :meth:`FakeSlack.fail_next`.

chat.postMessage refuses what Slack refuses: no text (``no_text``), a ``text`` over
40,000 characters (``msg_too_long``), more than 50 blocks, a section text over 3,000, a
header over 150 or a button label over 75 characters, an unknown block (``invalid_blocks``),
and blocks holding more than 12,000 characters of text in all (``msg_blocks_too_long``,
the limit Slack applies without documenting it). Lengths are counted in UTF-16 code
units, the stricter reading of Slack's "characters". ``thread_ts`` must look like a ts
(``invalid_thread_ts``); a reply goes in the thread of that message (a reply's ts means
its parent's thread) and ``reply_broadcast`` shows it in the channel too. A ``thread_ts``
whose message is gone (:meth:`FakeSlack.delete_message`) or never was is posted to the
channel, as Slack does for a deleted parent, or answered with the error in
``missing_thread`` when a test sets one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
SIGNING_SECRET = "test-signing-secret"
TEAM_ID = "T0TEAM"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEXT_MAX = 40_000
BLOCKS_MAX = 50
SECTION_TEXT_MAX = 3000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BLOCKS_TEXT_MAX = 12_000
_TS = re.compile(r"\d+\.\d+")


def utf16_len(text: str) -> int:
    """The length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def message_error(args: dict[str, Any]) -> str | None:
    """The error Slack answers to this message's text and blocks, or None."""
    text, blocks = args.get("text"), args.get("blocks")
    if not text and not blocks:
        return "no_text"
    if text and utf16_len(str(text)) > TEXT_MAX:
        return "msg_too_long"
    if not blocks:
        return None
    if not isinstance(blocks, list) or len(blocks) > BLOCKS_MAX:
        return "invalid_blocks"
    total = 0
    for block in blocks:
        size = _block_text(block)
        if size is None:
            return "invalid_blocks"
        total += size
    return "msg_blocks_too_long" if total > BLOCKS_TEXT_MAX else None


def _block_text(block: Any) -> int | None:
    """The text one block holds, or None when Slack would refuse the block."""
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind == "divider":
        return 0
    if kind in ("section", "header"):
        text = str((block.get("text") or {}).get("text") or "")
        limit = SECTION_TEXT_MAX if kind == "section" else HEADER_MAX
        return utf16_len(text) if 1 <= utf16_len(text) <= limit else None
    if kind == "actions":
        elements = block.get("elements") or []
        labels = [str((e.get("text") or {}).get("text") or "") for e in elements]
        if not 1 <= len(elements) <= 25 or not all(
            1 <= utf16_len(x) <= BUTTON_TEXT_MAX for x in labels
        ):
            return None
        return sum(utf16_len(x) for x in labels)
    return None


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with an HTTP request: timestamp and v0 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Failure:
    """A scripted answer for the next call of one method."""

    error: str
    status: int = 200
    retry_after: int | None = None


@dataclass
class Channel:
    id: str
    creator: str = "UCREATOR"
    member: bool = True
    archived: bool = False
    is_private: bool = False


@dataclass
class FakeSlack:
    """The fake server and everything it has seen."""

    team_id: str = TEAM_ID
    channels: dict[str, Channel] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)
    revoked: bool = False
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: list[dict[str, Any]] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    #: Seconds chat.postMessage waits before answering (to provoke client timeouts).
    post_delay: float = 0.0
    #: The error for a ``thread_ts`` whose message is gone (None: post to the channel).
    missing_thread: str | None = None
    #: Each channel's messages by ts (a thread reply included) and the ts of its thread.
    messages: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._ids = itertools.count(1)
        self._ts_seq = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.socket_connected = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{rid}", self._response)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self) -> str:
        """A fresh response_url, as Slack puts in slash-command and action payloads."""
        return f"{self.root}/response/{next(self._ids)}"

    def add_channel(self, channel_id: str, **kwargs: Any) -> Channel:
        self.channels[channel_id] = Channel(channel_id, **kwargs)
        return self.channels[channel_id]

    def fail_next(
        self, method: str, error: str, *, status: int = 200, retry_after: int | None = None
    ) -> None:
        """Make the next call of ``method`` fail with ``error`` (and status/Retry-After)."""
        self.failures.setdefault(method, []).append(Failure(error, status, retry_after))

    def delete_message(self, channel: str, ts: str) -> None:
        """A user deletes a message (its thread_ts no longer leads anywhere)."""
        self.messages.get(channel, {}).pop(ts, None)

    def thread_of(self, post: dict[str, Any]) -> str | None:
        """The ts of the thread ``post`` went into (None: the channel itself)."""
        value = post.get("thread")
        return str(value) if value else None

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_seq):06d}"

    def called(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    # --- Web API --------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        self.calls.append((method, args))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or str(args.get("token", ""))
        want = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != want:
            return _error("not_authed" if not token else "invalid_auth")
        if self.revoked:
            return _error("token_revoked")
        scripted = self.failures.get(method)
        if scripted:
            failure = scripted.pop(0)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return _error(failure.error, status=failure.status, headers=headers)
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method")
        result: web.Response = await handler(args)
        return result

    async def _m_auth_test(self, args: dict[str, Any]) -> web.Response:
        return _ok(
            url="https://fake.slack.example/",
            team="Newsroom",
            user="govwatch",
            team_id=self.team_id,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def _channel_error(self, channel_id: str) -> str | None:
        if channel_id.startswith(("D", "U")):
            return None
        channel = self.channels.get(channel_id)
        if channel is None:
            return "channel_not_found"
        if channel.archived:
            return "is_archived"
        if not channel.member:
            return "not_in_channel"
        return None

    async def _m_chat_postMessage(self, args: dict[str, Any]) -> web.Response:
        if self.post_delay:
            await asyncio.sleep(self.post_delay)
        channel = str(args.get("channel", ""))
        if error := self._channel_error(channel) or message_error(args):
            return _error(error)
        thread: str | None = None
        if args.get("thread_ts"):
            wanted = str(args["thread_ts"])
            if not _TS.fullmatch(wanted):
                return _error("invalid_thread_ts")
            known = self.messages.get(channel, {})
            if wanted in known:
                thread = known[wanted] or wanted
            elif self.missing_thread:
                return _error(self.missing_thread)
        ts = self._next_ts()
        self.messages.setdefault(channel, {})[ts] = thread
        self.posts.append({**args, "ts": ts, "thread": thread, "received_at": time.monotonic()})
        message: dict[str, Any] = {"text": args.get("text", ""), "ts": ts}
        if thread is not None:
            message["thread_ts"] = thread
        return _ok(channel=channel, ts=ts, message=message)

    async def _m_conversations_open(self, args: dict[str, Any]) -> web.Response:
        user = str(args.get("users", ""))
        return _ok(channel={"id": "D" + user.removeprefix("U")})

    async def _m_views_publish(self, args: dict[str, Any]) -> web.Response:
        self.views.append(args)
        return _ok(view=args.get("view"))

    async def _m_conversations_info(self, args: dict[str, Any]) -> web.Response:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None:
            return _error("channel_not_found")
        return _ok(
            channel={
                "id": channel.id,
                "name": channel.id.lower(),
                "creator": channel.creator,
                "is_archived": channel.archived,
                "is_private": channel.is_private,
                "is_member": channel.member,
            }
        )

    async def _m_users_info(self, args: dict[str, Any]) -> web.Response:
        user = str(args.get("user"))
        admin = user in self.admins
        return _ok(
            user={
                "id": user,
                "team_id": self.team_id,
                "is_admin": admin,
                "is_owner": False,
                "locale": "en-US",
            }
        )

    async def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> web.Response:
        file_id = f"F{next(self._ids):06d}"
        self.uploads[file_id] = {
            "filename": args.get("filename"),
            "length": int(args.get("length", 0)),
        }
        return _ok(upload_url=f"{self.root}/upload/{file_id}", file_id=file_id)

    async def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> web.Response:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files
        channel = str(args.get("channel_id", ""))
        if error := self._channel_error(channel):
            return _error(error)
        out = []
        for item in files or []:
            upload = self.uploads.get(item["id"])
            if upload is None or "data" not in upload:
                return _error("file_not_found")
            upload.update(
                channel=channel,
                title=item.get("title"),
                initial_comment=args.get("initial_comment"),
                thread_ts=args.get("thread_ts"),
            )
            out.append({"id": item["id"], "title": item.get("title"), "name": upload["filename"]})
        return _ok(files=out)

    async def _m_apps_connections_open(self, args: dict[str, Any]) -> web.Response:
        return _ok(url=f"ws://127.0.0.1:{self._port}/socket")

    # --- uploads and response_url ---------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="no such upload")
        data = await request.read()
        self.uploads[file_id]["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"rid": request.match_info["rid"], **body})
        return web.Response(text="ok")

    # --- Socket Mode ----------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0APP"}}
        )
        self.socket_connected.set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                envelope_id = data.get("envelope_id")
                if envelope_id:
                    self.acks[envelope_id] = data
                    waiter = self._ack_waiters.pop(envelope_id, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(data)
        finally:
            self._sockets.remove(ws)
        return ws

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Push one envelope to the connected app and wait for its ack."""
        await asyncio.wait_for(self.socket_connected.wait(), timeout)
        envelope_id = f"env-{next(self._ids)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._ack_waiters[envelope_id] = waiter
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self._sockets[-1].send_json(envelope)
        return await asyncio.wait_for(waiter, timeout)

    # --- payload builders -----------------------------------------------------------

    def command_payload(
        self, text: str, *, channel: str = "C0NEWS", user: str = "U0ALICE", team: str | None = None
    ) -> dict[str, str]:
        """A slash-command payload as Slack sends it (form fields)."""
        return {
            "token": "legacy-verification-token",
            "team_id": team or self.team_id,
            "team_domain": "newsroom",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "news",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/govwatch",
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": self.response_url(),
            "trigger_id": f"trigger-{next(self._ids)}",
        }

    def event_payload(self, event: dict[str, Any], *, team: str | None = None) -> dict[str, Any]:
        """An Events API callback wrapping ``event``."""
        return {
            "token": "legacy-verification-token",
            "team_id": team or self.team_id,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):06d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team or self.team_id, "user_id": BOT_USER_ID, "is_bot": True}
            ],
        }

    async def wait_for(self, predicate: Any, *, timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` is true (the app answers asynchronously)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the fake Slack did not see what the test expected")
            await asyncio.sleep(0.02)


async def _read_args(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if request.content_type == "application/json":
        return dict(json.loads(raw or b"{}"))
    args: dict[str, Any] = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    args.update(request.query)
    for key in ("blocks", "view", "files"):
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


def _ok(**data: Any) -> web.Response:
    return web.json_response({"ok": True, **data})


def _error(error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status, headers=headers)


def slack_settings(fake: FakeSlack, *, mode: str = "http", editors: tuple[str, ...] = ()) -> Any:
    """Settings that point the Slack backend at ``fake`` (fast relay pacing for tests)."""
    from bot.config import load_settings

    return load_settings(
        None,
        slack={
            "bot_token": BOT_TOKEN,
            "app_token": APP_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "mode": mode,
            "base_url": fake.base_url,
            "editors": list(editors),
        },
        relay={"per_chat_interval": "0s", "tick": "1s"},
        i18n={"default_locale": "en"},
    )
