"""LINE sign-up: webhook events answered with the reply API and quick replies.

:func:`bot.web.create_app` reads the raw body, has :meth:`LineSignup.verify` check
``x-line-signature`` before anything is parsed, then passes the JSON to
:meth:`LineSignup.handle`. Events::

    follow          welcome in 日本語, English and やさしい日本語 + language quick reply
    unfollow        the subscriber is deactivated
    postback        a quick-reply tap (same data as Telegram's buttons)
    message (text)  a command word in any enabled language ("stop", "停止", "ていし" ...),
                    a deep-link payload typed as text ("vi-43101"), or a ward's name
    message (location)  ward, alerts in force, nearest shelters (bot.signup.residents)
    anything else   ignored, with a log line

Only one-to-one chats (source type ``user``) are served; the subscriber's id is
LINE's user id, nothing else is stored. A reply that LINE refuses (an expired reply
token) is logged; the settings were saved all the same.

Rich menus (:mod:`bot.signup.menus`): :meth:`LineSignup.setup_menus` runs at
start-up; when a user chooses a language their menu is linked after the reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException

from bot.errors import BousaiError, ConfigError, ValidationError
from bot.posters.fonts import DEFAULT_FONT_DIR
from bot.service import Service
from bot.signup.actions import MenuConversation
from bot.signup.common import COMMANDS, Reply, parse_payload
from bot.signup.menus import RichMenus, data_base_url
from bot.signup.residents import RESIDENT_COMMANDS, Residents
from bot.store.webhooks import first_time, forget
from bot.webguard import HttpLimits
from channels.line import verify_signature

log = logging.getLogger(__name__)

MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_MESSAGES = 5


def _normal(word: str) -> str:
    """Full-width and half-width forms alike, case-insensitive: "ＨＥＬＰ" is "help"."""
    return unicodedata.normalize("NFKC", word).strip().casefold()


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


def _redelivered(event: Mapping[str, Any]) -> bool:
    context = event.get("deliveryContext")
    return isinstance(context, Mapping) and context.get("isRedelivery") is True


def to_message(reply: Reply) -> TextMessage:
    quick = None
    if reply.buttons:
        quick = QuickReply(items=[
            QuickReplyItem(action=PostbackAction(label=_label(b.label), data=b.data,
                                                 displayText=b.label))
            for b in reply.buttons[:MAX_QUICK_REPLIES]])
    return TextMessage(text=reply.text[:5000], quickReply=quick, quoteToken=None)


class LineSignup:
    def __init__(self, svc: Service, *, channel_secret: str, access_token: str,
                 base_url: str = "https://api.line.me", timeout: float = 10.0,
                 font_dir: Path = DEFAULT_FONT_DIR) -> None:
        if not channel_secret:
            raise ConfigError("LINE_CHANNEL_SECRET is not set in the environment",
                              key="channels.line.enabled")
        if not access_token:
            raise ConfigError("LINE_CHANNEL_ACCESS_TOKEN is not set in the environment",
                              key="channels.line.enabled")
        self._secret = channel_secret
        self._access_token = access_token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client: AsyncApiClient | None = None
        self._api: AsyncMessagingApi | None = None
        self._links: dict[str, str | None] = {}  # user → language whose menu to link
        self.conversation = MenuConversation(svc, "line", command_label=self._command_label,
                                             max_buttons=MAX_QUICK_REPLIES,
                                             on_language=self._links.__setitem__)
        self.engine = svc.engine
        self.max_event_age = HttpLimits.from_config(svc.config).line_max_event_age
        self.residents = Residents(svc, self.conversation)
        self._commands = self._command_words()
        self.menus = RichMenus(svc.config, self.conversation.catalogs, font_dir)

    @classmethod
    def from_service(cls, svc: Service) -> LineSignup:
        s = svc.settings
        return cls(svc, channel_secret=s.secret("LINE_CHANNEL_SECRET").get(),
                   access_token=s.secret("LINE_CHANNEL_ACCESS_TOKEN").get(),
                   base_url=s.base_urls["line"],
                   font_dir=Path(os.environ.get("BOUSAI_FONT_DIR") or DEFAULT_FONT_DIR))

    def __repr__(self) -> str:  # never the secret or the token
        return f"LineSignup(base_url={self.base_url!r})"

    def _command_label(self, language: str, name: str) -> str:
        return self.conversation.t(language, f"cmd.{name}")

    def _command_words(self) -> dict[str, str]:
        """Every way to type a command: its English name and its word in every catalog."""
        names = (*COMMANDS, *RESIDENT_COMMANDS)
        words = {name: name for name in names}
        cats = self.conversation.catalogs.by_language
        for cat in cats.values():
            for name in names:
                word = cat.messages.get(f"cmd.{name}")
                if word:
                    words.setdefault(_normal(word), name)
        return words

    def match_command(self, text: str) -> str | None:
        return self._commands.get(_normal(text.strip().lstrip("/／")))

    def verify(self, body: bytes, signature: str | None) -> bool:
        return verify_signature(body, signature, self._secret)

    async def _messaging(self) -> AsyncMessagingApi:
        if self._api is None:
            config = Configuration(host=self.base_url, access_token=self._access_token)
            self._client = AsyncApiClient(config)
            self._api = AsyncMessagingApi(self._client)
        return self._api

    async def setup_menus(self) -> bool:
        """Create or reuse the rich menus (start-up). False, with the reason logged,
        when they could not be set up; sign-up works without them."""
        api = await self._messaging()
        blob_client = AsyncApiClient(Configuration(host=data_base_url(self.base_url),
                                                   access_token=self._access_token))
        try:
            await self.menus.setup(api, AsyncMessagingApiBlob(blob_client))
            return True
        except ApiException as exc:
            log.error("line: rich menus not set up: LINE answered %s %s", exc.status,
                      str(exc.body or "")[:200])
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.error("line: rich menus not set up: %s", type(exc).__name__)
        except BousaiError as exc:  # a font is missing
            log.error("line: rich menus not set up: %s", exc)
        finally:
            await blob_client.close()
        return False

    async def _link_menu(self, user: str) -> None:
        if user not in self._links:
            return
        language = self._links.pop(user)
        try:
            await self.menus.link(await self._messaging(), user, language)
        except ApiException as exc:
            log.warning("line: rich menu not linked (%s)", exc.status)
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.warning("line: rich menu not linked (%s)", type(exc).__name__)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client, self._api = self._client, None, None
            await client.close()

    # ------------------------------------------------------------ events

    async def handle(self, payload: Mapping[str, Any]) -> None:
        """A verified webhook body. Raises on a database or programming error (the
        web layer answers 500 and LINE may redeliver)."""
        events = payload.get("events")
        if not isinstance(events, list):
            raise ValidationError("body without an events list")
        for event in events:
            if not isinstance(event, Mapping):
                log.warning("line webhook: an event that is not an object ignored")
                continue
            if not self._fresh(event):
                continue
            event_id = event.get("webhookEventId")
            if isinstance(event_id, str) and event_id:
                if not await asyncio.to_thread(first_time, self.engine, "line", event_id):
                    log.info("line webhook: event %s already handled (%s) ignored",
                             event_id[:40], "redelivery" if _redelivered(event) else "replay")
                    continue
                try:
                    await self.handle_event(event)
                except BaseException:
                    await asyncio.to_thread(forget, self.engine, "line", event_id)
                    raise
            else:
                await self.handle_event(event)

    def _fresh(self, event: Mapping[str, Any]) -> bool:
        """An event stamped within ``max_event_age`` seconds of now (either way); an
        older one (a captured body replayed, or 1970) is refused with one line."""
        stamp = event.get("timestamp")
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            log.warning("line webhook: event without a timestamp refused")
            return False
        age = time.time() - stamp / 1000
        if abs(age) > self.max_event_age:
            log.warning("line webhook: event stamped %.0fs %s refused (limit %gs)", abs(age),
                        "ago" if age > 0 else "ahead", self.max_event_age)
            return False
        return True

    async def handle_event(self, event: Mapping[str, Any]) -> None:
        kind = str(event.get("type", ""))
        source = event.get("source")
        user = source.get("userId") if isinstance(source, Mapping) else None
        if not isinstance(source, Mapping) or source.get("type") != "user" \
                or not isinstance(user, str) or not user or len(user) > 128:
            log.info("line webhook: %s event not from a one-to-one chat ignored", kind[:20])
            return
        conv = self.conversation
        replies: list[Reply]
        if kind in ("message", "postback") and not self.residents.allow(user):
            return  # over the chat's rate: dropped without a reply
        if kind == "follow":
            replies = await asyncio.to_thread(conv.start, user, None, None)
        elif kind == "unfollow":
            await asyncio.to_thread(conv.unfollow, user)
            return
        elif kind == "postback":
            postback = event.get("postback")
            data = postback.get("data") if isinstance(postback, Mapping) else None
            replies = await asyncio.to_thread(self._postback, user, str(data or "")[:300])
        elif kind == "message":
            message = event.get("message")
            text = message.get("text") if isinstance(message, Mapping) else None
            if isinstance(message, Mapping) and message.get("type") == "location":
                replies = await asyncio.to_thread(self.residents.location, user,
                                                  message.get("latitude"),
                                                  message.get("longitude"))
            elif not isinstance(message, Mapping) or message.get("type") != "text" \
                    or not isinstance(text, str):
                log.info("line webhook: non-text message ignored")
                return
            else:
                replies = await asyncio.to_thread(self._text, user, text)
        else:
            log.info("line webhook: %s event ignored", kind[:40] or "untyped")
            return
        token = event.get("replyToken")
        if isinstance(token, str) and token:
            await self._reply(token, replies)
        await self._link_menu(user)

    def _postback(self, user: str, data: str) -> list[Reply]:
        ours = self.residents.choose(user, data)
        return ours if ours is not None else self.conversation.choose(user, data)

    def _text(self, user: str, text: str) -> list[Reply]:
        conv = self.conversation
        name = self.match_command(text)
        if name == "start":
            self.residents.audit("chat_command", command="start")
            return conv.start(user, None)
        if name is not None:
            return self.residents.command(user, name)
        if parse_payload(text, conv.config) is not None:
            self.residents.audit("chat_command", command="start")
            return conv.start(user, text.strip())
        typed = self.residents.text(user, text)
        return typed if typed is not None else conv.unknown(user)

    async def _reply(self, token: str, replies: Sequence[Reply]) -> None:
        if not replies:
            return
        api = await self._messaging()
        messages = [to_message(r) for r in replies[:MAX_MESSAGES]]
        try:
            await api.reply_message(ReplyMessageRequest(replyToken=token, messages=messages,
                                                        notificationDisabled=False),
                                    _request_timeout=self.timeout)
        except ApiException as exc:
            log.warning("line: reply refused (%s); the settings were saved", exc.status)
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.warning("line: reply failed (%s); the settings were saved",
                        type(exc).__name__)
