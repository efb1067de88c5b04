"""The interface every chat platform implements, its facts, and the errors it raises.

A channel subclass does the I/O in one method, :meth:`Channel._send`, over the
platform's official SDK; :meth:`Channel.send` calls it and turns whatever the
SDK raised into one of the four kinds of error below, so that the dispatcher
never sees an SDK exception::

    ChannelError
    ├── RetryLater          try again later; ``retry_after`` seconds if the platform said
    │   └── Unreachable     the platform could not be reached at all (refused, DNS, TLS,
    │                       timeout): the channel pauses, the row keeps its attempts;
    │                       ``unknown`` when the request may have arrived (a read timeout)
    ├── RecipientError      permanent for these recipients (blocked the bot, unknown user)
    ├── MessageRejected     permanent for this message, and our fault (too long, bad markup,
    │                       invalid reply); the recipients are fine, the channel goes on
    └── ChannelFatal        permanent for the whole channel (token rejected, quota spent,
                            an exception the SDK did not type: its traceback is logged)

A platform's facts are declared once, on its class, as a :class:`ChannelSpec`:
its name, published :class:`Limits`, how recipients are grouped
(:class:`FanoutMode`), the environment variables holding its secrets, its API
base URL with the variable that overrides it, and the form of its user ids
(``check_user_id``). ``cls.limits_for(options)`` applies a deployment's
overrides from ``[channels.<name>]`` (e.g. Telegram's ``messages_per_second``),
and :meth:`Channel.from_settings` builds an instance with those effective
limits; the planner reads the same ``limits_for``, so the rate an operator sees
in a plan is the rate the pacer keeps. Channel modules import their SDK only
when they talk to the platform, so reading specs (every ``bousai`` command
does) costs no SDK import. :mod:`channels.registry` maps names to classes.
Nothing here knows about alerts or the database.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

from channels.lengths import LengthUnit, measure

log = logging.getLogger(__name__)


class ChannelError(Exception):
    """Base of the four kinds of channel error."""

    def __init__(self, message: str, *, channel: str = "") -> None:
        super().__init__(message)
        self.channel = channel
        # ids of the parts that went out before the error (a retry resumes after them)
        self.sent_ids: tuple[str, ...] = ()


class PartsInterrupted(Exception):
    """Raised by :meth:`Channel._send` when a message of several requests failed after
    some parts went out: ``cause`` is the SDK's exception, ``sent_ids`` the parts sent.
    :meth:`Channel.send` maps the cause and hands the ids on as ``sent_ids``."""

    def __init__(self, cause: Exception, sent_ids: tuple[str, ...]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.sent_ids = sent_ids


class RetryLater(ChannelError):
    """Not now (5xx, 429, ...): try again after ``retry_after`` or a back-off.
    ``rate_limited``: the platform said too many requests (429; counted by
    :mod:`bot.metrics`)."""

    def __init__(
        self, message: str, *, channel: str = "", retry_after: float | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(message, channel=channel)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class Unreachable(RetryLater):
    """The platform could not be reached: connection refused or reset, a name that does
    not resolve, a TLS failure, a timeout. Not this message's fault nor its
    recipients': the dispatcher pauses the whole channel instead of spending the row's
    attempts. ``unknown``: the request may have reached the platform before the
    connection failed (the answer timed out), so sending again may duplicate it."""

    def __init__(self, message: str, *, channel: str = "", unknown: bool = False) -> None:
        super().__init__(message, channel=channel)
        self.unknown = unknown


class RecipientError(ChannelError):
    """The platform refused these recipients for good (blocked, left, unknown)."""

    def __init__(
        self, message: str, *, channel: str = "", recipients: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, channel=channel)
        self.recipients = recipients


class MessageRejected(ChannelError):
    """The platform refused this message as it is (too long, unparsable entities, an
    invalid reply, too many parts). Sending it again cannot help and nobody is to
    blame but us: the row fails, no recipient is touched, the channel goes on."""


class ChannelFatal(ChannelError):
    """The channel cannot send at all until an operator acts (bad token, quota)."""


class BadOption(ValueError):
    """A ``[channels.<name>]`` setting a channel cannot use; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class FanoutMode(enum.StrEnum):
    """How one alert's recipients become delivery rows on a channel."""

    PER_RECIPIENT = "per_recipient"  # one row per recipient (a Telegram chat)
    BATCHED = "batched"  # up to recipients_per_request users of one language (LINE multicast)
    BROADCAST = "broadcast"  # one post per language on the account's own timeline (X)


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """What a platform allows.

    ``parts_per_request``: text parts one API request carries (LINE 5 message
    objects; Telegram and X one). ``max_parts``: the most parts one
    :class:`OutgoingMessage` may have (LINE 5: one request; X 25: a thread;
    ``None``: no limit). ``requests_per_second``: the pace of API requests, which
    :meth:`requests_for` counts. ``chat_interval``: the least time between two
    requests to one chat, which paces the parts of one message. ``posts_per_day``:
    a 24-hour posting cap the platform enforces itself (X); the planner leaves out
    the languages that would exceed it (bot/xbudget.py).
    """

    text_limit: int
    length_unit: LengthUnit
    recipients_per_request: int
    parts_per_request: int
    max_parts: int | None
    requests_per_second: float
    posts_per_day: int | None = None
    chat_interval: float = 0.0  # seconds between two requests to one chat (Telegram: 1)
    # the pace of messages the platform lets through for a fee (Telegram's paid
    # broadcasts, 1000/s); None: no such thing, or not enabled
    paid_requests_per_second: float | None = None

    def requests_for(self, parts: int) -> int:
        """API requests that carry a message of ``parts`` parts to one request's recipients."""
        return max(1, -(-parts // self.parts_per_request))


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelSpec:
    """A platform's facts, declared once on its channel class."""

    name: str
    limits: Limits  # as the platform publishes them; overrides come from limits_for()
    fanout: FanoutMode
    secret_vars: tuple[str, ...]  # environment variables, all required to send
    base_url: str  # the platform's API
    base_url_var: str  # environment variable that points the channel elsewhere
    # what a recipient's id looks like on this platform (ASCII regular expression,
    # matched whole) and the same in words for an operator's error message
    user_id_pattern: str = r"[!-~]{1,128}"
    user_id_format: str = "1 to 128 printable ASCII characters"
    # whether people subscribe to it (False: its recipients come from the
    # configuration, as the Telegram broadcast channels' chats do)
    takes_subscribers: bool = True

    def check_user_id(self, user_id: str) -> str | None:
        """Why ``user_id`` cannot be a recipient here, or None when it can."""
        if re.fullmatch(self.user_id_pattern, user_id, flags=re.ASCII):
            return None
        return f"is not a user id on {self.name} ({self.user_id_format})"


class SecretValue(Protocol):
    def get(self) -> str: ...


class ChannelEnvironment(Protocol):
    """What a channel reads from the service's settings (bot.config.Settings)."""

    def secret(self, name: str) -> SecretValue: ...

    def base_url(self, channel: str) -> str: ...


def positive_number(options: Mapping[str, Any], key: str, *, integer: bool = False
                    ) -> float | None:
    """``options[key]`` as a positive number, None when absent; BadOption otherwise."""
    if key not in options:
        return None
    value = options[key]
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        kind = "a positive whole number" if integer else "a positive number"
        raise BadOption(key, f"must be {kind}, got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class OutgoingMessage:
    """What the dispatcher hands a channel: parts already fit ``limits.text_limit``."""

    recipients: tuple[str, ...]
    parts: tuple[str, ...]
    idempotency_key: str
    reply_to: str | None = None
    # (label, data) buttons under the last part; a tap comes back as the data
    # (Telegram callback_query, LINE postback). Channels without buttons ignore them.
    buttons: tuple[tuple[str, str], ...] = ()
    # sent under the platform's paid higher limit (Telegram: allow_paid_broadcast);
    # the dispatcher sets it for the alerts the city marks worth it (Channel.paid_for)
    paid: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class SendResult:
    """``message_ids`` in order of the parts; the first is the one to reply to later."""

    message_ids: tuple[str, ...]
    duplicate: bool = False

    @property
    def provider_message_id(self) -> str | None:
        return self.message_ids[0] if self.message_ids else None


DEFAULT_TIMEOUT = 10.0


class Channel(abc.ABC):
    spec: ClassVar[ChannelSpec]

    def __init__(self, *, limits: Limits | None = None) -> None:
        """``limits``: the effective limits (default: the platform's, ``spec.limits``)."""
        self.limits = limits if limits is not None else self.spec.limits

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pace_key(self) -> str:
        """Channels with the same key share one pacer: they spend one account's rate
        (Telegram's broadcast channels post through the per-chat bot's token)."""
        return self.name

    # what one message sent under the paid limit costs, and in what (Telegram: 0.1 Stars)
    paid_fee: ClassVar[tuple[float, str]] = (0.0, "")

    @classmethod
    def pays_for(cls, options: Mapping[str, Any], kind: str, severity: int) -> bool:
        """:meth:`paid_for` as ``[channels.<name>]`` sets it, without building the
        channel (the plan an operator sees)."""
        return False

    def paid_for(self, kind: str, severity: int) -> bool:
        """Whether an alert of ``kind`` and ``severity`` goes out under the platform's
        paid higher limit (``limits.paid_requests_per_second``). No channel pays by
        default; Telegram's ``paid_broadcast_kinds`` / ``paid_broadcast_min_severity``."""
        return False

    # ------------------------------------------------ facts and construction

    @classmethod
    def limits_for(cls, options: Mapping[str, Any]) -> Limits:
        """The platform's limits with this deployment's overrides from
        ``[channels.<name>]`` applied; :class:`BadOption` for a bad value.
        Subclasses read their own keys."""
        return cls.spec.limits

    @classmethod
    def broadcast_targets(cls, options: Mapping[str, Any]) -> dict[str, str]:
        """A BROADCAST channel's recipient per language when it is not the account's
        own timeline (Telegram's broadcast channels: language → channel chat); empty
        for a channel that posts to its timeline in the configured languages."""
        return {}

    @classmethod
    def broadcast_kinds(cls, options: Mapping[str, Any]) -> frozenset[str] | None:
        """The alert kinds a BROADCAST channel takes (None: every public kind)."""
        return None

    @classmethod
    def check_languages(cls, options: Mapping[str, Any], enabled: tuple[str, ...]) -> None:
        """Raise :class:`BadOption` when ``options`` name a language the service does
        not run (``enabled``: ``[languages] enabled``)."""
        return None

    @classmethod
    def timeout_for(cls, options: Mapping[str, Any]) -> float:
        """Seconds one platform call may take (``timeout_seconds``)."""
        value = positive_number(options, "timeout_seconds")
        return DEFAULT_TIMEOUT if value is None else float(value)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Raise :class:`BadOption` for any setting :meth:`from_settings` would refuse."""
        cls.limits_for(options)
        cls.timeout_for(options)

    @classmethod
    def read_secrets(cls, settings: ChannelEnvironment) -> tuple[str, ...]:
        """The values of ``spec.secret_vars``, in that order ("" when unset)."""
        return tuple(settings.secret(var).get() for var in cls.spec.secret_vars)

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: ChannelEnvironment, options: Mapping[str, Any]) -> Self:
        """The channel as this deployment configures it: secrets and base URL from
        ``settings``, timeout and :meth:`limits_for` from ``options``."""

    # ------------------------------------------------------------ sending

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections; called once before the first send."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def requests_for(self, message: OutgoingMessage) -> int:
        """API requests that sending ``message`` costs: what the pacer charges for it.
        One per ``parts_per_request`` parts (a three-part Telegram message is three
        requests, a LINE multicast of up to five parts one); none for a message
        :meth:`send` refuses before calling the platform. Subclasses refine it."""
        if self._too_many_parts(message):
            return 0
        return self.limits.requests_for(len(message.parts))

    def _too_many_parts(self, message: OutgoingMessage) -> bool:
        return self.limits.max_parts is not None and len(message.parts) > self.limits.max_parts

    async def send(self, message: OutgoingMessage) -> SendResult:
        if not message.recipients:
            raise ValueError("a message needs at least one recipient")
        if len(message.recipients) > self.limits.recipients_per_request:
            raise ValueError(
                f"{self.name}: {len(message.recipients)} recipients in one request, "
                f"limit is {self.limits.recipients_per_request}"
            )
        if not message.parts:
            raise ValueError(f"{self.name}: a message needs at least one part")
        if self._too_many_parts(message):
            raise MessageRejected(f"{len(message.parts)} parts in one message, {self.name} "
                                  f"takes at most {self.limits.max_parts}", channel=self.name)
        try:
            return await self._send(message)
        except ChannelError:
            raise
        except PartsInterrupted as exc:
            err = exc.cause if isinstance(exc.cause, ChannelError) else \
                self.map_error(exc.cause, message)
            err.sent_ids = exc.sent_ids
            raise err from exc.cause
        except Exception as exc:
            raise self.map_error(exc, message) from exc

    @abc.abstractmethod
    async def _send(self, message: OutgoingMessage) -> SendResult:
        """Do the platform call(s); may raise SDK exceptions freely."""

    def map_error(self, exc: Exception, message: OutgoingMessage | None) -> ChannelError:
        """Turn an SDK exception into one of ours. Subclasses map what their SDK
        types and hand the rest here: a network failure is :class:`RetryLater`,
        anything else is :meth:`unexpected`."""
        net = unreachable(exc, self.name)
        if net is not None:
            return net
        return self.unexpected(exc)

    def unexpected(self, exc: BaseException) -> ChannelFatal:
        """An exception nobody typed (a bug here or in the SDK, or an answer the SDK
        could not read): retrying blindly could repeat it for every message, so the
        channel stops, with the traceback in the log for the operator."""
        log.exception("%s: unexpected %s from the platform call; the channel stops until "
                      "an operator looks", self.name, type(exc).__name__, exc_info=exc)
        return ChannelFatal(f"unexpected {type(exc).__name__}: {str(exc)[:200]} "
                            "(traceback in the log)", channel=self.name)

    def measure(self, text: str) -> int:
        return measure(text, self.limits.length_unit)


def unreachable(exc: BaseException, channel: str) -> Unreachable | None:
    """:class:`Unreachable` if ``exc`` (or what caused it: SDKs wrap the network
    error) is a failure to reach the platform, else None. A connect timeout or a
    refused connection never reached the platform; a timeout or a reset after the
    request was written may have (``unknown``)."""
    kinds: list[tuple[str, BaseException]] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        kind = _network_kind(cur)
        if kind is not None:
            kinds.append((kind, cur))
        cur = cur.__cause__ or cur.__context__
    if not kinds:
        return None
    refused = [e for k, e in kinds if k == "refused"]
    first = refused[0] if refused else kinds[0][1]
    detail = f"{type(first).__name__}: {first}".rstrip(": ")
    return Unreachable(f"{channel} unreachable: {detail}", channel=channel,
                       unknown=not refused)


_CONNECT_FAILURES = ("ClientConnectorError", "ConnectionTimeoutError", "ConnectTimeout",
                     "ConnectError", "ClientConnectorDNSError", "ClientConnectorSSLError",
                     "ClientConnectorCertificateError", "gaierror")


def _network_kind(exc: BaseException) -> str | None:
    """"refused" (the request never left), "unknown" (it may have arrived) or None."""
    names = {c.__name__ for c in type(exc).__mro__}
    if names & set(_CONNECT_FAILURES) or isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError) or names & {"TimedOut", "ReadTimeout", "WriteTimeout",
                                                 "PoolTimeout", "ServerTimeoutError"}:
        return "unknown"
    if isinstance(exc, ConnectionError) or names & {"ServerDisconnectedError",
                                                    "ClientOSError", "RemoteProtocolError",
                                                    "ReadError", "WriteError"}:
        return "unknown"
    return None


def with_rate(limits: Limits, rate: float | None) -> Limits:
    """``limits`` paced at ``rate`` requests per second when given."""
    return limits if rate is None else dataclasses.replace(limits,
                                                           requests_per_second=float(rate))
