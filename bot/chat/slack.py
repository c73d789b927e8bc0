"""The Slack backend: slash commands, mentions, App Home and alert delivery (slack-bolt).

It runs an ``AsyncApp`` in the application's event loop, over Socket Mode (default) or
HTTP (Bolt verifies every request's signature and refuses unsigned, stale or tampered ones
with 401 before anything runs). Commands are acknowledged at once and answered through
``response_url`` once the shared command layer has replied. Requests from any workspace
other than the one the bot token belongs to are refused before they reach that layer.

Who may change a channel's subscriptions is the command layer's decision; Slack does not
expose channel managers, so this adapter reports the channel's creator and the workspace's
admins and owners as the channel's administrators when the command layer asks.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.slack_blocks import (
    content_blocks,
    fallback_text,
    home_view,
    message_blocks,
    plain_text,
)
from bot.errors import (
    BadMarkup,
    ChatGone,
    ConfigError,
    DeliveryError,
    DeliveryRetryAfter,
    OutcomeUnknown,
    PermanentDeliveryError,
)
from bot.i18n import t
from bot.reply import Caller, ChatAddress, ChatKind, Reply, SendResult

if TYPE_CHECKING:
    from bot.commands.auth import ChatAdminCheck
    from bot.commands.service import CommandService
    from bot.config import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: Slack error codes that mean this conversation will not take our messages any more.
GONE_ERRORS = frozenset(
    {"not_in_channel", "is_archived", "channel_not_found", "token_revoked", "account_inactive"}
)
#: Errors about our blocks or text: the relay resends the reply as plain text.
MARKUP_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "markdown_text_conflict",
    }
)
#: Errors on Slack's side or about our credentials: try again later, nothing was posted.
RETRY_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "invalid_auth",
        "not_authed",
    }
)
#: Errors about ``thread_ts`` (its message deleted or unknown): nothing was posted.
THREAD_ERRORS = frozenset(
    {"thread_not_found", "invalid_thread_ts", "message_not_found", "thread_ts_not_found"}
)
#: A message ts as Slack gives it ("1712345678.123456").
_TS = re.compile(r"\d+\.\d+")
_ADMIN_TTL = 300.0
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class SlackBackend:
    """Slack through slack-bolt: receives commands and delivers alerts for the relay."""

    name: ClassVar[str] = "slack"
    supports_files: ClassVar[bool] = True
    supports_buttons: ClassVar[bool] = True

    def __init__(
        self,
        *,
        settings: Settings,
        commands: CommandService,
        host: str = "0.0.0.0",  # noqa: S104 - Slack must reach the HTTP endpoint
        port: int | None = None,
        min_interval: float = 1.0,
        timeout: int = 30,
    ) -> None:
        cfg = settings.slack
        _check_config(settings)
        assert cfg.bot_token is not None
        self._settings = settings
        self._commands = commands
        self._mode = cfg.mode
        self._host = host
        self._port = cfg.port if port is None else port
        self._min_interval = min_interval
        base_url = cfg.base_url if cfg.base_url.endswith("/") else cfg.base_url + "/"
        # No automatic retries: the relay decides, so a timed-out post is never doubled.
        self.client = AsyncWebClient(
            token=cfg.bot_token.get_secret_value(),
            base_url=base_url,
            timeout=timeout,
            retry_handlers=[],
        )
        secret = cfg.signing_secret.get_secret_value() if cfg.signing_secret else ""
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            name="govwatch",
            logger=log,
            before_authorize=self._check_team,
        )
        self._app_token = cfg.app_token.get_secret_value() if cfg.app_token else ""
        self.team_id: str | None = None
        self.bot_user_id: str | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None
        self._next_slot: dict[str, float] = {}
        self._admins: dict[tuple[str, str], tuple[float, bool]] = {}
        self._dms: dict[str, str] = {}
        self._register()

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the workspace from auth.test, then connect (Socket Mode) or listen (HTTP)."""
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            reason = _error_code(exc)
            raise ConfigError(
                [("<config>", "slack.bot_token", f"Slack refused it: {reason}")]
            ) from exc
        self.team_id = str(auth["team_id"])
        self.bot_user_id = str(auth["user_id"])
        if self._mode == "socket":
            self._socket = AsyncSocketModeHandler(self.app, self._app_token, web_client=self.client)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        else:
            await self._serve_http()
        log.info("slack: connected to team %s in %s mode", self.team_id, self._mode)

    async def stop(self) -> None:
        """Disconnect Socket Mode or stop the HTTP listener."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve_http(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, self._http_request)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self._port

    async def _http_request(self, request: web.Request) -> web.Response:
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    # --- delivery (the relay calls this) ----------------------------------------------

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        """Post ``reply`` to a channel or DM; raises the DeliveryError family on failure.

        A follow-up (``reply.reply_to``, the ts of an alert) goes to that alert's thread
        and is broadcast to the channel too, so nobody misses it.
        """
        if address.team_id and self.team_id and address.team_id != self.team_id:
            raise ChatGone("other_workspace")
        thread = reply.reply_to if reply.reply_to and _TS.fullmatch(reply.reply_to) else None
        return await self.post(
            address.external_id, reply, plain=plain, thread_ts=thread, broadcast=bool(thread)
        )

    async def post(
        self,
        channel: str,
        reply: Reply,
        *,
        plain: bool = False,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> SendResult:
        """Post ``reply`` (paced per channel, unfurls off) and classify any failure."""
        try:
            try:
                return await self._post(channel, reply, plain, thread_ts, broadcast)
            except SlackApiError as exc:
                if thread_ts is None or _error_code(exc) not in THREAD_ERRORS:
                    raise
                # The thread's first message is gone: nothing was posted, so the alert
                # goes to the channel itself rather than nowhere.
                log.info(
                    "slack: thread %s in %s is gone, posting to the channel", thread_ts, channel
                )
                return await self._post(channel, reply, plain, None, False)
        except SlackApiError as exc:
            raise self._classify(channel, exc) from exc
        except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            raise OutcomeUnknown(f"slack: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, SlackClientError) as exc:
            raise DeliveryError(f"slack: {type(exc).__name__}") from exc

    async def _post(
        self, channel: str, reply: Reply, plain: bool, thread_ts: str | None, broadcast: bool
    ) -> SendResult:
        await self._pace(channel)
        if reply.attachment is not None:
            return await self._upload(channel, reply, plain=plain, thread_ts=thread_ts)
        kwargs: dict[str, Any] = {"text": plain_text(reply), "mrkdwn": False}
        if not plain:
            kwargs = {"text": fallback_text(reply), "blocks": message_blocks(reply)}
        if thread_ts is not None:
            kwargs.update(thread_ts=thread_ts, reply_broadcast=broadcast or None)
        response = await self.client.chat_postMessage(
            channel=channel,
            unfurl_links=False,
            unfurl_media=False,
            link_names=False,
            **kwargs,
        )
        return SendResult(message_id=str(response.get("ts") or "") or None)

    async def _upload(
        self, channel: str, reply: Reply, *, plain: bool, thread_ts: str | None
    ) -> SendResult:
        attachment = reply.attachment
        assert attachment is not None
        if plain:
            comment = plain_text(Reply(blocks=reply.blocks))
        else:
            comment = "\n".join(b["text"]["text"] for b in content_blocks(reply))
        response = await self.client.files_upload_v2(
            channel=channel,
            file=attachment.data,
            filename=attachment.filename,
            title=attachment.caption or attachment.filename,
            initial_comment=comment or None,
            thread_ts=thread_ts,
        )
        # The file's id, not a message ts: a file is never the start of an alert's thread.
        file = response.get("file") or {}
        return SendResult(message_id=str(file.get("id") or "") or None)

    def _classify(self, channel: str, exc: SlackApiError) -> DeliveryError:
        code = _error_code(exc)
        status = int(getattr(exc.response, "status_code", 200) or 200)
        if code == "ratelimited" or status == 429:
            retry_after = _retry_after(exc.response)
            self._next_slot[channel] = max(
                self._next_slot.get(channel, 0.0), time.monotonic() + retry_after
            )
            return DeliveryRetryAfter(retry_after, f"slack: ratelimited ({retry_after}s)")
        if code in GONE_ERRORS:
            return ChatGone(code)
        if code in MARKUP_ERRORS:
            return BadMarkup(f"slack: {code}")
        if code in RETRY_ERRORS or status >= 500:
            if code in {"invalid_auth", "not_authed"}:
                log.error("slack: the bot token is not accepted (%s)", code)
            return DeliveryError(f"slack: {code or status}")
        return PermanentDeliveryError(f"slack: {code}")

    async def _pace(self, channel: str) -> None:
        """About one message a second per channel, as Slack asks (slots are reserved)."""
        now = time.monotonic()
        slot = max(now, self._next_slot.get(channel, 0.0))
        self._next_slot[channel] = slot + self._min_interval
        if len(self._next_slot) > 10_000:
            self._next_slot = {k: v for k, v in self._next_slot.items() if v > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    # --- incoming requests ------------------------------------------------------------

    def _register(self) -> None:
        self.app.command(re.compile(r"^/"))(self._on_command)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home)
        self.app.action(re.compile(r"^gw\."))(self._on_action)

    async def _check_team(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Refuse requests from any workspace but ours before anything else runs."""
        if body.get("type") == "url_verification":
            await next()  # Slack checking the endpoint; it names no workspace
            return None
        teams = _request_teams(body)
        if self.team_id is not None and teams and teams <= {self.team_id}:
            await next()
            return None
        log.warning("slack: refused a request from team(s) %s", sorted(teams) or "?")
        if body.get("command"):
            text = t(self._settings.i18n.default_locale, "slack.other_workspace")
            return BoltResponse(status=200, body=text)
        return BoltResponse(status=200, body="")

    async def _on_command(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        text = str(body.get("text") or "").strip() or "help"
        caller = await self._caller(
            user=str(body["user_id"]),
            channel=str(body["channel_id"]),
            title=body.get("channel_name"),
            display=body.get("user_name"),
        )
        reply = await self._commands.handle(caller, text, chat_admin=self._admin_check(caller))
        await self._respond(respond, caller, reply)

    async def _on_action(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Any,
    ) -> None:
        await ack()
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        user = str((body.get("user") or {}).get("id"))
        caller = await self._caller(user=user, channel=str(channel or ""))
        value = str(action.get("value") or "")
        reply = await self._commands.handle_action(
            caller, value, chat_admin=self._admin_check(caller)
        )
        if body.get("response_url"):
            await self._respond(respond, caller, reply)
        else:
            await self._post_quietly(caller.chat_id, reply)

    async def _on_mention(self, event: dict[str, Any]) -> None:
        if _from_other_team(event, self.team_id):
            return
        text = _MENTION.sub(" ", str(event.get("text") or "")).strip() or "help"
        caller = await self._caller(user=str(event.get("user")), channel=str(event["channel"]))
        reply = await self._commands.handle(caller, text, chat_admin=self._admin_check(caller))
        await self._post_quietly(str(event["channel"]), reply, thread_ts=event.get("thread_ts"))

    async def _on_message(self, event: dict[str, Any]) -> None:
        """Direct messages to the bot are commands too (the Messages tab)."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if _from_other_team(event, self.team_id):
            return
        text = _MENTION.sub(" ", str(event.get("text") or "")).strip() or "help"
        caller = await self._caller(user=str(event.get("user")), channel=str(event["channel"]))
        reply = await self._commands.handle(caller, text)
        await self._post_quietly(caller.chat_id, reply)

    async def _on_home(self, event: dict[str, Any]) -> None:
        """App Home: the user's own subscriptions (those of their DM with the bot)."""
        if event.get("tab") != "home":
            return
        user = str(event["user"])
        caller = await self._caller(user=user, channel=str(event.get("channel") or ""))
        reply = await self._commands.handle(caller, "subscriptions")
        title = t(self._settings.i18n.default_locale, "slack.home.title")
        try:
            await self.client.views_publish(user_id=user, view=home_view(title, reply))
        except SlackApiError as exc:
            log.warning("slack: views.publish failed: %s", _error_code(exc))

    # --- helpers for incoming requests ----------------------------------------------

    async def _caller(
        self, *, user: str, channel: str, title: object = None, display: object = None
    ) -> Caller:
        """The command layer's Caller; any DM becomes the user's own DM with the bot."""
        kind: ChatKind = "private" if not channel or channel.startswith("D") else "group"
        if kind == "private":
            channel = await self._dm_channel(user, fallback=channel)
        return Caller(
            backend="slack",
            user_id=user,
            chat_id=channel,
            chat_kind=kind,
            team_id=self.team_id,
            display_name=str(display) if display else None,
            chat_title=f"#{title}" if kind == "group" and title else None,
        )

    async def _dm_channel(self, user: str, *, fallback: str) -> str:
        """The bot's DM with ``user`` (a DM between two people cannot receive alerts)."""
        if user in self._dms:
            return self._dms[user]
        try:
            response = await self.client.conversations_open(users=user)
            channel = str((response.get("channel") or {}).get("id") or "")
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack: conversations.open failed: %s", type(exc).__name__)
            channel = ""
        if not channel:
            return fallback or user
        self._dms[user] = channel
        return channel

    def _admin_check(self, caller: Caller) -> ChatAdminCheck:
        """Asks Slack whether ``caller`` administers the channel (the command layer calls it)."""
        return partial(self._channel_admin, caller.chat_id, caller.user_id)

    async def _channel_admin(self, channel: str, user: str) -> bool:
        """Workspace admins/owners and the channel's creator (cached for five minutes)."""
        key = (channel, user)
        cached = self._admins.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        admin = False
        try:
            info = await self.client.users_info(user=user)
            person = info.get("user") or {}
            admin = bool(person.get("is_admin") or person.get("is_owner"))
            if not admin:
                conv = await self.client.conversations_info(channel=channel)
                admin = (conv.get("channel") or {}).get("creator") == user
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack: could not check channel admin: %s", type(exc).__name__)
        self._admins[key] = (time.monotonic() + _ADMIN_TTL, admin)
        return admin

    async def _respond(self, respond: Any, caller: Caller, reply: Reply) -> None:
        """Answer through response_url; a chart is uploaded to the channel as well."""
        text_part = Reply(blocks=reply.blocks, buttons=reply.buttons, summary=reply.summary)
        if reply.blocks or reply.buttons or reply.attachment is None:
            await respond(
                text=fallback_text(text_part),
                blocks=message_blocks(text_part),
                response_type="in_channel",
                unfurl_links=False,
                unfurl_media=False,
            )
        if reply.attachment is None:
            return
        file_only = Reply(attachment=reply.attachment)
        try:
            await self.post(caller.chat_id, file_only)
        except ChatGone:
            note = t(self._settings.i18n.default_locale, "slack.invite_for_files")
            await respond(text=note, response_type="ephemeral")
        except DeliveryError as exc:
            log.warning("slack: chart upload failed: %s", exc)

    async def _post_quietly(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None
    ) -> None:
        try:
            await self.post(channel, reply, thread_ts=thread_ts)
        except DeliveryError as exc:
            log.warning("slack: could not answer in %s: %s", channel, exc)


# --- module helpers ----------------------------------------------------------------------


def _check_config(settings: Settings) -> None:
    cfg = settings.slack
    problems = []
    if cfg.bot_token is None:
        problems.append(("<config>", "slack.bot_token", "required to run the Slack backend"))
    if cfg.mode == "socket" and cfg.app_token is None:
        problems.append(("<config>", "slack.app_token", "required in Socket Mode (xapp-...)"))
    if cfg.mode == "http" and cfg.signing_secret is None:
        problems.append(("<config>", "slack.signing_secret", "required in HTTP mode"))
    if problems:
        raise ConfigError(problems)


def _request_teams(body: Mapping[str, Any]) -> set[str]:
    """Every workspace id a request names (payload, user, event author)."""
    teams = {
        body.get("team_id"),
        (body.get("team") or {}).get("id") if isinstance(body.get("team"), dict) else None,
        (body.get("user") or {}).get("team_id") if isinstance(body.get("user"), dict) else None,
    }
    event = body.get("event")
    if isinstance(event, dict):
        teams.add(event.get("user_team"))
    return {str(team) for team in teams if team}


def _from_other_team(event: Mapping[str, Any], team_id: str | None) -> bool:
    user_team = event.get("user_team")
    return bool(user_team) and user_team != team_id


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or "")
    except (AttributeError, TypeError, ValueError):
        return ""


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    value = None
    for key in ("Retry-After", "retry-after"):
        value = value or headers.get(key)
    try:
        return max(float(value), 1.0) if value is not None else 30.0
    except (TypeError, ValueError):
        return 30.0
