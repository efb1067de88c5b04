"""X (Twitter) over tweepy's asynchronous API v2 client, OAuth 1.0a user context.

An X post goes to the account's own timeline, not to a person, so the only
recipient is :data:`TIMELINE` (``"timeline"``); anything else is refused with
``ValueError``. One channel instance is one account. A message in several parts
becomes a thread: one ``POST /2/tweets`` per part, each part after the first
replying to the one before, the first replying to ``message.reply_to`` when set
(an update or cancellation goes under the original post).

Base URL: tweepy writes ``https://api.twitter.com`` into its request method, so
:class:`channels.x_api.XApiClient` overrides that one method (the transport)
and keeps the rest of tweepy (endpoints, OAuth signing, error classes).

Errors (see :mod:`channels.base`)::

    403 "...duplicate content."        -> that part is already posted (skipped)
    429                                -> RetryLater, retry_after from x-rate-limit-reset
                                          (or the 24-hour reset when the daily cap is hit)
    5xx, timeouts, connection errors   -> RetryLater
    400 (X answers "Your Tweet text is too long." and other invalid parameters
        with 400, some accounts get the same as a 403), 403 about the reply
        target (deleted or not visible) -> MessageRejected
    401, other 403, 404                -> ChannelFatal (credentials, permissions, base URL)
    anything else                      -> ChannelFatal, traceback logged
    a failure after some parts went out -> ThreadIncomplete (a RetryLater),
                                           ThreadRejected (a MessageRejected) or
                                           ThreadAborted (a ChannelFatal), with ``sent_ids``

Budgets: X caps posts per 24 hours (``posts_per_day``, per account tier) and
answers 429 with the reset time once it is spent; the channel retries after
that reset. X also charges per post (pay-per-use: one ``POST /2/tweets`` is one
billed request, a post with a link costs more); :class:`XPricing` is what a
deployment says a post costs and what the city allows per day and per month.
The planner (bot/xbudget.py) counts posts from the ledger against both, shows
them before a send, and leaves out the languages that do not fit.

Nothing doubled: X has no idempotency key, so the channel remembers, per
``idempotency_key``, the ids of parts already posted (a bounded in-memory
table). Sending the same message again resumes after them, replying to the last
one, and a message that already went out completely returns its ids with
``duplicate=True``. After a restart that memory is gone; then X's own
duplicate-content check refuses parts already posted (within 24 hours), the
channel skips them and posts the rest, and reports ``duplicate=True`` when
nothing new went out. Caveat: the ids of skipped parts are unknown, so the
remaining parts reply to the last known post, and two different messages must
not contain a byte-identical part (the renderer's parts carry the alert's time).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import aiohttp

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
    RetryLater,
    SendResult,
    positive_number,
    unreachable,
)
from channels.lengths import has_url

if TYPE_CHECKING:  # tweepy is imported when the channel first talks to X
    from tweepy.errors import HTTPException, TooManyRequests

    from channels.x_api import XApiClient

log = logging.getLogger(__name__)

TIMELINE = "timeline"
DUPLICATE_MARKER = "duplicate content"
REPLY_GONE_MARKER = "deleted or not visible"
TOO_LONG_MARKER = "too long"
_MEMORY = 4096  # how many messages' progress the channel remembers


class ThreadIncomplete(RetryLater):
    """Parts ``sent_ids`` of a thread went out, then a retryable failure.
    Sending the same message again resumes after them."""

    def __init__(self, message: str, *, channel: str = "", retry_after: float | None = None,
                 sent_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message, channel=channel, retry_after=retry_after)
        self.sent_ids = sent_ids


class ThreadRejected(MessageRejected):
    """Parts ``sent_ids`` of a thread went out, then X refused the next part."""

    def __init__(self, message: str, *, channel: str = "",
                 sent_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message, channel=channel)
        self.sent_ids = sent_ids


class ThreadAborted(ChannelFatal):
    """Parts ``sent_ids`` of a thread went out, then a permanent failure."""

    def __init__(self, message: str, *, channel: str = "",
                 sent_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message, channel=channel)
        self.sent_ids = sent_ids


def _messages(exc: HTTPException) -> str:
    return "; ".join(str(m) for m in exc.api_messages) or str(exc)


def rate_limit_delay(exc: TooManyRequests, now: float | None = None) -> float | None:
    """Seconds until X lifts the limit that was hit: the 24-hour user or app cap when
    that one is spent, otherwise the endpoint's 15-minute window (x-rate-limit-reset)."""
    now = time.time() if now is None else now
    headers = getattr(exc.response, "headers", None) or {}
    resets: list[int] = []
    for scope in ("user", "app"):
        if headers.get(f"x-{scope}-limit-24hour-remaining") == "0":
            value = headers.get(f"x-{scope}-limit-24hour-reset", "")
            if value.isdigit():
                resets.append(int(value))
    if not resets and exc.reset_time is not None:
        resets.append(int(exc.reset_time))
    if not resets:
        return None
    return max(0.0, max(resets) - now)


