"""A fake Telegram Bot API server on loopback, speaking the real HTTP protocol.

Requests go to ``/bot<token>/<method>`` with JSON, url-encoded or multipart bodies, as
python-telegram-bot and other clients send them. The server keeps every message it was
sent, queues updates for long-polling ``getUpdates``, and answers with faults on demand:
429 with ``retry_after``, 403 "bot was blocked", 400 "chat not found" / "can't parse
entities", ``migrate_to_chat_id``, 500, or a hang (to make clients time out).

``limits=True`` enforces Telegram's flood limits (1 message/s per chat, 20/min per
group, 30/s overall) by answering 429, so a benchmark can check a sender's pacing.

Like Telegram, it refuses what it would refuse: HTML with a tag Telegram does not know or
left open ("can't parse entities"), a text longer than 4096 or a caption longer than 1024
UTF-16 code units after entity parsing ("message is too long", "message caption is too
long"), an empty text, callback data over 64 bytes, and a reply to a message the chat
does not have unless ``allow_sending_without_reply`` ("message to be replied not
found"). ``reply_parameters`` (and the older ``reply_to_message_id``) make the message a
reply: :attr:`Sent.reply_to` says to which, and the answer carries ``reply_to_message``.
:meth:`FakeTelegramAPI.delete_message` removes a message as a user deleting it would.

Use::

    api = FakeTelegramAPI()
    await api.start()
    ... Settings(telegram={"token": api.token, "base_url": api.base_url}) ...
    api.push_message(chat_id=42, user_id=42, text="/start")
    await api.wait_for(lambda: len(api.sent) >= 1)
    await api.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

JITTER_S = 0.1
DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
#: The tags of Telegram's HTML parse mode.
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
     "tg-spoiler", "tg-emoji", "blockquote"}
)  # fmt: skip


class Refused(Exception):
    """An error answer of the Bot API (status and description)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def utf16_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


class _EntityParser(HTMLParser):
    """Telegram's HTML parse mode: the text that remains, or the error Telegram gives."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return sum(len(x) + 1 for x in self.rawdata.split("\n")[: line - 1]) + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise Refused(
                400,
                f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}" '
                f"at byte offset {self._offset()}",
            )
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        expected = self.stack.pop() if self.stack else None
        if expected != tag:
            raise Refused(
                400,
                "Bad Request: can't parse entities: Unmatched end tag at byte offset "
                f'{self._offset()}, expected "</{expected}>", found "</{tag}>"',
            )

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def entity_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram keeps of ``text`` after parsing its entities (HTML mode only)."""
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise Refused(
            400,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start "
            f'tag "{parser.stack[-1]}"',
        )
    return "".join(parser.text)


@dataclass
class Sent:
    """One message the bot sent (or edited)."""

    method: str
    chat_id: int
    message_id: int
    params: dict[str, Any]
    at: float
    files: dict[str, bytes] = field(default_factory=dict)
    #: The message this one replies to (None: not a reply).
    reply_to: int | None = None

    @property
    def text(self) -> str:
        """The message text (or photo/document caption)."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def parse_mode(self) -> str | None:
        """The parse mode the bot asked for."""
        value = self.params.get("parse_mode")
        return str(value) if value else None

    @property
    def shown(self) -> str:
        """The text as the chat shows it: entities parsed, tags gone."""
        return entity_text(self.text, self.parse_mode)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons, flattened."""
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Fault:
    """An error to answer instead of success."""

    kind: str
    method: str | None = None
    chat_id: int | None = None
    count: int = 1
    retry_after: int = 1
    new_chat_id: int | None = None
    hang_s: float = 30.0


