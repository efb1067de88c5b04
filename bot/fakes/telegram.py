"""A fake Telegram Bot API server (https://core.telegram.org/bots/api).

Speaks the subset the service uses: getMe, getUpdates, sendMessage,
editMessageText, setWebhook, deleteWebhook, answerCallbackQuery, and the command
menus (setMyCommands, getMyCommands, deleteMyCommands, validated and recorded in
``command_menus`` by scope and language code). Requests come
form-encoded (as python-telegram-bot sends them) or as JSON. It enforces the
flood limits when asked (about 30 messages/s per bot, 1/s per chat with a small
burst) with 429 and ``retry_after``, answers 403 for chats that blocked the bot,
401 for a wrong token, 400 ``Bad Request: message is too long`` for a text over
4096 UTF-16 units, and records every message it accepted. Test controls:
:meth:`fail_next` (any status and description, e.g. 400 ``Bad Request: chat not
found``), :meth:`garble_next` (a 200 whose result is not a Message, as a wrong
proxy might answer), :meth:`block`.

Broadcast channels: :meth:`add_channel` creates a channel chat (a @username, a
``-100…`` id, a member count, whether the bot is an administrator). sendMessage
takes it by @username or id and records the message under the id, with replies
(``reply_parameters`` or ``reply_to_message_id``) in that channel; an unknown
@username answers 400 ``Bad Request: chat not found``, a channel the bot is not
an administrator of 403 ``Forbidden: bot is not a member of the channel chat``.
getChatMemberCount answers the member count (any private chat: 2).

Paid broadcasts: a sendMessage with ``allow_paid_broadcast`` is counted against
``paid_rate_limit`` (default 1000/s when ``rate_limit`` is set) instead of the
free ``rate_limit``, and recorded as paid (:attr:`stars_spent`: 0.1 per message).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.fakes.base import FakeServer
from bot.fakes.telegram_menus import CommandMenus


@dataclass
class SentMessage:
    chat_id: str
    text: str
    message_id: int
    reply_to_message_id: int | None = None
    reply_markup: Any = None
    at: float = field(default_factory=time.monotonic)
    paid: bool = False  # sent with allow_paid_broadcast


@dataclass
class FakeChannelChat:
    """A Telegram channel: its numeric id, @username, members, the bot's rights."""

    id: int
    username: str | None
    members: int = 0
    bot_is_admin: bool = True
    title: str = "Channel"


