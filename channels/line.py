"""LINE over line-bot-sdk v3 (the asynchronous Messaging API client).

One :class:`OutgoingMessage` is one HTTP request: a push when it has one
recipient, a multicast when it has several (up to 500), with one text message
object per part (up to 5). Every request carries ``X-Line-Retry-Key``, so a
retry of a request LINE already accepted is answered 409 and reported as
``SendResult(duplicate=True)`` instead of reaching the users twice.

How LINE's answers map to our errors (see :mod:`channels.base`)::

    409 retry key already accepted       -> SendResult(duplicate=True)
    429 "You have reached your monthly limit."
                                         -> ChannelFatal (quota spent until next month)
    429 other (rate limit)               -> RetryLater (Retry-After header if any)
    timeouts, connection errors          -> Unreachable (the channel pauses)
    5xx                                  -> RetryLater
    401, 403                             -> ChannelFatal (token rejected, not allowed)
    400 on a push to one user about that user
        ("Failed to send messages", invalid 'to')
                                         -> RecipientError (blocked, unknown user)
    400 about a request header (X-Line-Retry-Key)
                                         -> ChannelFatal (every request would fail alike)
    400 otherwise: the message as sent ("Length must be between 0 and 5000" on
        messages[0].text, too many messages, a malformed id in a multicast)
                                         -> MessageRejected
    anything else                        -> ChannelFatal, traceback logged

Message ids: a push answers with one id per part (``sentMessages``); a
multicast answers with no message ids, so its result holds the request id
(``x-line-request-id``); a duplicate holds ``x-line-accepted-request-id``.

Webhook signatures: :func:`verify_signature` checks ``x-line-signature``
(base64 HMAC-SHA256 of the raw body, keyed with the channel secret).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import aiohttp

from channels.base import (
    DEFAULT_TIMEOUT,
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
    RecipientError,
    RetryLater,
    SendResult,
    positive_number,
    unreachable,
    with_rate,
)

if TYPE_CHECKING:  # the SDK is imported when the channel first talks to LINE
    from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi
    from linebot.v3.messaging.exceptions import ApiException

MONTHLY_LIMIT_MARKER = "monthly limit"
_RECIPIENT_MARKERS = ("failed to send messages", "'to'")
_HEADER_MARKER = "header"
# Namespace for turning a non-UUID idempotency key into a stable retry key.
_RETRY_KEY_NAMESPACE = uuid.UUID("5b0c7d8e-2f4a-4c55-9a39-6a1f4d0b7e21")


def retry_key(idempotency_key: str) -> str:
    """The ``X-Line-Retry-Key`` for a message: the key itself when it is a UUID,
    otherwise a UUID derived from it (the same key always gives the same UUID)."""
    try:
        return str(uuid.UUID(idempotency_key))
    except ValueError:
        return str(uuid.uuid5(_RETRY_KEY_NAMESPACE, idempotency_key))


def sign(body: bytes, channel_secret: str) -> str:
    """The ``x-line-signature`` LINE would send with ``body``."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(body: bytes, signature: str | None, channel_secret: str) -> bool:
    """True when ``signature`` is LINE's signature of ``body``; compared in constant time."""
    if not body or not signature or not channel_secret:
        return False
    return hmac.compare_digest(sign(body, channel_secret).encode("ascii"),
                               signature.encode("ascii", "replace"))


