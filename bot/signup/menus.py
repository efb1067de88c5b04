"""Menus set up at start-up: Telegram's command menu and LINE's rich menus.

Telegram: ``setMyCommands`` once per language (scope default, ``language_code``
the language's two-letter code), and once without a language code (the fallback
language, English for 熊本市) for everyone else. Bot API language codes are ISO
639-1, so ``ja-easy`` has no menu of its own and ``zh`` gets zh-Hans.

LINE: one rich menu per language (Latest, Shelters, Safety, Settings; postback
data ``action=latest`` ...), each named ``bousai <lang> <version>`` where the
version is a digest of the menu and its picture's inputs. At start-up the existing
menus are listed and one with the right name is reused; otherwise it is created
and its PNG uploaded (a menu whose upload fails is deleted again). The fallback
language's menu becomes the default, and a user's menu is linked when they choose
a language (unlinked when they erase their data). Two processes starting at once
may both create a menu: both then keep the one with the smallest id and delete
the other. Menus of an older version are left in place (their buttons still
work) and users move to the new one when they next choose a language.

Failures are logged and leave sign-up working: a menu is a convenience.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.render.catalog import Catalogs
from bot.signup.actions import MENU_ACTIONS, MENU_COMMANDS

log = logging.getLogger(__name__)

LAYOUT_VERSION = "1"  # change with the picture or the areas: a new menu is made
NAME_PREFIX = "bousai "
MAX_CHAT_BAR = 14
MAX_LABEL = 20


def menu_language(config: Config) -> str:
    """The language of the menus shown before a user chose one."""
    for tag in (*config.fallback_languages, config.default_language):
        if tag in config.languages and "-" not in tag:
            return tag
    return config.default_language


def telegram_code(language: str) -> str | None:
    """The Bot API ``language_code`` for a language: its ISO 639-1 part; None for a
    variant that shares its code with the language itself (ja-easy, zh-Hant)."""
    code = language.split("-")[0].lower()
    if len(code) != 2:
        return None
    if language in ("ja-easy", "zh-Hant"):
        return None
    return code


def telegram_commands(catalogs: Catalogs, language: str) -> list[tuple[str, str]]:
    """(command, description) for the menu, in ``language``."""
    return [(name, catalogs.text(language, f"cmd.desc.{name}")[:256]) for name in MENU_COMMANDS]


async def set_telegram_commands(bot: Any, config: Config, catalogs: Catalogs) -> int:
    """Set the command menu for every language; returns the number of calls made."""
    from telegram import BotCommand, BotCommandScopeDefault

    calls = 0
    plans: list[tuple[str, str | None]] = [(menu_language(config), None)]
    plans += [(lang, telegram_code(lang)) for lang in config.languages if telegram_code(lang)]
    for language, code in plans:
        commands = [BotCommand(c, d) for c, d in telegram_commands(catalogs, language)]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
        calls += 1
    return calls


# ------------------------------------------------------------------ LINE

def rich_menu_labels(catalogs: Catalogs, language: str) -> list[str]:
    return [catalogs.text(language, f"menu.{name}") for name in MENU_ACTIONS]


def rich_menu_request(catalogs: Catalogs, language: str, name: str) -> dict[str, Any]:
    """The rich menu object (Messaging API JSON) for ``language``."""
    from bot.signup.menu_image import HEIGHT, WIDTH, tile_bounds

    areas = []
    for i, (action, label) in enumerate(zip(MENU_ACTIONS, rich_menu_labels(catalogs, language),
                                            strict=True)):
        x, y, w, h = tile_bounds(i)
        areas.append({"bounds": {"x": x, "y": y, "width": w, "height": h},
                      "action": {"type": "postback", "label": label[:MAX_LABEL],
                                 "data": f"action={action}", "displayText": label}})
    return {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True, "name": name,
            "chatBarText": catalogs.text(language, "menu.chat_bar")[:MAX_CHAT_BAR],
            "areas": areas}


def rich_menu_name(catalogs: Catalogs, language: str, font_dir: Path) -> str:
    """``bousai <lang> <digest>``: the digest changes when the labels, the layout or
    the font files change, so a restart reuses an unchanged menu."""
    from bot.posters.fonts import FACES, script_of  # fonts load only where LINE is on

    body = rich_menu_request(catalogs, language, "")
    face = FACES[script_of(language)]
    digest = hashlib.sha256(json.dumps([LAYOUT_VERSION, body, face.files, str(font_dir)],
                                       ensure_ascii=False, sort_keys=True).encode())
    return f"{NAME_PREFIX}{language} {digest.hexdigest()[:12]}"


def data_base_url(base_url: str) -> str:
    """Where rich menu images go: LINE serves them from api-data.line.me; a local
    server (a proxy, the fake) serves both from one base URL."""
    return "https://api-data.line.me" if base_url.rstrip("/") == "https://api.line.me" \
        else base_url.rstrip("/")


class RichMenus:
    """The rich menus of one LINE channel: ``ids`` maps language → rich menu id."""

    def __init__(self, config: Config, catalogs: Catalogs, font_dir: Path) -> None:
        self.config = config
        self.catalogs = catalogs
        self.font_dir = font_dir
        self.ids: dict[str, str] = {}

    async def setup(self, api: Any, blob: Any) -> dict[str, str]:
        """Reuse or create every language's menu and set the default one."""
        from linebot.v3.messaging import RichMenuRequest

        wanted = {lang: rich_menu_name(self.catalogs, lang, self.font_dir)
                  for lang in self.config.languages}
        existing = await self._ours(api)
        created = 0
        for lang, name in wanted.items():
            if existing.get(name):
                self.ids[lang] = min(existing[name])
                continue
            body = rich_menu_request(self.catalogs, lang, name)
            response = await api.create_rich_menu(RichMenuRequest.from_dict(body))
            menu_id = response.rich_menu_id
            try:
                png = await asyncio.to_thread(self._image, lang)
                await blob.set_rich_menu_image(menu_id, png,
                                               _headers={"Content-Type": "image/png"})
            except BaseException:
                await api.delete_rich_menu(menu_id)
                raise
            self.ids[lang] = menu_id
            created += 1
        if created:
            await self._converge(api, wanted)
        default = self.ids.get(menu_language(self.config))
        if default is not None:
            await api.set_default_rich_menu(default)
        stale = sum(len(ids) for name, ids in existing.items() if name not in wanted.values())
        log.info("line: rich menus ready (%d languages, %d created, %d of an older version "
                 "kept)", len(self.ids), created, stale)
        return dict(self.ids)

    def _image(self, language: str) -> bytes:
        from bot.signup.menu_image import render

        return render(rich_menu_labels(self.catalogs, language), language, self.font_dir)

    @staticmethod
    async def _ours(api: Any) -> dict[str, list[str]]:
        listing = await api.get_rich_menu_list()
        found: dict[str, list[str]] = {}
        for menu in listing.richmenus or []:
            if menu.name.startswith(NAME_PREFIX):
                found.setdefault(menu.name, []).append(menu.rich_menu_id)
        return found

    async def _converge(self, api: Any, wanted: Mapping[str, str]) -> None:
        """If another process created the same menu meanwhile, keep the smallest id."""
        existing = await self._ours(api)
        for lang, name in wanted.items():
            ids = sorted(existing.get(name, []))
            if len(ids) > 1:
                self.ids[lang] = ids[0]
                for extra in ids[1:]:
                    await api.delete_rich_menu(extra)

    async def link(self, api: Any, user_id: str, language: str | None) -> None:
        """Show ``user_id`` their language's menu (None: back to the default)."""
        if language is None:
            await api.unlink_rich_menu_id_from_user(user_id)
            return
        menu_id = self.ids.get(language)
        if menu_id is not None:
            await api.link_rich_menu_id_to_user(user_id, menu_id)
