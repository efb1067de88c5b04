"""Telegram over python-telegram-bot.

One message per chat; a message in several parts is sent as several messages,
the first replying to ``reply_to`` when there is one. Text goes out without a
parse mode, so that operator text can never inject markup.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import warnings
from typing import ClassVar

from telegram import Bot, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest

from channels.base import (
    Channel,
    ChannelError,
    ChannelFatal,
    LengthUnit,
    Limits,
    OutgoingMessage,
    RecipientError,
    RetryLater,
    SendResult,
)
from channels.telegram_request import AiohttpRequest

# Opt in to python-telegram-bot's timedelta durations (its next major version's default).
# Without it PTB warns while *building* RetryAfter, and where warnings are errors (our
# tests) the 429 surfaces as that warning and loses retry_after. retry_after_seconds()
# handles both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")

_GONE_MARKERS = ("chat not found", "user not found", "user is deactivated", "peer_id_invalid")


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


class TelegramChannel(Channel):
    name: ClassVar[str] = "telegram"
    limits: ClassVar[Limits] = Limits(
        text_limit=4096,
        length_unit=LengthUnit.UTF16,
        recipients_per_request=1,
        messages_per_request=1,
        requests_per_second=30.0,
        per_recipient_per_second=1.0,
    )

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.telegram.org",
        messages_per_second: float | None = None,
        pool_size: int = 128,
        timeout: float = 10.0,
        request_backend: str = "aiohttp",
    ) -> None:
        """``request_backend``: "aiohttp" (fast, see channels/telegram_request.py) or
        "httpx" (python-telegram-bot's default)."""
        if not token:
            raise ChannelFatal("TELEGRAM_BOT_TOKEN is empty", channel=self.name)
        request: BaseRequest
        if request_backend == "aiohttp":
            request = AiohttpRequest(connection_pool_size=pool_size, timeout=timeout)
        elif request_backend == "httpx":
            request = HTTPXRequest(
                connection_pool_size=pool_size,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
            )
        else:
            raise ValueError(f"unknown request backend {request_backend!r}")
        self.bot = Bot(token, base_url=f"{base_url.rstrip('/')}/bot", request=request,
                       get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=40))
        if messages_per_second is not None:
            # Instance-level override (e.g. paid broadcast at 1000/s); through vars()
            # because mypy forbids assigning the ClassVar on an instance.
            vars(self)["limits"] = dataclasses.replace(
                type(self).limits, requests_per_second=float(messages_per_second))
        self._started = False

    async def start(self) -> None:
        if not self._started:
            try:
                await self.bot.initialize()
            except TelegramError as exc:
                if isinstance(exc, InvalidToken):
                    # PTB's message quotes the token; do not chain it into our traceback.
                    raise self.map_error(exc, None) from None
                raise self.map_error(exc, None) from exc
            self._started = True

    async def close(self) -> None:
        # Also after a failed start: initialize() opens the HTTP clients before getMe.
        await self.bot.shutdown()
        self._started = False

    async def _send(self, message: OutgoingMessage) -> SendResult:
        if not self._started:
            await self.start()
        chat_id = message.recipients[0]
        ids: list[str] = []
        reply_to = message.reply_to
        for part in message.parts:
            sent = await self.bot.send_message(
                chat_id=chat_id,
                text=part,
                reply_parameters=ReplyParameters(
                    message_id=int(reply_to), allow_sending_without_reply=True
                ) if reply_to else None,
                disable_web_page_preview=True,
            )
            ids.append(str(sent.message_id))
            reply_to = None
        return SendResult(message_ids=tuple(ids))

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        try:
            await self.bot.edit_message_text(chat_id=chat_id, message_id=int(message_id),
                                             text=text)
        except TelegramError as exc:
            raise self.map_error(exc, None) from exc

    def map_error(self, exc: Exception, message: OutgoingMessage | None) -> ChannelError:
        recipients = message.recipients if message is not None else ()
        if isinstance(exc, RetryAfter):
            return RetryLater(str(exc), channel=self.name, retry_after=retry_after_seconds(exc))
        if isinstance(exc, InvalidToken):
            return ChannelFatal("the bot token was rejected (401)", channel=self.name)
        if isinstance(exc, Forbidden):
            return RecipientError(str(exc), channel=self.name, recipients=recipients)
        if isinstance(exc, ChatMigrated):
            return RecipientError(f"chat moved to {exc.new_chat_id}", channel=self.name,
                                  recipients=recipients)
        if isinstance(exc, BadRequest):
            text = str(exc).lower()
            if any(m in text for m in _GONE_MARKERS):
                return RecipientError(str(exc), channel=self.name, recipients=recipients)
            # Any other 400 is our fault (too long, bad markup): retrying will not help.
            return RecipientError(f"bad request: {exc}", channel=self.name,
                                  recipients=recipients)
        if isinstance(exc, TimedOut | NetworkError):
            return RetryLater(f"{type(exc).__name__}: {exc}", channel=self.name)
        return RetryLater(f"{type(exc).__name__}: {exc}", channel=self.name)