def _error_text(exc: ApiException) -> str:
    """LINE's error message (and details), never the request or its headers."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return str(exc.reason or "")
    try:
        data = json.loads(body)
    except ValueError:
        return str(body)[:200]
    if not isinstance(data, dict):
        return str(body)[:200]
    text = str(data.get("message", ""))
    details = data.get("details") or []
    extra = "; ".join(
        f"{d.get('property', '')}: {d.get('message', '')}" for d in details if isinstance(d, dict)
    )
    return f"{text} ({extra})" if extra else text


def _header(exc: ApiException, name: str) -> str | None:
    headers = exc.headers
    if headers is None:
        return None
    value = headers.get(name)
    return str(value) if value is not None else None


class LineChannel(Channel):
    spec: ClassVar[ChannelSpec] = ChannelSpec(
        name="line",
        limits=Limits(text_limit=5000, length_unit=LengthUnit.UTF16, recipients_per_request=500,
                      parts_per_request=5, max_parts=5, requests_per_second=200.0),
        fanout=FanoutMode.BATCHED,
        secret_vars=("LINE_CHANNEL_ACCESS_TOKEN", "LINE_CHANNEL_SECRET"),
        base_url="https://api.line.me",
        base_url_var="LINE_API_BASE_URL",
        user_id_pattern=r"U[0-9a-f]{32}",
        user_id_format="U and 32 lowercase hex digits",
    )

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str | None = None,
        limits: Limits | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        pool_size: int = 100,
    ) -> None:
        super().__init__(limits=limits)
        if not access_token:
            raise ChannelFatal("LINE_CHANNEL_ACCESS_TOKEN is empty", channel=self.name)
        self._access_token = access_token
        self.base_url = (base_url or self.spec.base_url).rstrip("/")
        self.timeout = timeout
        self.pool_size = pool_size
        self._client: AsyncApiClient | None = None
        self._api: AsyncMessagingApi | None = None

    @classmethod
    def limits_for(cls, options: Mapping[str, Any]) -> Limits:
        """``requests_per_second`` paces the requests (LINE allows 200 multicasts/s)."""
        return with_rate(cls.spec.limits, positive_number(options, "requests_per_second"))

    @classmethod
    def from_settings(cls, settings: ChannelEnvironment, options: Mapping[str, Any]) -> Self:
        access_token, _webhook_secret = cls.read_secrets(settings)
        return cls(access_token, base_url=settings.base_url(cls.spec.name),
                   limits=cls.limits_for(options), timeout=cls.timeout_for(options))

    def __repr__(self) -> str:  # never show the token
        return f"LineChannel(base_url={self.base_url!r})"

    async def start(self) -> None:
        """Open the SDK client (its aiohttp session needs a running event loop)."""
        if self._client is None:
            from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi, Configuration

            config = Configuration(host=self.base_url, access_token=self._access_token)
            config.connection_pool_maxsize = self.pool_size
            self._client = AsyncApiClient(config)
            # The SDK's aiohttp session follows redirects, which would carry the
            # channel token to wherever a redirect points: never follow one.
            pool = self._client.rest_client.pool_manager
            pool.request = functools.partial(pool.request,
                                             allow_redirects=False)
            self._api = AsyncMessagingApi(self._client)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client, self._api = self._client, None, None
            await client.close()

    async def _messaging(self) -> AsyncMessagingApi:
        await self.start()
        assert self._api is not None
        return self._api

    async def _send(self, message: OutgoingMessage) -> SendResult:
        from linebot.v3.messaging import (
            MulticastRequest,
            PostbackAction,
            PushMessageRequest,
            QuickReply,
            QuickReplyItem,
            TextMessage,
        )
        from linebot.v3.messaging.exceptions import ApiException

        api = await self._messaging()
        # Buttons become quick-reply postbacks on the last message (labels up to 20).
        quick = QuickReply(items=[QuickReplyItem(action=PostbackAction(
            label=label if len(label) <= 20 else label[:19] + "…", data=data,
            displayText=label)) for label, data in message.buttons[:13]]) \
            if message.buttons else None
        messages = [TextMessage(text=part, quoteToken=None,
                                quickReply=quick if i == len(message.parts) - 1 else None)
                    for i, part in enumerate(message.parts)]
        key = retry_key(message.idempotency_key)
        try:
            if len(message.recipients) == 1:
                response = await api.push_message(
                    PushMessageRequest(to=message.recipients[0], messages=messages,
                                       notificationDisabled=False, customAggregationUnits=None),
                    x_line_retry_key=key,
                    _request_timeout=self.timeout,
                )
                return SendResult(message_ids=tuple(m.id for m in response.sent_messages))
            raw = await api.multicast_with_http_info(
                MulticastRequest(to=list(message.recipients), messages=messages,
                                 notificationDisabled=False, customAggregationUnits=None),
                x_line_retry_key=key,
                _request_timeout=self.timeout,
            )
            request_id = raw.headers.get("x-line-request-id") if raw.headers else None
            return SendResult(message_ids=(str(request_id),) if request_id else ())
        except ApiException as exc:
            if exc.status == 409:
                accepted = _header(exc, "x-line-accepted-request-id")
                return SendResult(message_ids=(accepted,) if accepted else (), duplicate=True)
            raise

    async def quota(self) -> tuple[int | None, int]:
        """(monthly limit or None when unlimited, messages used this month)."""
        api = await self._messaging()
        try:
            q = await api.get_message_quota(_request_timeout=self.timeout)
            used = await api.get_message_quota_consumption(_request_timeout=self.timeout)
        except Exception as exc:
            raise self.map_error(exc, None) from exc
        limit = q.value if str(getattr(q.type, "value", q.type)) == "limited" else None
        return (int(limit) if limit is not None else None), int(used.total_usage)

    def map_error(self, exc: Exception, message: OutgoingMessage | None) -> ChannelError:
        from linebot.v3.messaging.exceptions import ApiException

        recipients = message.recipients if message is not None else ()
        if isinstance(exc, ApiException):
            return self._map_api_error(exc, recipients)
        net = unreachable(exc, self.name)
        if net is not None:  # refused, DNS, TLS, timeouts: the channel pauses
            return net
        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
            return RetryLater(f"LINE unreachable: {type(exc).__name__}: {exc}",
                              channel=self.name)
        return super().map_error(exc, message)

    def _map_api_error(self, exc: ApiException, recipients: tuple[str, ...]) -> ChannelError:
        status = int(exc.status or 0)
        text = _error_text(exc)
        if status == 429:
            if MONTHLY_LIMIT_MARKER in text.lower():
                return ChannelFatal(f"LINE monthly message quota is spent: {text}",
                                    channel=self.name)
            return RetryLater(f"LINE rate limit (429): {text}", channel=self.name,
                              retry_after=_retry_after(exc), rate_limited=True)
        if status == 401:
            return ChannelFatal("the LINE channel access token was rejected (401)",
                                channel=self.name)
        if status == 403:
            return ChannelFatal(f"LINE refused: not allowed for this channel (403): {text}",
                                channel=self.name)
        if status == 400:
            if len(recipients) == 1 and _about_recipient(text):
                return RecipientError(f"LINE could not deliver to this user (400): {text}",
                                      channel=self.name, recipients=recipients)
            if _HEADER_MARKER in text.lower():
                return ChannelFatal(f"LINE refused a request header (400): {text} -- this is "
                                    "a bug in bousai-bot, not a LINE outage", channel=self.name)
            return MessageRejected(f"LINE rejected this message (400): {text} -- this is a "
                                   "bug in bousai-bot, not the user's fault", channel=self.name)
        if status >= 500 or status == 408:
            return RetryLater(f"LINE server error ({status}): {text}", channel=self.name,
                              retry_after=_retry_after(exc))
        return ChannelFatal(f"LINE answered {status}: {text}", channel=self.name)


def _about_recipient(text: str) -> bool:
    """A 400 that blames the user, not the request: LINE answers a push to a user who
    blocked the account (or never added it) with "Failed to send messages", and a push
    to an id that does not exist with an invalid 'to' property."""
    lowered = text.lower()
    return any(marker in lowered for marker in _RECIPIENT_MARKERS)


def _retry_after(exc: ApiException) -> float | None:
    value = _header(exc, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None

