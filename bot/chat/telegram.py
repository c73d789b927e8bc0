"""The Telegram backend (python-telegram-bot 22), running inside our asyncio loop.

Commands arrive by long polling (PTB's Updater) or by webhook (a small aiohttp endpoint
that checks Telegram's secret-token header and feeds PTB's update queue); both run beside
the scheduler, never through ``run_polling``. ``send`` renders a Reply as escaped HTML
and maps PTB's errors onto ``bot.errors`` so the relay decides about retries: PTB itself
never retries a send.
"""

from __future__ import annotations

import hmac
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram import error as tg
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.chat.telegram_html import (
    CAPTION_LIMIT,
    fit_html,
    fit_text,
    one_html,
    one_text,
    render_html,
    render_text,
    text_len,
    tg_len,
)
from bot.commands.auth import ChatAdminCheck
from bot.commands.service import CommandService
from bot.config import Settings
from bot.errors import (
    BadMarkup,
    ChatGone,
    ChatMigrated,
    ConfigError,
    DeliveryError,
    DeliveryRetryAfter,
    OutcomeUnknown,
    PermanentDeliveryError,
)
from bot.i18n import LOCALES
from bot.reply import Caller, ChatAddress, ChatKind, Reply, SendResult

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ("message", "callback_query")
_GONE = ("chat not found", "bot was blocked", "bot was kicked", "user is deactivated",
         "chat was deleted", "not enough rights to send", "have no rights to send",
         "peer_id_invalid", "group chat was deactivated")  # fmt: skip
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def map_error(exc: tg.TelegramError) -> DeliveryError:
    """The ``bot.errors`` delivery error for a python-telegram-bot error."""
    message = exc.message.lower() if hasattr(exc, "message") else str(exc).lower()
    if isinstance(exc, tg.RetryAfter):
        with warnings.catch_warnings():
            # PTB 22 warns that the int form is deprecated; both forms are handled below.
            warnings.simplefilter("ignore")
            after = exc.retry_after
        seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
        return DeliveryRetryAfter(seconds)
    if isinstance(exc, tg.ChatMigrated):
        return ChatMigrated(str(exc.new_chat_id))
    if isinstance(exc, tg.Forbidden | tg.BadRequest) and any(g in message for g in _GONE):
        return ChatGone(message[:100])
    if isinstance(exc, tg.BadRequest):
        if "can't parse entities" in message or "can't find end" in message:
            return BadMarkup(message)
        return PermanentDeliveryError(message)
    if isinstance(exc, tg.Forbidden):
        return ChatGone(message[:100])
    if isinstance(exc, tg.InvalidToken):
        return PermanentDeliveryError("invalid bot token")
    if isinstance(exc, tg.TimedOut | tg.NetworkError):
        if isinstance(exc.__cause__, _NOT_SENT):
            return DeliveryError(f"not sent: {message}")
        if isinstance(exc, tg.TimedOut) or message.startswith("httpx."):
            return OutcomeUnknown(message)
        return DeliveryError(message)  # the server answered an error: nothing was sent
    return DeliveryError(message)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard."""
    if not reply.buttons:
        return None
    rows = [
        [InlineKeyboardButton(b.text, callback_data=b.action) for b in row] for row in reply.buttons
    ]
    return InlineKeyboardMarkup(rows)


def chat_kind(telegram_type: str) -> ChatKind:
    """Our chat kind for Telegram's chat type."""
    if telegram_type == "private":
        return "private"
    return "channel" if telegram_type == "channel" else "group"