CURRENCY = "USD"  # X bills API credits in US dollars


def _money(options: Mapping[str, Any], key: str) -> float | None:
    """``options[key]`` as an amount of US dollars (a number, 0 or more), None when absent."""
    if key not in options:
        return None
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 \
            or value != value or value == float("inf"):
        raise BadOption(key, f"must be an amount in {CURRENCY} (a number, 0 or more), "
                             f"got {value!r}")
    return float(value)


@dataclass(frozen=True, kw_only=True, slots=True)
class XPricing:
    """What a post costs (``price_per_post``, ``price_per_post_with_url``, in
    :data:`CURRENCY`) and what the city allows (``daily_budget`` per calendar day,
    ``monthly_budget`` per calendar month, in the city's time zone, same currency).
    Money is what the city approves; posts are derived from it with the prices.
    Without a price the cost is unknown and only ``posts_per_day`` limits posting."""

    price_per_post: float | None = None
    price_per_post_with_url: float | None = None
    daily_budget: float | None = None
    monthly_budget: float | None = None
    currency: str = CURRENCY

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> XPricing:
        price = _money(options, "price_per_post")
        with_url = _money(options, "price_per_post_with_url")
        if with_url is not None and price is None:
            raise BadOption("price_per_post_with_url", "needs price_per_post as well")
        daily, monthly = _money(options, "daily_budget"), _money(options, "monthly_budget")
        for key, value in (("daily_budget", daily), ("monthly_budget", monthly)):
            if value is not None and price is None:
                raise BadOption(key, f"is an amount in {CURRENCY} and needs price_per_post "
                                     f"({CURRENCY} per post) to count posts against it")
        if daily is not None and monthly is not None and daily > monthly:
            raise BadOption("daily_budget", f"({daily:g}) is more than monthly_budget "
                                            f"({monthly:g})")
        return cls(price_per_post=price,
                   price_per_post_with_url=with_url if with_url is not None else price,
                   daily_budget=daily, monthly_budget=monthly)

    @property
    def priced(self) -> bool:
        return self.price_per_post is not None

    def price(self, part: str) -> float:
        """What posting ``part`` costs (0.0 when no price is configured)."""
        if self.price_per_post is None:
            return 0.0
        if has_url(part) and self.price_per_post_with_url is not None:
            return self.price_per_post_with_url
        return self.price_per_post

    def cost(self, parts: Sequence[str]) -> float:
        return sum(self.price(p) for p in parts)


