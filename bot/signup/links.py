"""Sign-up links for posters and flyers.

Telegram: ``https://t.me/<username>?start=<lang>-<ward>`` (``<lang>-all`` for the
whole city); opening it and pressing Start subscribes at once
(:func:`bot.signup.common.parse_payload` reads the payload). Without a payload the
bot asks for the language, then the area. LINE: the add-friend link
``https://line.me/R/ti/p/<basic id>`` (LINE carries no start payload; the follow
greeting asks for language and area). Broadcast channels: a language's public
Telegram channel, ``https://t.me/<channel username>``
(:func:`broadcast_channel_link`), shown after subscribing, in the help and on
that language's poster.
"""

from __future__ import annotations

from bot.config import Config

DEFAULT_TELEGRAM_USERNAME = "bousai_kumamoto_bot"


def telegram_link(username: str, language: str | None = None, ward: str | None = None) -> str:
    base = f"https://t.me/{username.lstrip('@')}"
    if language is None:
        return base
    return f"{base}?start={language}-{ward}" if ward else f"{base}?start={language}"


def line_link(basic_id: str) -> str:
    return f"https://line.me/R/ti/p/{basic_id}"


def telegram_username(config: Config) -> str | None:
    """The bot's username when Telegram is enabled, else None."""
    tg = config.channels.get("telegram")
    if tg is None or not tg.enabled:
        return None
    return str(tg.options.get("username") or DEFAULT_TELEGRAM_USERNAME).lstrip("@")


def line_basic_id(config: Config) -> str | None:
    """The LINE account's basic id (``@123abcde``) when LINE is enabled and has one."""
    line = config.channels.get("line")
    basic_id = str(line.options.get("basic_id") or "") if line is not None else ""
    return basic_id if line is not None and line.enabled and basic_id else None


def broadcast_channel(config: Config, language: str) -> str | None:
    """``language``'s Telegram broadcast channel (@username) when the channels are
    enabled and that language has a public one, else None."""
    ch = config.channels.get("tg_channels")
    if ch is None or not ch.enabled:
        return None
    chats = ch.options.get("chats") or {}
    chat = chats.get(language) if isinstance(chats, dict) else None
    return chat if isinstance(chat, str) and chat.startswith("@") else None


def broadcast_channel_link(config: Config, language: str) -> str | None:
    """The link to ``language``'s Telegram broadcast channel, or None."""
    chat = broadcast_channel(config, language)
    return f"https://t.me/{chat[1:]}" if chat else None
