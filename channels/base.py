"""The interface every chat platform implements, and the errors it raises.

A channel subclass does the I/O in one method, :meth:`Channel._send`, over the
platform's official SDK; :meth:`Channel.send` calls it and turns whatever the
SDK raised into one of the three kinds of error below, so that the dispatcher
never sees an SDK exception::

    ChannelError
    ├── RetryLater          try again later; ``retry_after`` seconds if the platform said
    ├── RecipientError      permanent for these recipients (blocked the bot, unknown user)
    └── ChannelFatal        permanent for the whole channel (token rejected, quota spent)

Limits are data on the class (:class:`Limits`): the renderer reads the text
limit and how length is counted, the dispatcher reads batch sizes and rates.
Nothing here knows about alerts or the database.
"""

from __future__ import annotations

import abc
import enum
import re
import unicodedata
from dataclasses import dataclass
from typing import ClassVar


class ChannelError(Exception):
    """Base of the three kinds of channel error."""

    def __init__(self, message: str, *, channel: str = "") -> None:
        super().__init__(message)
        self.channel = channel


class RetryLater(ChannelError):
    def __init__(
        self, message: str, *, channel: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, channel=channel)
        self.retry_after = retry_after


class RecipientError(ChannelError):
    """The platform refused these recipients for good (blocked, left, unknown)."""

    def __init__(
        self, message: str, *, channel: str = "", recipients: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, channel=channel)
        self.recipients = recipients


class ChannelFatal(ChannelError):
    """The channel cannot send at all until an operator acts (bad token, quota)."""


class LengthUnit(enum.StrEnum):
    CHARS = "chars"  # Unicode code points (Telegram counts UTF-16 but BMP text is the same)
    UTF16 = "utf16"  # UTF-16 code units (LINE)
    WEIGHTED = "weighted"  # twitter-text weighted length (X)


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    text_limit: int
    length_unit: LengthUnit
    recipients_per_request: int
    messages_per_request: int
    requests_per_second: float
    per_recipient_per_second: float | None = None
    posts_per_day: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OutgoingMessage:
    """What the dispatcher hands a channel: parts already fit ``limits.text_limit``."""

    recipients: tuple[str, ...]
    parts: tuple[str, ...]
    idempotency_key: str
    reply_to: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SendResult:
    """``message_ids`` in order of the parts; the first is the one to reply to later."""

    message_ids: tuple[str, ...]
    duplicate: bool = False

    @property
    def provider_message_id(self) -> str | None:
        return self.message_ids[0] if self.message_ids else None


class Channel(abc.ABC):
    name: ClassVar[str]
    limits: ClassVar[Limits]

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections; called once before the first send."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    async def send(self, message: OutgoingMessage) -> SendResult:
        if not message.recipients:
            raise ValueError("a message needs at least one recipient")
        if len(message.recipients) > self.limits.recipients_per_request:
            raise ValueError(
                f"{self.name}: {len(message.recipients)} recipients in one request, "
                f"limit is {self.limits.recipients_per_request}"
            )
        try:
            return await self._send(message)
        except ChannelError:
            raise
        except Exception as exc:
            raise self.map_error(exc, message) from exc

    @abc.abstractmethod
    async def _send(self, message: OutgoingMessage) -> SendResult:
        """Do the platform call(s); may raise SDK exceptions freely."""

    def map_error(self, exc: Exception, message: OutgoingMessage) -> ChannelError:
        """Turn an SDK exception into one of ours. Subclasses refine this."""
        return RetryLater(f"{type(exc).__name__}: {exc}", channel=self.name)

    def measure(self, text: str) -> int:
        return measure(text, self.limits.length_unit)


# ---------------------------------------------------------------- text length

_URL_RE = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_URL_WEIGHT = 23  # every URL counts as a t.co link


def _char_weight(cp: int) -> int:
    """twitter-text v3 config: these ranges weigh 1, everything else 2."""
    if (
        cp <= 0x10FF
        or 0x2000 <= cp <= 0x200D
        or 0x2010 <= cp <= 0x201F
        or 0x2032 <= cp <= 0x2037
    ):
        return 1
    return 2


def weighted_length(text: str) -> int:
    """Length as X counts it (twitter-text v3): CJK, kana, Hangul and emoji weigh 2,
    a URL weighs 23, text is NFC-normalised first."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for m in _URL_RE.finditer(text):
        total += sum(_char_weight(ord(c)) for c in text[pos : m.start()])
        total += _URL_WEIGHT
        pos = m.end()
    total += sum(_char_weight(ord(c)) for c in text[pos:])
    return total


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def measure(text: str, unit: LengthUnit) -> int:
    if unit is LengthUnit.UTF16:
        return utf16_length(text)
    if unit is LengthUnit.WEIGHTED:
        return weighted_length(text)
    return utf16_length(text)