class FakeTelegram(CommandMenus, FakeServer):
    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        rate_limit: float | None = None,
        paid_rate_limit: float | None = None,
        chat_rate_limit: float | None = None,
        chat_burst: int = 3,
        failure_rate: float = 0.0,
        timeout_delay: float | None = None,
        seed: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.token = token
        self.rate_limit = rate_limit
        self.paid_rate_limit = paid_rate_limit if paid_rate_limit is not None else (
            1000.0 if rate_limit is not None else None)
        self.channels: dict[int, FakeChannelChat] = {}
        self._channel_ids = itertools.count(1001234567000)
        self._paid_window: deque[float] = deque()
        self.chat_rate_limit = chat_rate_limit
        self.chat_burst = chat_burst
        self.failure_rate = failure_rate
        self.timeout_delay = timeout_delay  # with failure_rate: some failures hang, then 504
        self.timeouts = 0
        self.random = random.Random(seed)
        self.blocked: set[str] = set()
        self.sent: list[SentMessage] = []
        self.edits: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.too_many: int = 0
        self.injected_failures: int = 0
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        # setMyCommands by (scope type, language_code); "" is every other language
        self.command_menus: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._fail_queue: deque[tuple[int, str, int | None]] = deque()
        self._msg_ids: dict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._window: deque[float] = deque()
        self._chat_windows: dict[str, deque[float]] = defaultdict(deque)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._update_event: asyncio.Event | None = None

    # ------------------------------------------------------------ test controls

    def block(self, chat_id: str | int) -> None:
        with self.lock:
            self.blocked.add(str(chat_id))

    def fail_next(self, count: int = 1, status: int = 500, retry_after: int | None = None,
                  description: str | None = None) -> None:
        """The next ``count`` sends answer ``status`` (429 carries ``retry_after``) with
        ``description`` (default: "Internal Server Error: injected")."""
        with self.lock:
            for _ in range(count):
                self._fail_queue.append((status, description or "Internal Server Error: injected",
                                         retry_after))

    def garble_next(self, count: int = 1) -> None:
        """The next ``count`` sends answer 200 with a result that is not a Message."""
        with self.lock:
            for _ in range(count):
                self._fail_queue.append((200, "garbled", None))

    def messages_to(self, chat_id: str | int) -> list[SentMessage]:
        """Messages to a chat, a channel by @username or id."""
        channel = self._channel(str(chat_id))
        key = str(channel.id) if channel is not None else str(chat_id)
        with self.lock:
            return [m for m in self.sent if m.chat_id == key]

    def add_channel(self, username: str | None, *, members: int = 0, admin: bool = True,
                    chat_id: int | None = None) -> int:
        """A channel chat (``username`` with or without '@'); returns its id (-100…)."""
        with self.lock:
            cid = chat_id if chat_id is not None else -next(self._channel_ids)
            self.channels[cid] = FakeChannelChat(
                id=cid, username=username.lstrip("@") if username else None, members=members,
                bot_is_admin=admin, title=f"Channel {username or cid}")
        return cid

    @property
    def stars_spent(self) -> float:
        with self.lock:
            return round(0.1 * sum(1 for m in self.sent if m.paid), 1)

    def _channel(self, chat_id: str) -> FakeChannelChat | None:
        with self.lock:
            if chat_id.startswith("@"):
                name = chat_id[1:].lower()
                return next((c for c in self.channels.values()
                             if c.username and c.username.lower() == name), None)
            if chat_id.lstrip("-").isdigit():
                return self.channels.get(int(chat_id))
        return None

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update (message, callback_query ...) for getUpdates; returns its id."""
        with self.lock:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
        if self._loop is not None and self._update_event is not None:
            self._loop.call_soon_threadsafe(self._update_event.set)
        return update_id

    def user_message(self, chat_id: int, text: str, *, language_code: str = "en") -> int:
        """Queue a private text message from user ``chat_id``, as Telegram would deliver it."""
        user = {"id": chat_id, "is_bot": False, "first_name": "User",
                "language_code": language_code}
        msg: dict[str, Any] = {
            "message_id": next(self._msg_ids[str(chat_id)]),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "User"},
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            cmd_len = len(text.split()[0])
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": cmd_len}]
        return self.push_update({"message": msg})

    def user_location(self, chat_id: int, latitude: float, longitude: float, *,
                      language_code: str = "en") -> int:
        """Queue a location shared by user ``chat_id`` (the attachment menu's
        "Location"): a Message whose ``location`` is a Location object, no text."""
        user = {"id": chat_id, "is_bot": False, "first_name": "User",
                "language_code": language_code}
        return self.push_update({"message": {
            "message_id": next(self._msg_ids[str(chat_id)]),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "User"},
            "from": user,
            "location": {"latitude": latitude, "longitude": longitude,
                         "horizontal_accuracy": 20.0},
        }})

    def user_taps(self, chat_id: int, data: str, *, message_id: int = 1,
                  from_id: int | None = None, chat_type: str = "private",
                  text: str = "…") -> int:
        """Queue a tap on an inline-keyboard button that carries ``data``, by user
        ``from_id`` (default: the private chat's user) in chat ``chat_id``."""
        user = {"id": from_id if from_id is not None else chat_id, "is_bot": False,
                "first_name": "User"}
        return self.push_update({"callback_query": {
            "id": f"cb{time.monotonic_ns()}",
            "from": user,
            "chat_instance": str(chat_id),
            "data": data,
            "message": {"message_id": message_id, "date": int(time.time()),
                        "chat": {"id": chat_id, "type": chat_type}, "text": text},
        }})

    # ---------------------------------------------------------------- routes

    def routes(self, app: web.Application) -> None:
        self._update_event = asyncio.Event()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data = await request.json()
            return dict(data) if isinstance(data, dict) else {}
        form = await request.post()
        out: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                continue
            if value[:1] in "{[":
                try:
                    out[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            out[key] = value
        return out

    @staticmethod
    def _error(status: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        with self.lock:
            self.requests.append((method, params))
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return self._error(404, "Not Found")
        result: web.StreamResponse = await handler(params)
        return result

    async def _m_getme(self, params: dict[str, Any]) -> web.Response:
        return self._ok({"id": int(self.token.split(":")[0]), "is_bot": True,
                         "first_name": "Bousai", "username": "bousai_test_bot",
                         "can_join_groups": False, "can_read_all_group_messages": False,
                         "supports_inline_queries": False})

    def _limited(self, chat_id: str, paid: bool = False) -> web.Response | None:
        """Apply injected failures, random failures, then the flood limits."""
        now = time.monotonic()
        with self.lock:
            if self._fail_queue:
                status, desc, retry_after = self._fail_queue.popleft()
                self.injected_failures += 1
                if status == 429:
                    self.too_many += 1
                    return self._error(429, f"Too Many Requests: retry after {retry_after or 1}",
                                       retry_after=retry_after or 1)
                if status == 200:
                    return self._ok({"garbled": desc})
                return self._error(status, desc)
            if self.failure_rate and self.random.random() < self.failure_rate:
                self.injected_failures += 1
                choices = (500, 429, 502, 504) if self.timeout_delay else (500, 429, 502)
                status = self.random.choice(choices)
                if status == 504:
                    self.timeouts += 1
                    # The handler hangs past the client's timeout, then answers 504
                    # without sending: a request lost before the platform acted on it.
                    return self._error(504, "Gateway Timeout")
                if status == 429:
                    self.too_many += 1
                    return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
                return self._error(status, "Internal Server Error")
            # a paid broadcast ignores the free broadcasting limit, up to its own
            window, limit = (self._paid_window, self.paid_rate_limit) if paid \
                else (self._window, self.rate_limit)
            if limit is not None:
                while window and now - window[0] >= 1.0:
                    window.popleft()
                if len(window) >= limit:
                    self.too_many += 1
                    return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
            if self.chat_rate_limit is not None:
                w = self._chat_windows[chat_id]
                while w and now - w[0] >= self.chat_burst / self.chat_rate_limit:
                    w.popleft()
                if len(w) >= self.chat_burst:
                    self.too_many += 1
                    return self._error(429, "Too Many Requests: retry after 1", retry_after=1)
                w.append(now)
            if limit is not None:
                window.append(now)
        return None

    async def _m_sendmessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        text = params.get("text", "")
        if not chat_id or not isinstance(text, str) or not text:
            return self._error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return self._error(400, "Bad Request: message is too long")
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if not _valid_markup(params.get("reply_markup")):
            return self._error(400, "Bad Request: BUTTON_DATA_INVALID")
        channel = self._channel(chat_id)
        if channel is None and chat_id.startswith("@"):
            return self._error(400, "Bad Request: chat not found")
        if channel is not None:
            if not channel.bot_is_admin:
                return self._error(403, "Forbidden: bot is not a member of the channel chat")
            chat_id = str(channel.id)
        paid = _flag(params.get("allow_paid_broadcast"))
        limited = self._limited(chat_id, paid)
        if limited is not None:
            if limited.status == 504 and self.timeout_delay:
                await asyncio.sleep(self.timeout_delay)
            return limited
        reply_to = None
        rp = params.get("reply_parameters")
        without_reply = _flag(params.get("allow_sending_without_reply"))
        if isinstance(rp, dict):
            reply_to = int(rp.get("message_id", 0)) or None
            without_reply = without_reply or _flag(rp.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id"):
            reply_to = int(params["reply_to_message_id"])
        with self.lock:
            if channel is not None and reply_to is not None and not any(
                    m.chat_id == chat_id and m.message_id == reply_to for m in self.sent):
                if not without_reply:
                    return self._error(400, "Bad Request: message to be replied not found")
                reply_to = None
            message_id = next(self._msg_ids[chat_id])
            self.sent.append(SentMessage(chat_id=chat_id, text=text, message_id=message_id,
                                         reply_to_message_id=reply_to,
                                         reply_markup=params.get("reply_markup"), paid=paid))
        chat: dict[str, Any] = {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else 0,
                                "type": "private"}
        if channel is not None:
            chat = {"id": channel.id, "type": "channel", "title": channel.title,
                    **({"username": channel.username} if channel.username else {})}
        body: dict[str, Any] = {"message_id": message_id, "date": int(time.time()),
                                "chat": chat, "text": text}
        if reply_to is not None:
            body["reply_to_message"] = {"message_id": reply_to, "date": int(time.time()),
                                        "chat": chat}
        return self._ok(body)

    async def _m_getchatmembercount(self, params: dict[str, Any]) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        channel = self._channel(chat_id)
        if channel is not None:
            return self._ok(channel.members)
        if chat_id.startswith("@") or not chat_id.lstrip("-").isdigit():
            return self._error(400, "Bad Request: chat not found")
        return self._ok(2)  # a private chat: the user and the bot

    async def _m_editmessagetext(self, params: dict[str, Any]) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        if chat_id in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        with self.lock:
            self.edits.append(params)
        return self._ok({"message_id": int(params.get("message_id", 0)), "date": int(time.time()),
                         "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else 0,
                                  "type": "private"},
                         "text": params.get("text", "")})

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> web.Response:
        with self.lock:
            self.callback_answers.append(params)
        return self._ok(True)

    async def _m_getupdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return self._ok(ready)
            assert self._update_event is not None
            self._update_event.clear()
            try:
                await asyncio.wait_for(self._update_event.wait(),
                                       max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                pass

    async def _m_setwebhook(self, params: dict[str, Any]) -> web.Response:
        with self.lock:
            self.webhook_url = params.get("url") or None
            self.webhook_secret = params.get("secret_token") or None
        return self._ok(True)

    async def _m_deletewebhook(self, params: dict[str, Any]) -> web.Response:
        with self.lock:
            self.webhook_url = None
        return self._ok(True)


def _flag(value: Any) -> bool:
    """A boolean parameter as it arrives form-encoded ("true") or in JSON (true)."""
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _valid_markup(markup: Any) -> bool:
    """An inline keyboard's callback data is 1-64 bytes (Telegram: BUTTON_DATA_INVALID)."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return True
    rows = markup["inline_keyboard"]
    return isinstance(rows, list) and all(
        isinstance(row, list) and all(
            isinstance(b, dict) and isinstance(b.get("text"), str) and b["text"]
            and ("callback_data" not in b
                 or 1 <= len(str(b["callback_data"]).encode("utf-8")) <= 64)
            for b in row) for row in rows)