class TelegramBackend:
    """Receives commands from Telegram and sends replies and alerts there."""

    name: ClassVar[str] = "telegram"

    def __init__(self, *, settings: Settings, commands: CommandService) -> None:
        cfg = settings.telegram
        if cfg.token is None:
            raise ConfigError([("<config>", "telegram.token", "required when Telegram is enabled")])
        self.settings = settings
        self.commands = commands
        timeout = cfg.send_timeout.total_seconds()
        builder = (
            Application.builder()
            .token(cfg.token.get_secret_value())
            .base_url(cfg.base_url)
            .request(_request(timeout, pool=16))
            .get_updates_request(_request(timeout, pool=2))
            .concurrent_updates(8)
        )
        if cfg.base_file_url:
            builder = builder.base_file_url(cfg.base_file_url)
        self.app = builder.build()
        self.app.add_handler(MessageHandler(filters.COMMAND, self._on_command))
        # Plain text in a private chat is answered with a hint towards /help (the command
        # layer words it); in a group such text is for people, so it never reaches us.
        private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
        self.app.add_handler(MessageHandler(private_text, self._on_command))
        self.app.add_handler(CallbackQueryHandler(self._on_callback))
        self.app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        self._webhook: web.AppRunner | None = None

    @property
    def bot(self) -> Bot:
        """The PTB bot (for tests and the composition root)."""
        return self.app.bot

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, register the command menus, and start receiving updates."""
        await self.app.initialize()
        await self.register_commands()
        await self.app.start()
        cfg = self.settings.telegram
        if cfg.mode == "webhook":
            await self._start_webhook()
        elif self.app.updater is not None:
            await self.app.updater.start_polling(
                timeout=int(cfg.poll_timeout.total_seconds()),
                allowed_updates=list(ALLOWED_UPDATES),
                error_callback=_polling_error,
            )

    async def stop(self) -> None:
        """Stop receiving and close connections."""
        if self._webhook is not None:
            await self._webhook.cleanup()
            self._webhook = None
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def register_commands(self) -> None:
        """setMyCommands for every language (and the default menu)."""
        for locale in (None, *LOCALES):
            # Editor commands stay out of the menu everyone sees; /help lists them to editors.
            menu = self.commands.command_menu(
                locale or self.settings.i18n.default_locale, editor=False
            )
            # /start is what Telegram sends on its own when a chat opens.
            commands = [BotCommand(name, desc[:256]) for name, desc in menu if name != "start"]
            await self.bot.set_my_commands(commands, language_code=locale)

    async def _start_webhook(self) -> None:
        cfg = self.settings.telegram
        if not cfg.webhook_url or cfg.webhook_secret is None:
            raise ConfigError(
                [
                    (
                        "<config>",
                        "telegram.webhook_url",
                        "webhook mode needs webhook_url and webhook_secret",
                    )
                ]
            )
        secret = cfg.webhook_secret.get_secret_value()
        path = urlsplit(cfg.webhook_url).path or "/"
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(path, self._webhook_handler(secret))
        self._webhook = web.AppRunner(app, access_log=None)
        await self._webhook.setup()
        await web.TCPSite(self._webhook, cfg.webhook_listen, cfg.webhook_port).start()
        await self.bot.set_webhook(
            cfg.webhook_url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
        )

    def _webhook_handler(self, secret: str) -> Any:
        async def handle(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403)
            try:
                data = await request.json()
                update = Update.de_json(data, self.bot)
            except (ValueError, KeyError, TypeError, AttributeError):  # not an Update object
                return web.Response(status=400)
            await self.app.update_queue.put(update)
            return web.Response(status=200)

        return handle

    # --- incoming --------------------------------------------------------------------------

    def _caller(self, update: Update) -> Caller | None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return None
        return Caller(
            backend=self.name,
            user_id=str(user.id),
            chat_id=str(chat.id),
            chat_kind=chat_kind(chat.type),
            display_name=user.full_name,
            language_hint=user.language_code,
            chat_title=chat.title,
        )

    def _admin_check(self, caller: Caller) -> ChatAdminCheck:
        """getChatMember for ``caller``, called by the command layer only when it needs it."""
        return partial(self._is_admin, int(caller.chat_id), int(caller.user_id))

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except tg.TelegramError as exc:
            log.warning("getChatMember failed for chat %s: %s", chat_id, exc)
            return False
        return member.status in ("creator", "administrator")

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text or not self._for_us(message.text):
            return
        caller = self._caller(update)
        if caller is None:
            return
        if caller.chat_kind != "private" and self.commands.spec_for(message.text) is None:
            return  # in a group, an unknown command is probably another bot's
        check = self._admin_check(caller)
        reply = await self.commands.handle(caller, message.text, chat_admin=check)
        await self._answer(caller.chat_id, reply)

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: its subscriptions follow it to the new id."""
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return
        old_id, new_id = str(message.chat.id), str(message.migrate_to_chat_id)
        await self.commands.migrate_chat(self.name, old_id, new_id)

    def _for_us(self, text: str) -> bool:
        """False for "/cmd@other_bot": commands addressed to another bot in a group."""
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        _, at, target = first.partition("@")
        return not at or target.lower() == (self.bot.username or "").lower()

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except tg.TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc)
        caller = self._caller(update)
        if caller is None:
            return
        check = self._admin_check(caller)
        reply = await self.commands.handle_action(caller, query.data or "", chat_admin=check)
        await self._answer(caller.chat_id, reply)

    async def _answer(self, chat_id: str, reply: Reply) -> None:
        address = ChatAddress(self.name, chat_id)
        try:
            try:
                await self.send(address, reply)
            except BadMarkup:
                await self.send(address, reply, plain=True)
        except DeliveryError as exc:
            log.warning("reply to chat %s failed: %s", chat_id, exc)

    # --- outgoing --------------------------------------------------------------------------

    async def send(self, address: ChatAddress, reply: Reply, *, plain: bool = False) -> SendResult:
        """Send ``reply`` as escaped HTML (or plain text), buttons on the last message.

        A reply with buttons (an alert) or answering a message (a follow-up) is one
        message, cut to fit; any other reply may take several.
        """
        parse_mode = None if plain else ParseMode.HTML
        markup = keyboard(reply)
        chat_id = address.external_id
        answer = _reply_parameters(reply)
        try:
            if reply.attachment is not None:
                return await self._send_attachment(chat_id, reply, parse_mode, markup, answer)
            messages = _texts(reply, plain=plain)
            return await self._send_texts(chat_id, messages, parse_mode, markup, answer)
        except tg.TelegramError as exc:
            raise map_error(exc) from None

    async def _send_texts(
        self,
        chat_id: str,
        messages: Sequence[str],
        parse_mode: str | None,
        markup: InlineKeyboardMarkup | None,
        answer: ReplyParameters | None,
    ) -> SendResult:
        last: Message | None = None
        for index, text in enumerate(messages):
            last = await _unless_reply_gone(
                partial(
                    self.bot.send_message,
                    chat_id,
                    text,
                    parse_mode=parse_mode,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=markup if index == len(messages) - 1 else None,
                ),
                answer if index == 0 else None,
            )
        return SendResult(message_id=str(last.message_id) if last else None)

    async def _send_attachment(
        self,
        chat_id: str,
        reply: Reply,
        parse_mode: str | None,
        markup: InlineKeyboardMarkup | None,
        answer: ReplyParameters | None,
    ) -> SendResult:
        """The file, with the reply's text as its caption if that fits, else after it."""
        attachment = reply.attachment
        assert attachment is not None
        # A file alone is captioned with its own caption (or the summary).
        label = attachment.caption or reply.summary or ""
        words = reply if reply.blocks else replace(reply, blocks=Reply.text(label).blocks)
        plain = parse_mode is None
        caption = ""
        if reply.blocks or label:
            caption = one_text(words) if plain else one_html(words)
        fits = (tg_len(caption) if plain else text_len(caption)) <= CAPTION_LIMIT
        kwargs: dict[str, Any] = {
            "caption": caption if fits and caption else None,
            "parse_mode": parse_mode if fits and caption else None,
            "reply_markup": markup if fits else None,
            "filename": attachment.filename,
        }
        method = self.bot.send_photo if attachment.is_image else self.bot.send_document
        sent = await _unless_reply_gone(partial(method, chat_id, attachment.data, **kwargs), answer)
        if fits:
            return SendResult(message_id=str(sent.message_id))
        messages = _texts(replace(words, attachment=None), plain=plain)
        return await self._send_texts(chat_id, messages, parse_mode, markup, None)


