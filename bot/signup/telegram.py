"""Telegram sign-up: commands and inline keyboards over python-telegram-bot.

Updates arrive by long polling (``getUpdates``, the default) or, with
``[channels.telegram] webhook = true`` and ``webhook_url``, by webhook: then
:func:`bot.web.create_app` checks ``X-Telegram-Bot-Api-Secret-Token`` against
``TELEGRAM_WEBHOOK_SECRET`` and passes the update to :meth:`TelegramSignup.handle_json`.
Either way :meth:`TelegramSignup.handle_update` answers it.

Only private chats are served; the subscriber's id is the chat id (which is what
the dispatcher sends to). Nothing else about the user is stored. At start-up the
command menu is set in every language (:func:`bot.signup.menus.set_telegram_commands`).
Besides sign-up, a shared location (``Message.location``), the menu's ``/latest`` and
``/shelters``, ``/area`` and the buttons of locations and safety checks are answered by
:mod:`bot.signup.residents`, which also rate-limits every chat; ``/settings`` and the
other menu commands go to :mod:`bot.signup.actions`.

Errors while polling::

    RetryAfter                       wait as told, poll again
    NetworkError, TimedOut, Conflict back off (1 s doubling to 60 s), poll again
    InvalidToken                     raised: the token is wrong, nothing will work
    an update's handler fails        logged with the update id, the next update goes on
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.errors import ConfigError, ValidationError
from bot.service import Service
from bot.signup.actions import MenuConversation
from bot.signup.common import COMMANDS, Reply
from bot.signup.residents import RESIDENT_COMMANDS, Residents
from channels.telegram import retry_after_seconds

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def command_label(language: str, name: str) -> str:
    return f"/{name}"


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    cols = max(1, reply.columns)
    buttons = [InlineKeyboardButton(b.label, callback_data=b.data) for b in reply.buttons]
    return InlineKeyboardMarkup([buttons[i:i + cols] for i in range(0, len(buttons), cols)])


class TelegramSignup:
    """Answers Telegram updates. ``bot`` may be shared with the channel; if it is
    not given one is built from ``TELEGRAM_BOT_TOKEN``/``TELEGRAM_API_BASE_URL``
    and closed by :meth:`close`."""

    def __init__(self, svc: Service, bot: Bot, *, webhook_url: str | None = None,
                 webhook_secret: str | None = None, poll_timeout: int = 30,
                 owns_bot: bool = False) -> None:
        if webhook_url and not (webhook_secret and _SECRET_RE.match(webhook_secret)):
            raise ConfigError("Telegram webhook mode needs TELEGRAM_WEBHOOK_SECRET (1-256 "
                              "characters A-Z, a-z, 0-9, _ and -) in the environment",
                              key="channels.telegram.webhook")
        self.svc = svc
        self.conversation = MenuConversation(svc, "telegram", command_label=command_label)
        self.residents = Residents(svc, self.conversation)
        self.bot = bot
        self.webhook_url = webhook_url
        self._secret = (webhook_secret or "").encode("ascii")
        self.poll_timeout = poll_timeout
        self._owns_bot = owns_bot
        self._started = False

    @classmethod
    def from_service(cls, svc: Service, *, environ: Mapping[str, str] | None = None,
                     poll_timeout: int = 30) -> TelegramSignup:
        env = os.environ if environ is None else environ
        token = svc.settings.secret("TELEGRAM_BOT_TOKEN").get()
        if not token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set in the environment",
                              key="channels.telegram.enabled")
        base = svc.settings.base_urls["telegram"].rstrip("/")
        bot = Bot(token, base_url=f"{base}/bot",
                  request=HTTPXRequest(connection_pool_size=8),
                  get_updates_request=HTTPXRequest(connection_pool_size=1,
                                                   read_timeout=poll_timeout + 10))
        options = svc.config.channels.get("telegram")
        opts: Mapping[str, Any] = options.options if options is not None else {}
        webhook_url = str(opts.get("webhook_url") or "") if opts.get("webhook") else None
        if opts.get("webhook") and not webhook_url:
            raise ConfigError("webhook = true needs webhook_url (the public https URL of "
                              "/webhooks/telegram)", key="channels.telegram.webhook_url",
                              path=svc.config.path)
        return cls(svc, bot, webhook_url=webhook_url,
                   webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET"),
                   poll_timeout=poll_timeout, owns_bot=True)

    def __repr__(self) -> str:  # never the token or the secret
        return f"TelegramSignup(webhook={bool(self.webhook_url)})"

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url)

    def check_secret(self, token: str | None) -> bool:
        """The webhook request carries our secret token (constant-time comparison)."""
        if not self._secret or not token:
            return False
        return hmac.compare_digest(token.encode("utf-8", "replace"), self._secret)

    async def start(self) -> None:
        if not self._started:
            try:
                await self.bot.initialize()
            except InvalidToken:
                raise ConfigError("the Telegram bot token was rejected",
                                  key="TELEGRAM_BOT_TOKEN") from None
            self._started = True

    async def close(self) -> None:
        if self._owns_bot:
            await self.bot.shutdown()
        self._started = False

    async def set_commands(self) -> None:
        """The command menu in every language (setMyCommands); a failure is logged
        and sign-up goes on without it."""
        from bot.signup.menus import set_telegram_commands

        try:
            calls = await set_telegram_commands(self.bot, self.svc.config,
                                                self.conversation.catalogs)
        except TelegramError as exc:
            log.warning("telegram: the command menu could not be set: %s: %s",
                        type(exc).__name__, exc)
            return
        log.info("telegram: command menu set (%d languages)", calls)

    # ------------------------------------------------------------ updates

    async def handle_json(self, data: Mapping[str, Any]) -> None:
        """An update as JSON (webhook)."""
        await self.start()
        try:
            update = Update.de_json(dict(data), self.bot)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValidationError(f"unreadable update ({type(exc).__name__})") from None
        if update is None:
            raise ValidationError("empty update")
        await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        chat = update.effective_chat
        if chat is not None and not self.residents.allow(str(chat.id)):
            return  # over the chat's rate: dropped without a reply
        if update.callback_query is not None:
            await self._callback(update)
        elif update.message is not None and update.message.location is not None:
            await self._location(update)
        elif update.message is not None and update.message.text is not None:
            await self._message(update)
        else:
            log.info("telegram: ignored update %d of an unhandled type", update.update_id)

    async def _message(self, update: Update) -> None:
        msg = update.message
        assert msg is not None and msg.text is not None
        if msg.chat.type != "private":
            log.info("telegram: ignored a message from a %s chat", msg.chat.type)
            return
        user = str(msg.chat.id)
        hint = msg.from_user.language_code if msg.from_user else None
        conv = self.conversation
        m = _COMMAND_RE.match(msg.text.strip())
        name = m.group(1).lower() if m else None
        residents = self.residents
        if name == "start":
            payload = (m.group(2) or "").strip() if m else ""
            await asyncio.to_thread(residents.audit, "chat_command", command="start")
            replies = await asyncio.to_thread(conv.start, user, payload or None, hint)
        elif name is not None and (name in COMMANDS or name in RESIDENT_COMMANDS
                                   or conv.is_action(name)):
            replies = await asyncio.to_thread(residents.command, user, name, hint)
        else:
            typed = None if name else await asyncio.to_thread(residents.text, user,
                                                               msg.text, hint)
            replies = typed if typed is not None else await asyncio.to_thread(
                conv.unknown, user, hint)
        await self._send(user, replies, None)

    async def _location(self, update: Update) -> None:
        """A shared location (Message.location): answered, never stored."""
        msg = update.message
        assert msg is not None and msg.location is not None
        if msg.chat.type != "private":
            return
        user = str(msg.chat.id)
        hint = msg.from_user.language_code if msg.from_user else None
        replies = await asyncio.to_thread(self.residents.location, user,
                                          msg.location.latitude, msg.location.longitude, hint)
        await self._send(user, replies, None)

    async def _callback(self, update: Update) -> None:
        cq = update.callback_query
        assert cq is not None
        if (cq.data or "").startswith("op:"):
            await self._operator_press(update)
            return
        message = cq.message
        chat_id = message.chat.id if message is not None else cq.from_user.id
        if message is not None and message.chat.type != "private":
            return
        user = str(chat_id)
        try:
            await self.bot.answer_callback_query(cq.id)
        except TelegramError as exc:
            log.warning("telegram: could not answer a button tap: %s", type(exc).__name__)
        data = cq.data or ""
        hint = cq.from_user.language_code if cq.from_user else None
        ours = await asyncio.to_thread(self.residents.choose, user, data, hint)
        replies = ours if ours is not None else await asyncio.to_thread(
            self.conversation.choose, user, data)
        await self._send(user, replies, message.message_id if message is not None else None)

    async def _operator_press(self, update: Update) -> None:
        """Approve or Reject pressed in the operators' chat (see :mod:`bot.operators`)."""
        from bot.operators import press

        cq = update.callback_query
        assert cq is not None
        message = cq.message
        chat = str(message.chat.id) if message is not None else ""
        outcome = await asyncio.to_thread(press, self.svc, f"telegram:{cq.from_user.id}",
                                          chat, cq.data or "")
        try:
            await self.bot.answer_callback_query(cq.id, text=outcome[:200])
            if message is not None and not outcome.startswith("refused"):
                text = getattr(message, "text", None) or ""
                await self.bot.edit_message_text(f"{text}\n\n→ {outcome}"[:4096],
                                                 chat_id=message.chat.id,
                                                 message_id=message.message_id)
        except TelegramError as exc:
            log.warning("operators' chat: answer failed: %s", type(exc).__name__)

    async def _send(self, chat_id: str, replies: Sequence[Reply],
                    tapped_message_id: int | None) -> None:
        for reply in replies:
            markup = keyboard(reply)
            try:
                if reply.replace and tapped_message_id is not None:
                    await self.bot.edit_message_text(reply.text, chat_id=chat_id,
                                                     message_id=tapped_message_id,
                                                     reply_markup=markup)
                else:
                    await self.bot.send_message(chat_id, reply.text, reply_markup=markup)
            except Forbidden:
                log.info("telegram: a user blocked the bot before the reply arrived")
                return
            except TelegramError as exc:
                log.warning("telegram: reply failed: %s: %s", type(exc).__name__, exc)
                return

    # ------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event) -> None:
        """Poll for updates (or register the webhook) until ``stop`` is set. Telegram
        out of reach at start-up (refused, timing out, 5xx) is retried with backoff;
        only a rejected token ends the run."""
        try:
            if not await self._set_up(stop):
                return
            if self.webhook_url:
                log.info("telegram sign-up: webhook registered")
                await stop.wait()
                return
            log.info("telegram sign-up: polling for updates")
            await self._poll(stop)
        finally:
            await self.close()

    async def _set_up(self, stop: asyncio.Event) -> bool:
        """getMe, the command menu, and the webhook set or deleted; False if ``stop``
        was set before Telegram could be reached."""
        backoff = 1.0
        while not stop.is_set():
            try:
                await self.start()
                if self.webhook_url:
                    await self.bot.set_webhook(
                        self.webhook_url, secret_token=self._secret.decode(),
                        allowed_updates=list(ALLOWED_UPDATES))
                else:
                    await self.bot.delete_webhook()
            except TelegramError as exc:
                backoff = await self._retry_later(exc, stop, backoff, "start-up")
                continue
            await self.set_commands()
            return True
        return False

    async def _retry_later(self, exc: TelegramError, stop: asyncio.Event, backoff: float,
                           what: str) -> float:
        """Wait out a failed call to Telegram: a rejected token is a ConfigError, a 429
        waits its retry_after, anything else ``backoff`` seconds. Returns the next
        backoff."""
        if isinstance(exc, InvalidToken):
            raise ConfigError("the Telegram bot token was rejected",
                              key="TELEGRAM_BOT_TOKEN") from None
        if isinstance(exc, RetryAfter):
            await self._wait(stop, retry_after_seconds(exc))
            return backoff
        log.warning("telegram sign-up: %s failed (%s); retrying in %.0f s", what,
                    type(exc).__name__, backoff)
        await self._wait(stop, backoff)
        return min(backoff * 2, 60.0)

    async def _poll(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        backoff = 1.0
        while not stop.is_set():
            try:
                updates = await self._next_batch(offset, stop)
            except TelegramError as exc:  # Conflict (another poller) included
                backoff = await self._retry_later(exc, stop, backoff, "getUpdates")
                continue
            if updates is None:
                break
            backoff = 1.0
            for update in updates:
                offset = update.update_id + 1
                try:
                    await self.handle_update(update)
                except Exception:
                    log.exception("telegram sign-up: update %d failed", update.update_id)
        if offset is not None:  # confirm what we handled, so a restart does not repeat it
            with contextlib.suppress(TelegramError):
                await self.bot.get_updates(offset=offset, limit=1, timeout=0)

    async def _next_batch(self, offset: int | None, stop: asyncio.Event
                          ) -> tuple[Update, ...] | None:
        """The next updates, or None when ``stop`` was set while waiting."""
        fetch = asyncio.ensure_future(self.bot.get_updates(
            offset=offset, timeout=self.poll_timeout, allowed_updates=list(ALLOWED_UPDATES),
            read_timeout=self.poll_timeout + 10))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not fetch.done():
                fetch.cancel()
        if not fetch.done() or fetch.cancelled():
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return fetch.result()

    @staticmethod
    async def _wait(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
