"""A fake LINE Messaging API server (https://developers.line.biz/en/reference/messaging-api/).

Speaks the subset the service uses: push, multicast, reply, message quota and
its consumption, bot info, and rich menus (:mod:`bot.fakes.line_richmenu`). Like
LINE it

- wants ``Authorization: Bearer <channel access token>`` (401 otherwise);
- wants ``X-Line-Retry-Key`` to be a UUID when present (400 otherwise), and
  answers a key it already accepted with 409 and ``x-line-accepted-request-id``
  (the request id of the accepted request), delivering nothing the second time;
- refuses more than 500 multicast recipients or more than 5 messages with 400
  and LINE's error JSON (``message`` plus ``details``), and a text over 5000
  UTF-16 units;
- answers a push to a user who blocked the account (or never added it) with
  400 ``Failed to send messages``, while a multicast silently skips such users
  (LINE's documented behaviour: no error, and they are not counted);
- answers 429 ``You have reached your monthly limit.`` once ``monthly_limit``
  messages (one per recipient per request) have been sent, and 429 ``The API
  rate limit has been exceeded.`` over ``rate_limit`` requests per second;
- sends ``x-line-request-id`` with every answer.

Test controls: :meth:`block`, :meth:`fail_next` (status, optional Retry-After,
monthly-limit message), :meth:`delay_next` (answer late, to trip client
timeouts), :meth:`garble_next` (a 200 the SDK cannot read, as a wrong proxy
might answer), ``failure_rate`` with ``seed``, :meth:`set_usage`. Every request is
recorded in ``requests`` (accepted or not), deliveries in :meth:`messages_to`.

To act as a user: :func:`webhook_event` builds webhook event JSON (follow,
unfollow, message, postback) and :func:`signed_body` a signed webhook body.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.fakes.base import FakeServer
from bot.fakes.line_richmenu import RichMenuFake
from channels.line import sign

USER_ID_RE = re.compile(r"^U[0-9a-f]{32}$")
MAX_RECIPIENTS = 500
MAX_MESSAGES = 5
MAX_TEXT = 5000
MONTHLY_LIMIT_MESSAGE = "You have reached your monthly limit."
RATE_LIMIT_MESSAGE = "The API rate limit has been exceeded. Try again later."


def user_id(n: int) -> str:
    """A well-formed LINE user id, distinct for each ``n``."""
    return f"U{n:032x}"


@dataclass
class LineRequest:
    """One send request as the fake saw it, and how it answered."""

    endpoint: str  # "push", "multicast" or "reply"
    to: tuple[str, ...]
    messages: list[dict[str, Any]]
    retry_key: str | None
    status: int = 0
    request_id: str = ""
    delivered_to: tuple[str, ...] = ()
    at: float = field(default_factory=time.monotonic)

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(str(m.get("text", "")) for m in self.messages)


@dataclass
class _Failure:
    status: int
    message: str
    retry_after: int | None = None
    delay: float = 0.0


class FakeLine(RichMenuFake, FakeServer):
    def __init__(
        self,
        token: str = "line-test-token",
        *,
        monthly_limit: int | None = None,
        rate_limit: float | None = None,
        failure_rate: float = 0.0,
        seed: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.token = token
        self.monthly_limit = monthly_limit
        self.rate_limit = rate_limit
        self.failure_rate = failure_rate
        self.random = random.Random(seed)
        self.usage = 0
        self.blocked: set[str] = set()
        self.requests: list[LineRequest] = []
        self.too_many = 0
        self._accepted_keys: dict[str, str] = {}
        self._fail_queue: deque[_Failure] = deque()
        self._window: deque[float] = deque()
        self._init_rich_menus()

    # ------------------------------------------------------------ test controls

    def block(self, *user_ids: str) -> None:
        """These users blocked the account (push: 400; multicast: skipped)."""
        with self.lock:
            self.blocked.update(user_ids)

    def fail_next(
        self, count: int = 1, status: int = 500, *, retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """The next ``count`` send requests answer ``status`` (with ``Retry-After``
        when given). A 429 says the rate limit was hit unless ``message`` says
        otherwise (e.g. :data:`MONTHLY_LIMIT_MESSAGE`)."""
        default = RATE_LIMIT_MESSAGE if status == 429 else "Internal server error"
        with self.lock:
            for _ in range(count):
                self._fail_queue.append(_Failure(status, message or default, retry_after))

    def garble_next(self, count: int = 1) -> None:
        """The next ``count`` send requests answer 200 with a body that is not LINE's."""
        with self.lock:
            for _ in range(count):
                self._fail_queue.append(_Failure(200, "garbled"))

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` send requests are answered (normally) after ``seconds``."""
        with self.lock:
            for _ in range(count):
                self._fail_queue.append(_Failure(0, "", None, seconds))

    def set_usage(self, used: int) -> None:
        with self.lock:
            self.usage = used

    @property
    def accepted(self) -> list[LineRequest]:
        with self.lock:
            return [r for r in self.requests if r.status == 200]

    def messages_to(self, user: str) -> list[str]:
        """Texts delivered to ``user``, in order."""
        with self.lock:
            return [t for r in self.requests if user in r.delivered_to for t in r.texts]

    # ---------------------------------------------------------------- routes

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_post("/v2/bot/message/multicast", self._multicast)
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_get("/v2/bot/message/quota", self._quota)
        app.router.add_get("/v2/bot/message/quota/consumption", self._consumption)
        app.router.add_get("/v2/bot/info", self._info)
        self.rich_menu_routes(app)

    @staticmethod
    def _answer(status: int, body: dict[str, Any], request_id: str,
                headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(body, status=status,
                                 headers={"x-line-request-id": request_id, **(headers or {})})

    def _error(self, status: int, message: str, request_id: str,
               details: list[dict[str, str]] | None = None,
               headers: dict[str, str] | None = None) -> web.Response:
        body: dict[str, Any] = {"message": message}
        if details:
            body["details"] = details
        return self._answer(status, body, request_id, headers)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {self.token}"

    async def _send(self, request: web.Request, endpoint: str) -> web.Response:
        request_id = str(uuid.uuid4())
        if not self._authorized(request):
            return self._error(401, "Authentication failed. Confirm that the access token "
                               "in the authorization header is valid.", request_id)
        try:
            body = await request.json()
        except ValueError:
            return self._error(400, "The request body has 1 error(s)", request_id)
        if not isinstance(body, dict):
            return self._error(400, "The request body has 1 error(s)", request_id)
        raw_to = body.get("to") if endpoint != "reply" else body.get("replyToken")
        to = tuple(raw_to) if isinstance(raw_to, list) else (str(raw_to or ""),)
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        key = request.headers.get("X-Line-Retry-Key")
        record = LineRequest(endpoint=endpoint, to=to, messages=list(messages or []),
                             retry_key=key, request_id=request_id)
        with self.lock:
            self.requests.append(record)
        response = await self._handle(record, request_id)
        record.status = response.status
        return response

    async def _handle(self, r: LineRequest, request_id: str) -> web.Response:
        if r.retry_key is not None:
            try:
                uuid.UUID(r.retry_key)
            except ValueError:
                return self._error(400, "The value for the 'X-Line-Retry-Key' header is invalid",
                                   request_id)
            with self.lock:
                accepted = self._accepted_keys.get(r.retry_key)
            if accepted is not None:
                return self._error(409, "The retry key is already accepted", request_id,
                                   headers={"x-line-accepted-request-id": accepted})
        invalid = self._validate(r)
        if invalid is not None:
            return self._error(400, invalid[0], request_id, invalid[1])
        failure = await self._injected()
        if failure is not None and failure.status == 200:
            return self._answer(200, {"sentMessages": failure.message}, request_id)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else None
            return self._error(failure.status, failure.message, request_id, headers=headers)
        if r.endpoint == "push" and r.to[0] in self.blocked:
            return self._error(400, "Failed to send messages", request_id)
        delivered = tuple(u for u in r.to if u not in self.blocked)
        with self.lock:
            count = len(delivered) if r.endpoint != "reply" else 0
            if self.monthly_limit is not None and self.usage + count > self.monthly_limit:
                self.too_many += 1
                return self._error(429, MONTHLY_LIMIT_MESSAGE, request_id)
            self.usage += count
            r.delivered_to = delivered
            if r.retry_key is not None:
                self._accepted_keys[r.retry_key] = request_id
        if r.endpoint in ("push", "reply"):  # both answer sentMessages, as LINE does
            sent = [{"id": str(self.random.randrange(10**17, 10**18)),
                     "quoteToken": uuid.uuid4().hex} for _ in r.messages]
            return self._answer(200, {"sentMessages": sent}, request_id)
        return self._answer(200, {}, request_id)

    def _validate(self, r: LineRequest) -> tuple[str, list[dict[str, str]] | None] | None:
        many = "The request body has 1 error(s)"
        if not 1 <= len(r.messages) <= MAX_MESSAGES:
            return many, [{"message": f"Size must be between 1 and {MAX_MESSAGES}",
                           "property": "messages"}]
        for i, m in enumerate(r.messages):
            text = m.get("text") if isinstance(m, dict) else None
            if not isinstance(m, dict) or m.get("type") != "text" or not isinstance(text, str) \
                    or not text:
                return many, [{"message": "May not be empty", "property": f"messages[{i}].text"}]
            if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
                return many, [{"message": f"Length must be between 0 and {MAX_TEXT}",
                               "property": f"messages[{i}].text"}]
            bad = _quick_reply_error(m.get("quickReply"))
            if bad is not None:
                return many, [{"message": bad, "property": f"messages[{i}].quickReply"}]
        if r.endpoint == "multicast" and not 1 <= len(r.to) <= MAX_RECIPIENTS:
            return many, [{"message": f"Size must be between 1 and {MAX_RECIPIENTS}",
                           "property": "to"}]
        if r.endpoint != "reply":
            for i, u in enumerate(r.to):
                if not USER_ID_RE.match(u):
                    prop = "to" if r.endpoint == "push" else f"to[{i}]"
                    return (f"The property, '{prop}', in the request body is invalid "
                            "(line: -, column: -)", None)
        return None

    async def _injected(self) -> _Failure | None:
        now = time.monotonic()
        with self.lock:
            failure = self._fail_queue.popleft() if self._fail_queue else None
            if failure is None and self.failure_rate and self.random.random() < self.failure_rate:
                status = self.random.choice((500, 429, 503))
                failure = _Failure(status, RATE_LIMIT_MESSAGE if status == 429
                                   else "Internal server error")
            if failure is None and self.rate_limit is not None:
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate_limit:
                    failure = _Failure(429, RATE_LIMIT_MESSAGE)
                else:
                    self._window.append(now)
            if failure is not None and failure.status == 429:
                self.too_many += 1
        if failure is not None and failure.delay:
            await asyncio.sleep(failure.delay)
            return None
        return failure

    async def _push(self, request: web.Request) -> web.Response:
        return await self._send(request, "push")

    async def _multicast(self, request: web.Request) -> web.Response:
        return await self._send(request, "multicast")

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._send(request, "reply")

    async def _quota(self, request: web.Request) -> web.Response:
        request_id = str(uuid.uuid4())
        if not self._authorized(request):
            return self._error(401, "Authentication failed.", request_id)
        if self.monthly_limit is None:
            return self._answer(200, {"type": "none"}, request_id)
        return self._answer(200, {"type": "limited", "value": self.monthly_limit}, request_id)

    async def _consumption(self, request: web.Request) -> web.Response:
        request_id = str(uuid.uuid4())
        if not self._authorized(request):
            return self._error(401, "Authentication failed.", request_id)
        with self.lock:
            used = self.usage
        return self._answer(200, {"totalUsage": used}, request_id)

    async def _info(self, request: web.Request) -> web.Response:
        request_id = str(uuid.uuid4())
        if not self._authorized(request):
            return self._error(401, "Authentication failed.", request_id)
        return self._answer(200, {"userId": user_id(0xB05A1), "basicId": "@123bousai",
                                  "displayName": "Bousai Test", "chatMode": "bot",
                                  "markAsReadMode": "auto"}, request_id)


# ------------------------------------------------------------- acting as a user

def webhook_event(kind: str, user: str, **fields: Any) -> dict[str, Any]:
    """One LINE webhook event from ``user``: ``follow`` (``is_unblocked=``),
    ``unfollow``, ``message`` (``text=``), ``postback`` (``data=``) or ``location``
    (a message event of type location: ``latitude=``, ``longitude=``, optional
    ``address=`` and ``title=``). Other
    keyword arguments override top-level event fields (e.g. ``timestamp``)."""
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
    }
    if kind != "unfollow":
        event["replyToken"] = uuid.uuid4().hex
    if kind == "follow":
        event["follow"] = {"isUnblocked": bool(fields.pop("is_unblocked", False))}
    elif kind == "message":
        event["message"] = {"type": "text", "id": str(random.randrange(10**17, 10**18)),
                            "quoteToken": uuid.uuid4().hex, "text": str(fields.pop("text", ""))}
    elif kind == "postback":
        event["postback"] = {"data": str(fields.pop("data", ""))}
    elif kind == "location":  # a location message, as LINE sends it
        event["type"] = "message"
        event["message"] = {"type": "location", "id": str(random.randrange(10**17, 10**18)),
                            "quoteToken": uuid.uuid4().hex,
                            "latitude": float(fields.pop("latitude")),
                            "longitude": float(fields.pop("longitude"))}
        for key in ("title", "address"):
            if key in fields:
                event["message"][key] = str(fields.pop(key))
    elif kind != "unfollow":
        raise ValueError(f"unknown LINE webhook event kind {kind!r}")
    event.update(fields)
    return event


def _quick_reply_error(quick: Any) -> str | None:
    """LINE's limits on a quick reply: 1-13 items, each an action with a label of
    1-20 characters; a postback's data 1-300 characters."""
    if quick is None:
        return None
    items = quick.get("items") if isinstance(quick, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= 13:
        return "Size must be between 1 and 13"
    for item in items:
        action = item.get("action") if isinstance(item, dict) else None
        if not isinstance(action, dict):
            return "May not be null"
        label = action.get("label")
        if not isinstance(label, str) or not 1 <= len(label) <= 20:
            return "Length of the label must be between 1 and 20"
        if action.get("type") == "postback" and not 1 <= len(str(action.get("data", ""))) <= 300:
            return "Length of the data must be between 1 and 300"
    return None


def signed_body(
    events: list[dict[str, Any]], channel_secret: str, *, destination: str = user_id(0xB05A1)
) -> tuple[bytes, str]:
    """The raw webhook body LINE would POST and its ``x-line-signature``."""
    body = json.dumps({"destination": destination, "events": events},
                      ensure_ascii=False).encode("utf-8")
    return body, sign(body, channel_secret)
