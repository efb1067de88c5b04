"""The fake Telegram's command menus (setMyCommands, getMyCommands, deleteMyCommands):
validated as the Bot API validates them and recorded in ``command_menus`` by scope
type and language code. Mixed into :class:`bot.fakes.telegram.FakeTelegram`."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from aiohttp import web

_SCOPES = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators",
           "chat", "chat_administrators", "chat_member"}


class CommandMenus:
    command_menus: dict[tuple[str, str], list[dict[str, str]]]
    lock: threading.RLock

    if TYPE_CHECKING:  # FakeTelegram's
        @staticmethod
        def _error(status: int, description: str, **parameters: Any) -> web.Response: ...

        @staticmethod
        def _ok(result: Any) -> web.Response: ...

    def _menu_key(self, params: dict[str, Any]) -> tuple[str, str] | web.Response:
        scope = params.get("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in _SCOPES:
            return self._error(400, "Bad Request: can't parse BotCommandScope: "
                                       "Unsupported scope type")
        code = params.get("language_code") or ""
        if not isinstance(code, str) or (code and not re.fullmatch(r"[a-z]{2}", code)):
            return self._error(400, "Bad Request: invalid language code specified")
        return kind, code

    async def _m_setmycommands(self, params: dict[str, Any]) -> web.Response:
        """Bot API setMyCommands: at most 100 commands, each 1-32 characters of
        a-z, 0-9 and _, with a description of 1-256 characters; per scope and
        language_code (empty, or two letters). An empty list removes the menu."""
        key = self._menu_key(params)
        if isinstance(key, web.Response):
            return key
        commands = params.get("commands", [])
        if not isinstance(commands, list):
            return self._error(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            return self._error(400, "Bad Request: too many commands")
        for c in commands:
            if not isinstance(c, dict) or "command" not in c:
                return self._error(400, 'Bad Request: can\'t parse BotCommand: Can\'t find '
                                   'field "command"')
            if "description" not in c:
                return self._error(400, 'Bad Request: can\'t parse BotCommand: Can\'t find '
                                   'field "description"')
            if not isinstance(c["command"], str) or not re.fullmatch(r"[a-z0-9_]{1,32}",
                                                                     c["command"]):
                return self._error(400, "Bad Request: BOT_COMMAND_INVALID")
            if not isinstance(c["description"], str) or not 1 <= len(c["description"]) <= 256:
                return self._error(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self.lock:
            if commands:
                self.command_menus[key] = [{"command": c["command"],
                                            "description": c["description"]} for c in commands]
            else:
                self.command_menus.pop(key, None)
        return self._ok(True)

    async def _m_getmycommands(self, params: dict[str, Any]) -> web.Response:
        key = self._menu_key(params)
        if isinstance(key, web.Response):
            return key
        with self.lock:
            return self._ok(list(self.command_menus.get(key, [])))

    async def _m_deletemycommands(self, params: dict[str, Any]) -> web.Response:
        return await self._m_setmycommands({**params, "commands": []})
