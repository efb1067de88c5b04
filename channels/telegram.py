"""Telegram over python-telegram-bot.

One message per chat; a message in several parts is sent as several messages,
the first replying to ``reply_to`` when there is one. Text goes out without a
parse mode, so that operator text can never inject markup.

Pacing: the bot-wide rate (about 30 messages/s) is the spec's
``requests_per_second``, and each part is one request
(:meth:`~channels.base.Channel.requests_for`). Paid broadcasts: with
``paid_broadcast = true`` the messages of the alerts the city marks worth it
(``paid_broadcast_kinds``, ``paid_broadcast_min_severity``; every alert when
neither is set) go out with ``allow_paid_broadcast`` (Bot API: up to 1000
messages/s, ignoring the broadcasting limits, for 0.1 Telegram Stars per message
from the bot's balance), paced at ``limits.paid_requests_per_second``
(:class:`PaidBroadcast`); the other alerts keep the free rate. Telegram also asks for about one
message per second per chat but allows short bursts; the fan-out gives each
chat one delivery per alert, so a chat only ever sees one message's parts in a
row, which is such a burst. That per-chat figure is therefore not declared as a
limit the service would pretend to keep; a chat that is answered 429 is retried
after the ``retry_after`` Telegram gives.

How Telegram's answers map to our errors (see :mod:`channels.base`)::

    429 (RetryAfter)                         -> RetryLater with retry_after
    401/404 (InvalidToken)                   -> ChannelFatal
    403 (blocked, kicked, deactivated)       -> RecipientError
    400 about the chat ("chat not found", "user is deactivated", no rights in
        a group, PEER_ID_INVALID), chat migrated
                                             -> RecipientError
    any other 400 ("message is too long", "can't parse entities" ...)
                                             -> MessageRejected
    timeouts, connection errors              -> Unreachable (the channel pauses)
    5xx                                      -> RetryLater
    anything else                            -> ChannelFatal, traceback logged
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from channels.base import (
    DEFAULT_TIMEOUT,
    BadOption,
    Channel,
    ChannelEnvironment,
    ChannelError,
    ChannelFatal,
    ChannelSpec,
    FanoutMode,
    LengthUnit,
    Limits,
    MessageRejected,
    OutgoingMessage,
    PartsInterrupted,
    RecipientError,
    RetryLater,
    SendResult,
    positive_number,
    unreachable,
    with_rate,
)

if TYPE_CHECKING:
    from telegram.error import RetryAfter

# Opt in to python-telegram-bot's timedelta durations (its next major version's default).
# Without it PTB warns while *building* RetryAfter, and where warnings are errors (our
# tests) the 429 surfaces as that warning and loses retry_after. retry_after_seconds()
# handles both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")

PAID_BROADCAST_RATE = 1000.0  # messages/s with allow_paid_broadcast (Bot API)
STARS_PER_PAID_MESSAGE = 0.1  # the fee per message sent with allow_paid_broadcast
# CAP severities in order, as paid_broadcast_min_severity names them
SEVERITIES = ("unknown", "minor", "moderate", "severe", "extreme")
# A 400 that is about the chat, not the message: that recipient is gone for good.
_RECIPIENT_MARKERS = (
    "chat not found", "user not found", "user is deactivated", "peer_id_invalid",
    "bot was blocked", "bot was kicked", "bot is not a member", "group chat was deactivated",
    "chat_write_forbidden", "chat_restricted", "have no rights to send",
    "not enough rights to send", "need administrator rights",
)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PaidBroadcast:
    """Which alerts the bot pays to send faster (``[channels.telegram]``):
    ``enabled`` (``paid_broadcast``), then ``kinds`` (``paid_broadcast_kinds``) or
    ``min_severity`` (``paid_broadcast_min_severity``, an index in
    :data:`SEVERITIES`); with neither, every alert."""

    enabled: bool = False
    kinds: frozenset[str] = frozenset()
    min_severity: int | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PaidBroadcast:
        paid = options.get("paid_broadcast", False)
        if not isinstance(paid, bool):
            raise BadOption("paid_broadcast", f"must be true or false, got {paid!r}")
        kinds = options.get("paid_broadcast_kinds", [])
        if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
            raise BadOption("paid_broadcast_kinds",
                            f"must be a list of alert kinds, got {kinds!r}")
        sev = options.get("paid_broadcast_min_severity")
        if sev is not None and sev not in SEVERITIES:
            raise BadOption("paid_broadcast_min_severity",
                            f"must be one of {', '.join(SEVERITIES)}, got {sev!r}")
        return cls(enabled=paid, kinds=frozenset(kinds),
                   min_severity=None if sev is None else SEVERITIES.index(sev))

    def covers(self, kind: str, severity: int) -> bool:
        if not self.enabled:
            return False
        if not self.kinds and self.min_severity is None:
            return True
        return kind in self.kinds or (self.min_severity is not None
                                      and severity >= self.min_severity)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


class TelegramChannel(Channel):
    spec: ClassVar[ChannelSpec] = ChannelSpec(
        name="telegram",
        limits=Limits(text_limit=4096, length_unit=LengthUnit.UTF16, recipients_per_request=1,
                      parts_per_request=1, max_parts=None, requests_per_second=30.0,
                      chat_interval=1.0),
        fanout=FanoutMode.PER_RECIPIENT,
        secret_vars=("TELEGRAM_BOT_TOKEN",),
        base_url="https://api.telegram.org",
        base_url_var="TELEGRAM_API_BASE_URL",
        user_id_pattern=r"-?[1-9][0-9]{0,19}",
        user_id_format="a chat id: digits, with '-' first for a group",
    )

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        limits: Limits | None = None,
        pool_size: int = 128,
        timeout: float = DEFAULT_TIMEOUT,
        request_backend: str = "aiohttp",
        paid: PaidBroadcast | None = None,
    ) -> None:
        """``request_backend``: "aiohttp" (fast, see channels/telegram_request.py) or
        "httpx" (python-telegram-bot's default). ``paid``: which alerts go out as
        paid broadcasts (none by default)."""
        super().__init__(limits=limits)
        self.paid = paid or PaidBroadcast()
        if not token:
            raise ChannelFatal("TELEGRAM_BOT_TOKEN is empty", channel=self.name)
        from telegram import Bot
        from telegram.request import BaseRequest, HTTPXRequest

        from channels.telegram_request import AiohttpRequest

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
        base = (base_url or self.spec.base_url).rstrip("/")
        self.bot = Bot(token, base_url=f"{base}/bot", request=request,
                       get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=40))
        self._started = False

    @classmethod
    def limits_for(cls, options: Mapping[str, Any]) -> Limits:
        """``messages_per_second`` paces the bot; with ``paid_broadcast = true`` the
        paid alerts are paced at ``paid_broadcast_rate`` (default 1000/s)."""
        rate = positive_number(options, "messages_per_second")
        limits = with_rate(cls.spec.limits, rate)
        if PaidBroadcast.from_options(options).enabled:
            paid_rate = positive_number(options, "paid_broadcast_rate") or PAID_BROADCAST_RATE
            limits = dataclasses.replace(limits, paid_requests_per_second=float(paid_rate))
        interval = positive_number(options, "chat_interval_seconds")
        return limits if interval is None else dataclasses.replace(
            limits, chat_interval=float(interval))

    @classmethod
    def from_settings(cls, settings: ChannelEnvironment, options: Mapping[str, Any]) -> Self:
        (token,) = cls.read_secrets(settings)
        return cls(token, base_url=settings.base_url(cls.spec.name),
                   limits=cls.limits_for(options), timeout=cls.timeout_for(options),
                   paid=PaidBroadcast.from_options(options))

    paid_fee: ClassVar[tuple[float, str]] = (STARS_PER_PAID_MESSAGE, "Stars")

    @classmethod
    def pays_for(cls, options: Mapping[str, Any], kind: str, severity: int) -> bool:
        return cls.limits_for(options).paid_requests_per_second is not None and \
            PaidBroadcast.from_options(options).covers(kind, severity)

    def paid_for(self, kind: str, severity: int) -> bool:
        return self.limits.paid_requests_per_second is not None and \
            self.paid.covers(kind, severity)

    async def start(self) -> None:
        if not self._started:
            from telegram.error import InvalidToken, TelegramError

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
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

        if not self._started:
            await self.start()
        chat_id = message.recipients[0]
        ids: list[str] = []
        reply_to = message.reply_to
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]
                                       for label, data in message.buttons]) \
            if message.buttons else None
        for i, part in enumerate(message.parts):
            if i:  # the parts of one message keep to the per-chat pace
                await asyncio.sleep(self.limits.chat_interval)
            try:
                sent = await self.bot.send_message(
                    chat_id=chat_id,
                    text=part,
                    reply_parameters=ReplyParameters(
                        message_id=int(reply_to), allow_sending_without_reply=True
                    ) if reply_to else None,
                    disable_web_page_preview=True,
                    reply_markup=markup if i == len(message.parts) - 1 else None,
                    allow_paid_broadcast=True if message.paid else None,
                )
            except Exception as exc:
                if ids:  # a retry resumes after the parts that went out
                    raise PartsInterrupted(exc, tuple(ids)) from exc
                raise
            ids.append(str(sent.message_id))
            reply_to = None
        return SendResult(message_ids=tuple(ids))

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        try:
            await self.bot.edit_message_text(chat_id=chat_id, message_id=int(message_id),
                                             text=text)
        except Exception as exc:
            raise self.map_error(exc, None) from exc

    def map_error(self, exc: Exception, message: OutgoingMessage | None) -> ChannelError:
        from telegram.error import (
            BadRequest,
            ChatMigrated,
            Forbidden,
            InvalidToken,
            NetworkError,
            RetryAfter,
        )

        recipients = message.recipients if message is not None else ()
        if isinstance(exc, RetryAfter):
            return RetryLater(str(exc), channel=self.name, retry_after=retry_after_seconds(exc),
                              rate_limited=True)
        if isinstance(exc, InvalidToken):
            return ChannelFatal("the bot token was rejected (401)", channel=self.name)
        if isinstance(exc, Forbidden):
            return RecipientError(str(exc), channel=self.name, recipients=recipients)
        if isinstance(exc, ChatMigrated):
            return RecipientError(f"chat moved to {exc.new_chat_id}", channel=self.name,
                                  recipients=recipients)
        if isinstance(exc, BadRequest):
            text = str(exc).lower()
            if any(m in text for m in _RECIPIENT_MARKERS):
                return RecipientError(str(exc), channel=self.name, recipients=recipients)
            # Any other 400 is about the message (too long, bad entities): our fault,
            # and retrying will not help; the chat is fine.
            return MessageRejected(str(exc), channel=self.name)
        net = unreachable(exc, self.name)
        if net is not None:  # refused, DNS, TLS, timeouts: the channel pauses
            return net
        if isinstance(exc, NetworkError):  # 5xx
            return RetryLater(f"{type(exc).__name__}: {exc}", channel=self.name)
        return super().map_error(exc, message)
