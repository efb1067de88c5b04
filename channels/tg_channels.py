"""Telegram broadcast channels: one public channel per language, one post per alert.

A city runs a Telegram channel per language (``@kumamoto_bousai_vi``), the bot
an administrator of each with the right to post. Each alert is posted once per
channel, so everyone who joined a channel has it within about a second however
many they are; the per-chat bot (:mod:`channels.telegram`) goes on sending to
each subscriber, and alone takes the ward-targeted alerts. A fan-out mode of
its own (:attr:`~channels.base.FanoutMode.BROADCAST`): one delivery row per
language whose recipient is that language's channel chat, and an update,
lifting or cancellation replies to the original post in the same channel.

The channel's name is ``tg_channels`` (the database's channel columns hold 16
characters). Configuration (``[channels.tg_channels]``)::

    enabled = true
    kinds = ["earthquake", "tsunami", "eew", "evacuation"]  # default: every public kind
    [channels.tg_channels.chats]
    ja = "@kumamoto_bousai_ja"
    vi = "@kumamoto_bousai_vi"
    en = "-1001234567890"          # a channel without a @username: its numeric id

A chat is a ``@username`` (5 to 32 letters, digits or underscores, a letter
first) or a channel's numeric id (``-100`` and digits). ``languages``, when
given, must each have a chat. The posts go out through the same bot token as
the per-chat messages and spend the same bot-wide rate: the dispatcher gives
both one pacer (:attr:`pace_key`).

Errors are the per-chat bot's (:class:`~channels.telegram.TelegramChannel`),
except that a channel the bot cannot post to (400 "chat not found", 403 "bot is
not a member of the channel chat", no right to post) fails that language's
delivery with a reason that says what to fix; the other languages go on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from channels.base import (
    BadOption,
    ChannelError,
    ChannelSpec,
    FanoutMode,
    OutgoingMessage,
    RecipientError,
)
from channels.telegram import TelegramChannel

CHAT_PATTERN = r"@[A-Za-z][A-Za-z0-9_]{4,31}|-100[0-9]{1,13}"
CHAT_FORMAT = "a @username of 5 to 32 letters, digits or _, or a -100… channel id"


def channel_link(chat: str) -> str | None:
    """The public link to a channel chat (https://t.me/<username>); None for a channel
    known only by its numeric id (a private channel has invite links instead)."""
    return f"https://t.me/{chat[1:]}" if chat.startswith("@") else None


class TelegramChannelsChannel(TelegramChannel):
    spec: ClassVar[ChannelSpec] = dataclasses.replace(
        TelegramChannel.spec,
        name="tg_channels",
        fanout=FanoutMode.BROADCAST,
        user_id_pattern=CHAT_PATTERN,
        user_id_format=CHAT_FORMAT,
        takes_subscribers=False,
    )

    @property
    def pace_key(self) -> str:
        return TelegramChannel.spec.name  # one bot, one bot-wide rate

    def paid_for(self, kind: str, severity: int) -> bool:
        return False  # one post per channel: nothing to speed up

    # ------------------------------------------------------------ options

    @classmethod
    def broadcast_targets(cls, options: Mapping[str, Any]) -> dict[str, str]:
        chats = options.get("chats")
        if not isinstance(chats, Mapping) or not chats:
            raise BadOption("chats", "must be a table of language = channel chat, e.g. "
                                     'vi = "@kumamoto_bousai_vi"')
        out: dict[str, str] = {}
        for lang, chat in chats.items():
            if not isinstance(chat, str) or not re.fullmatch(CHAT_PATTERN, chat,
                                                             flags=re.ASCII):
                raise BadOption(f"chats.{lang}",
                                f"{chat!r} is not a channel chat ({CHAT_FORMAT})")
            out[str(lang)] = chat
        langs = options.get("languages")
        if langs is not None:
            if not isinstance(langs, list) or not all(isinstance(t, str) for t in langs):
                raise BadOption("languages", f"must be a list of language tags, got {langs!r}")
            missing = [t for t in langs if t not in out]
            if missing:
                raise BadOption("languages", f"{', '.join(missing)} has no channel: add "
                                             f"chats.{missing[0]} or leave it out")
            out = {t: out[t] for t in langs}
        return out

    @classmethod
    def broadcast_kinds(cls, options: Mapping[str, Any]) -> frozenset[str] | None:
        kinds = options.get("kinds")
        if kinds is None:
            return None
        if not isinstance(kinds, list) or not kinds or \
                not all(isinstance(k, str) and k for k in kinds):
            raise BadOption("kinds", f"must be a non-empty list of alert kinds, got {kinds!r}")
        return frozenset(kinds)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        super().check_options(options)
        cls.broadcast_targets(options)
        cls.broadcast_kinds(options)

    @classmethod
    def check_languages(cls, options: Mapping[str, Any], enabled: tuple[str, ...]) -> None:
        for lang in cls.broadcast_targets(options):
            if lang not in enabled:
                raise BadOption(f"chats.{lang}",
                                f"{lang!r} is not in languages.enabled")

    # ------------------------------------------------------------ the platform

    async def member_count(self, chat: str) -> int:
        """How many people have joined ``chat`` (getChatMemberCount)."""
        if not self._started:
            await self.start()
        try:
            return int(await self.bot.get_chat_member_count(chat_id=chat))
        except Exception as exc:
            err = TelegramChannel.map_error(self, exc, None)
            if isinstance(err, RecipientError):
                err = RecipientError(f"no member count for {chat}: {exc}", channel=self.name)
            raise err from exc

    def map_error(self, exc: Exception, message: OutgoingMessage | None) -> ChannelError:
        err = super().map_error(exc, message)
        if isinstance(err, RecipientError):
            chat = message.recipients[0] if message is not None else "the channel"
            return RecipientError(
                f"cannot post to {chat}: {exc} (the bot must be an administrator of the "
                "channel with the right to post messages)", channel=self.name,
                recipients=err.recipients)
        return err