class XChannel(Channel):
    spec: ClassVar[ChannelSpec] = ChannelSpec(
        name="x",
        limits=Limits(text_limit=280, length_unit=LengthUnit.WEIGHTED, recipients_per_request=1,
                      parts_per_request=1, max_parts=25, requests_per_second=1.0,
                      posts_per_day=100),
        fanout=FanoutMode.BROADCAST,
        secret_vars=("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"),
        base_url="https://api.twitter.com",
        base_url_var="X_API_BASE_URL",
        user_id_pattern=r"[1-9][0-9]{0,19}",
        user_id_format="the account's numeric id",
    )

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        access_token: str,
        access_token_secret: str,
        *,
        base_url: str | None = None,
        limits: Limits | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(limits=limits)
        if not (api_key and api_secret and access_token and access_token_secret):
            raise ChannelFatal("X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and "
                               "X_ACCESS_TOKEN_SECRET must all be set", channel=self.name)
        self._credentials = {"consumer_key": api_key, "consumer_secret": api_secret,
                             "access_token": access_token,
                             "access_token_secret": access_token_secret}
        self.base_url = (base_url or self.spec.base_url).rstrip("/")
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._client: XApiClient | None = None
        self._progress: OrderedDict[str, list[str | None]] = OrderedDict()
        self._done: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    @classmethod
    def limits_for(cls, options: Mapping[str, Any]) -> Limits:
        """``posts_per_day``: the account tier's 24-hour posting budget."""
        budget = positive_number(options, "posts_per_day", integer=True)
        if budget is None:
            return cls.spec.limits
        return dataclasses.replace(cls.spec.limits, posts_per_day=int(budget))

    @classmethod
    def pricing_for(cls, options: Mapping[str, Any]) -> XPricing:
        """``price_per_post``, ``price_per_post_with_url``, ``daily_budget``,
        ``monthly_budget`` (see :class:`XPricing`)."""
        return XPricing.from_options(options)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        cls.pricing_for(options)

    @classmethod
    def from_settings(cls, settings: ChannelEnvironment, options: Mapping[str, Any]) -> Self:
        api_key, api_secret, access_token, access_token_secret = cls.read_secrets(settings)
        return cls(api_key, api_secret, access_token, access_token_secret,
                   base_url=settings.base_url(cls.spec.name), limits=cls.limits_for(options),
                   timeout=cls.timeout_for(options))

    def __repr__(self) -> str:  # never show the credentials
        return f"XChannel(base_url={self.base_url!r})"

    async def start(self) -> None:
        if self._client is None:
            from channels.x_api import XApiClient

            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._client = XApiClient(base_url=self.base_url, session=self._session,
                                      **self._credentials)

    async def close(self) -> None:
        if self._session is not None:
            session, self._session, self._client = self._session, None, None
            await session.close()

    def posted(self, idempotency_key: str) -> tuple[str, ...]:
        """Ids already posted for the message with this key (as far as this process knows)."""
        if idempotency_key in self._done:
            return self._done[idempotency_key]
        return tuple(i for i in self._progress.get(idempotency_key, ()) if i)

    def requests_for(self, message: OutgoingMessage) -> int:
        """One request per post still to go: a resumed thread skips what is posted."""
        if message.idempotency_key in self._done or self._too_many_parts(message):
            return 0
        return max(1, len(message.parts) - len(self._progress.get(message.idempotency_key, ())))

    async def send(self, message: OutgoingMessage) -> SendResult:
        if any(r != TIMELINE for r in message.recipients):
            raise ValueError(f"x: the only recipient is {TIMELINE!r}, got {message.recipients!r}")
        return await super().send(message)

    async def _send(self, message: OutgoingMessage) -> SendResult:
        key = message.idempotency_key
        done = self._done.get(key)
        if done is not None:
            return SendResult(message_ids=done, duplicate=True)
        await self.start()
        # Per part so far: its post id, or None when X said it was already posted.
        posted = self._progress.setdefault(key, [])
        self._remember(self._progress, key)
        new = 0
        for index in range(len(posted), len(message.parts)):
            known = [i for i in posted if i]
            reply_to = known[-1] if known else message.reply_to
            try:
                posted.append(await self._post(message.parts[index], reply_to, first=not known))
                new += 1
            except Exception as exc:
                if not _is_duplicate(exc):
                    raise self._interrupted(exc, message, index, tuple(known)) from exc
                posted.append(None)
        self._progress.pop(key, None)
        ids = tuple(i for i in posted if i)
        self._done[key] = ids
        self._remember(self._done, key)
        return SendResult(message_ids=ids, duplicate=new == 0)

    async def _post(self, text: str, reply_to: str | None, *, first: bool) -> str:
        from tweepy.errors import BadRequest, Forbidden

        assert self._client is not None
        try:
            data = await self._client.create_tweet(text=text, in_reply_to_tweet_id=reply_to,
                                                   user_auth=True)
        except (Forbidden, BadRequest) as exc:
            # The post we meant to answer was deleted: say it anyway, as a new post.
            if not (first and reply_to and REPLY_GONE_MARKER in _messages(exc).lower()):
                raise
            log.warning("x: reply target %s is gone; posting without reply", reply_to)
            data = await self._client.create_tweet(text=text, user_auth=True)
        return str(data["data"]["id"])

    def _interrupted(self, exc: Exception, message: OutgoingMessage, index: int,
                     sent: tuple[str, ...]) -> ChannelError:
        err = self.map_error(exc, message)
        if not sent:
            return err
        text = (f"thread stopped at part {index + 1} of {len(message.parts)}; "
                f"{len(sent)} part(s) already posted as {', '.join(sent)}: {err}")
        if isinstance(err, RetryLater):
            return ThreadIncomplete(text, channel=self.name, retry_after=err.retry_after,
                                    sent_ids=sent)
        if isinstance(err, MessageRejected):
            return ThreadRejected(text, channel=self.name, sent_ids=sent)
        return ThreadAborted(text, channel=self.name, sent_ids=sent)

    @staticmethod
    def _remember(table: OrderedDict[str, Any], key: str) -> None:
        table.move_to_end(key)
        while len(table) > _MEMORY:
            table.popitem(last=False)

    def map_error(self, exc: Exception, message: OutgoingMessage | None) -> ChannelError:
        from tweepy.errors import (
            BadRequest,
            Forbidden,
            HTTPException,
            TooManyRequests,
            TwitterServerError,
            Unauthorized,
        )

        if isinstance(exc, TooManyRequests):
            return RetryLater(f"X rate limit (429): {_messages(exc)}", channel=self.name,
                              retry_after=rate_limit_delay(exc), rate_limited=True)
        if isinstance(exc, Unauthorized):
            return ChannelFatal("X rejected the API credentials (401)", channel=self.name)
        if isinstance(exc, BadRequest) or (isinstance(exc, Forbidden) and _about_post(exc)):
            return MessageRejected(f"X rejected this post ({_status(exc)}): {_messages(exc)}",
                                   channel=self.name)
        if isinstance(exc, Forbidden):
            return ChannelFatal(f"X refused the post (403): {_messages(exc)}",
                                channel=self.name)
        if isinstance(exc, TwitterServerError):
            return RetryLater(f"X server error ({_status(exc)}): {_messages(exc)}",
                              channel=self.name)
        if isinstance(exc, HTTPException):  # 404 and the rest: a wrong X_API_BASE_URL?
            return ChannelFatal(f"X answered {_status(exc)}: {_messages(exc)}",
                                channel=self.name)
        net = unreachable(exc, self.name)
        if net is not None:  # refused, DNS, TLS, timeouts: the channel pauses
            return net
        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
            return RetryLater(f"X unreachable: {type(exc).__name__}: {exc}", channel=self.name)
        return super().map_error(exc, message)


def _about_post(exc: HTTPException) -> bool:
    """A 403 that refuses this post, not the account: too long, or a reply to a post
    that is gone (duplicates are handled before mapping)."""
    text = _messages(exc).lower()
    return TOO_LONG_MARKER in text or REPLY_GONE_MARKER in text


def _status(exc: HTTPException) -> int:
    return int(getattr(exc.response, "status", 0) or 0)


def _is_duplicate(exc: Exception) -> bool:
    from tweepy.errors import Forbidden

    return isinstance(exc, Forbidden) and DUPLICATE_MARKER in _messages(exc).lower()