class FakeTelegramAPI:
    """The fake Bot API; see the module docstring."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        limits: bool = False,
        bot_username: str = "govwatch_test_bot",
    ) -> None:
        self.token = token
        self.limits = limits
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.sent: list[Sent] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        #: chat id -> user ids that administer it (answers getChatMember/getChatAdministrators).
        self.admins: dict[int, set[int]] = defaultdict(set)
        self.faults: list[Fault] = []
        self.rate_limited = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        #: The messages each chat still has (a deleted one is gone).
        self.alive: dict[int, set[int]] = defaultdict(set)
        self._changed = asyncio.Event()
        self._chat_last: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = defaultdict(deque)
        self._all_sends: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1 (a free port) and return the base URL for clients."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self.base_url

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """What goes in ``telegram.base_url`` (the token is appended by the client)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What goes in ``telegram.base_file_url``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- what a test does -----------------------------------------------------------------

    def push_message(
        self,
        *,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str = "Test",
        chat_title: str | None = None,
    ) -> dict[str, Any]:
        """Queue a user's message for getUpdates; returns the update."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = chat_title or f"Group {chat_id}"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        self.alive[chat_id].add(message["message_id"])
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": message})

    def push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue any update body (e.g. ``{"message": {...}}``) for getUpdates."""
        return self._push(body)

    def push_callback(
        self,
        *,
        chat_id: int,
        data: str,
        user_id: int | None = None,
        message_id: int = 1,
        chat_type: str = "private",
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        """Queue an inline-button press for getUpdates; returns the update."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Test"}
        if language_code:
            user["language_code"] = language_code
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "title": "t"},
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "govwatch"},
            "text": "alert",
        }
        query = {
            "id": str(next(self._update_ids) * 1000),
            "from": user,
            "chat_instance": str(chat_id),
            "message": message,
            "data": data,
        }
        return self._push({"callback_query": query})

    def fail(self, kind: str, **kwargs: Any) -> Fault:
        """Answer the next matching request(s) with a fault.

        ``kind``: "429", "blocked", "chat_not_found", "parse_entities", "migrate",
        "server_error", "hang", "bad_request" or "reply_not_found". Keywords: method,
        chat_id, count, retry_after, new_chat_id, hang_s.
        """
        fault = Fault(kind=kind, **kwargs)
        self.faults.append(fault)
        return fault

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """A user deletes a message of the chat (replies to it then find nothing)."""
        self.alive[chat_id].discard(message_id)

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Messages sent to ``chat_id``, in order."""
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``condition()`` holds (checked whenever a request arrives)."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))

    # --- the protocol -----------------------------------------------------------------

    def _push(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **body}
        self._updates.append(update)
        self._changed.set()
        return update

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        ctype = request.content_type
        if ctype == "application/json":
            params.update(await request.json())
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    files[part.name or "file"] = await part.read()  # type: ignore[union-attr]
                else:
                    params[part.name or ""] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(await request.post())
        return {k: _decode(v) for k, v in params.items()}, files

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        self.requests.append((method, params))
        self._changed.set()
        fault = self._take_fault(method, params)
        if fault is not None:
            return await self._fault_response(fault)
        if self.limits and method in SEND_METHODS:
            limited = self._flood_wait(int(params.get("chat_id", 0)))
            if limited:
                self.rate_limited += 1
                return _error(429, f"Too Many Requests: retry after {limited}", retry_after=limited)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params, files)
        except Refused as exc:
            return _error(exc.status, exc.description)
        self._changed.set()
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self.faults:
            if fault.method is not None and fault.method != method:
                continue
            if fault.method is None and method not in SEND_METHODS:
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            return fault
        return None

    async def _fault_response(self, fault: Fault) -> web.Response:
        match fault.kind:
            case "429":
                text = f"Too Many Requests: retry after {fault.retry_after}"
                return _error(429, text, retry_after=fault.retry_after)
            case "blocked":
                return _error(403, "Forbidden: bot was blocked by the user")
            case "chat_not_found":
                return _error(400, "Bad Request: chat not found")
            case "parse_entities":
                return _error(400, "Bad Request: can't parse entities: Unsupported start tag")
            case "migrate":
                return _error(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=fault.new_chat_id,
                )
            case "hang":
                await asyncio.sleep(fault.hang_s)
                return _error(500, "Internal Server Error")
            case "bad_request":
                return _error(400, "Bad Request: message is too long")
            case "reply_not_found":
                return _error(400, "Bad Request: message to be replied not found")
        return _error(500, "Internal Server Error")

    def _flood_wait(self, chat_id: int) -> int:
        now = time.monotonic()
        waits = []
        last = self._chat_last.get(chat_id)
        # A little slack for network jitter, as Telegram allows short bursts anyway.
        if last is not None and now - last < 1.0 - JITTER_S:
            waits.append(1.0 - (now - last))
        group = self._group_sends[chat_id]
        while group and group[0] <= now - 60:
            group.popleft()
        if chat_id < 0 and len(group) >= 20:
            waits.append(group[0] + 60 - now)
        while self._all_sends and self._all_sends[0] <= now - 1:
            self._all_sends.popleft()
        if len(self._all_sends) >= 30:
            waits.append(self._all_sends[0] + 1 - now)
        if waits:
            return max(1, math.ceil(max(waits)))
        self._chat_last[chat_id] = now
        group.append(now)
        self._all_sends.append(now)
        return 0

    def _record(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._check(method, params)
        reply_to = self._reply_target(chat_id, params)
        message_id = next(self._message_ids[chat_id])
        self.alive[chat_id].add(message_id)
        sent = Sent(method, chat_id, message_id, params, time.monotonic(), files, reply_to)
        self.sent.append(sent)
        result = self._message(chat_id, message_id)
        if reply_to is not None:
            result["reply_to_message"] = self._message(chat_id, reply_to)
        return result

    def _message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        chat_type = "private" if chat_id > 0 else "supergroup"
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "title": "chat"},
            "from": self._me(),
        }

    def _check(self, method: str, params: dict[str, Any]) -> None:
        """Refuse, as Telegram does, markup it cannot parse and texts over its limits."""
        if method == "sendMessage":
            shown = entity_text(str(params.get("text") or ""), params.get("parse_mode"))
            if not shown.strip():
                raise Refused(400, "Bad Request: message text is empty")
            if utf16_len(shown) > MESSAGE_LIMIT:
                raise Refused(400, "Bad Request: message is too long")
        elif params.get("caption"):
            shown = entity_text(str(params["caption"]), params.get("parse_mode"))
            if utf16_len(shown) > CAPTION_LIMIT:
                raise Refused(400, "Bad Request: message caption is too long")
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise Refused(400, "Bad Request: BUTTON_DATA_INVALID")

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> int | None:
        """The message this one replies to, per reply_parameters (or reply_to_message_id)."""
        wanted = params.get("reply_parameters")
        if wanted is None and params.get("reply_to_message_id") is not None:
            wanted = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if wanted is None:
            return None
        if not isinstance(wanted, dict) or "message_id" not in wanted:
            raise Refused(400, "Bad Request: can't parse reply parameters JSON object")
        if wanted.get("chat_id") not in (None, chat_id, str(chat_id)):
            raise Refused(400, "Bad Request: message to be replied not found")
        target = int(wanted["message_id"])
        if target in self.alive[chat_id]:
            return target
        if wanted.get("allow_sending_without_reply") in (True, "true", "True", 1, "1"):
            return None
        raise Refused(400, "Bad Request: message to be replied not found")

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "govwatch",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._me()

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        # Confirmed updates (id < offset) are forgotten, as Telegram does.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self._updates[:limit]

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        result = self._record("sendMessage", params, files)
        result["text"] = params.get("text", "")
        return result

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        result = self._record("sendPhoto", params, files)
        size = {"file_id": "photo1", "file_unique_id": "u1", "width": 800, "height": 600}
        result["photo"] = [size]
        return result

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        result = self._record("sendDocument", params, files)
        result["document"] = {"file_id": "doc1", "file_unique_id": "d1"}
        return result

    async def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, str(params.get("language_code") or ""))] = (
            params.get("commands") or []
        )
        return True

    async def _m_deleteMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.callback_answers.append(params)
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = params
        return True

    async def _m_getChatMember(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        user = {"id": user_id, "is_bot": False, "first_name": "User"}
        if user_id in self.admins.get(chat_id, set()):
            return {"status": "creator", "user": user, "is_anonymous": False}
        return {"status": "member", "user": user}

    async def _m_getChatAdministrators(
        self, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        chat_id = int(params["chat_id"])
        return [
            {
                "status": "creator",
                "user": {"id": u, "is_bot": False, "first_name": "A"},
                "is_anonymous": False,
            }
            for u in sorted(self.admins.get(chat_id, set()))
        ]

    async def _file(self, request: web.Request) -> web.Response:
        return web.Response(body=b"")


def _decode(value: Any) -> Any:
    """Form values holding JSON (reply_markup, commands...) become objects again."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    params = {k: v for k, v in parameters.items() if v is not None}
    if params:
        body["parameters"] = params
    return web.json_response(body, status=status)