def _texts(reply: Reply, *, plain: bool) -> list[str]:
    """The messages ``reply`` takes: one for an alert or a follow-up, else as many as needed."""
    if reply.buttons or reply.reply_to:
        return [fit_text(reply) if plain else fit_html(reply)]
    return render_text(reply) if plain else render_html(reply)


def _reply_parameters(reply: Reply) -> ReplyParameters | None:
    """Telegram's reply to ``reply.reply_to``, sent even if that message was deleted."""
    target = reply.reply_to
    if not target or not target.isdigit():
        return None
    return ReplyParameters(message_id=int(target), allow_sending_without_reply=True)


async def _unless_reply_gone(
    send: Callable[..., Awaitable[Message]], answer: ReplyParameters | None
) -> Message:
    """``send`` as a reply; should Telegram still refuse the reply, sent as a new message."""
    try:
        return await send(reply_parameters=answer)
    except tg.BadRequest as exc:
        # allow_sending_without_reply covers a deleted message; this is the belt to it.
        if answer is None or "replied" not in exc.message.lower():
            raise
    return await send(reply_parameters=None)


def _request(timeout: float, *, pool: int) -> HTTPXRequest:
    return HTTPXRequest(
        connection_pool_size=pool,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=min(timeout, 10.0),
        pool_timeout=min(timeout, 10.0),
    )


def _polling_error(exc: tg.TelegramError) -> None:
    log.warning("Telegram polling error: %s", exc)
