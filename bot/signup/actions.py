"""Menu actions: what the Telegram command menu and the LINE rich menu do.

A menu entry sends a command (``/latest`` on Telegram) or postback data
(``action=latest`` on LINE, optionally with parameters: ``action=shelters&ward=43101``).
Both reach :meth:`MenuConversation.action`, which looks the name up in
:data:`ACTIONS`::

    latest     alerts in force for the user's wards         (handler to come)
    shelters   nearest shelters                              (handler to come)
    safety     the safety check (安否確認)                    (handler to come)
    settings   the user's settings, with buttons to change them
    language, area, kinds, status, help   the commands of the same name

An action without a handler answers with the help text, so a menu entry is never
dead. To add one, write ``def latest(conv, user_id, params, hint) -> list[Reply]``
and add ``"latest": latest`` to :data:`ACTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from bot.service import Service
from bot.signup.common import (
    COMMANDS,
    Button,
    CommandLabel,
    Conversation,
    Reply,
    parse_payload,
)
from bot.signup.state import Record, load

MENU_ACTIONS = ("latest", "shelters", "safety", "settings")
# Telegram's command menu: sign-up, the four menu actions, stop and help.
MENU_COMMANDS = ("start", *MENU_ACTIONS, "stop", "help")
_NAME_RE = re.compile(r"^[a-z_]{1,32}$")

# (conversation, user id, parameters of the postback data, language hint) -> replies
ActionHandler = Callable[["MenuConversation", str, Mapping[str, str], "str | None"],
                         list[Reply]]
# (user id, the language now chosen, or None once the user's data is erased)
LanguageListener = Callable[[str, "str | None"], None]


def parse_action(data: str) -> tuple[str, dict[str, str]] | None:
    """``action=shelters&ward=43101`` → ("shelters", {"ward": "43101"}); None if
    the data is not an action."""
    if not data.startswith("action="):
        return None
    try:
        pairs = parse_qsl(data, keep_blank_values=True, strict_parsing=True,
                          max_num_fields=10)
    except ValueError:
        return None
    params = dict(pairs)
    name = params.pop("action", "")
    return (name, params) if _NAME_RE.match(name) else None


def settings(conv: MenuConversation, user_id: str, params: Mapping[str, str],
             hint: str | None) -> list[Reply]:
    """The user's settings, with a button for each thing they can change."""
    with conv.engine.connect() as conn:
        rec: Record | None = load(conn, conv.channel, user_id)
    if rec is None:
        lang = conv._language_of(None, hint)
        return [Reply(conv.t(lang, "signup.status.none", start=conv.command_label(lang, "start")))]
    lang = rec.sub.language
    return [Reply(conv.status_text(rec.sub, rec.state), (
        Button(conv.t(lang, "settings.language"), "action=language"),
        Button(conv.t(lang, "settings.area"), "action=area"),
        Button(conv.t(lang, "settings.kinds"), "action=kinds"),
    ), columns=3)]


def _command(name: str) -> ActionHandler:
    def run(conv: MenuConversation, user_id: str, params: Mapping[str, str],
            hint: str | None) -> list[Reply]:
        return conv.command(user_id, name, hint)
    return run


ACTIONS: dict[str, ActionHandler] = {
    "settings": settings,
    **{name: _command(name) for name in ("language", "area", "kinds", "status", "help")},
}


class MenuConversation(Conversation):
    """The sign-up conversation with menu actions, and a listener told when a
    user's language changes (LINE links that language's rich menu)."""

    def __init__(self, svc: Service, channel: str, *, command_label: CommandLabel,
                 max_buttons: int | None = None,
                 actions: Mapping[str, ActionHandler] | None = None,
                 on_language: LanguageListener | None = None) -> None:
        super().__init__(svc, channel, command_label=command_label, max_buttons=max_buttons)
        self.actions: Mapping[str, ActionHandler] = ACTIONS if actions is None else actions
        self.on_language = on_language

    def is_action(self, name: str) -> bool:
        return name in self.actions or name in MENU_ACTIONS

    def action(self, user_id: str, name: str, params: Mapping[str, str] | None = None,
               hint: str | None = None) -> list[Reply]:
        handler = self.actions.get(name)
        if handler is None:  # a menu entry whose feature is not there yet: the help
            return self.command(user_id, "help", hint)
        return handler(self, user_id, params or {}, hint)

    def choose(self, user_id: str, data: str) -> list[Reply]:
        parsed = parse_action(data)
        if parsed is not None:
            return self.action(user_id, parsed[0], parsed[1])
        replies = super().choose(user_id, data)
        if data.startswith("lang:") and replies:
            self._tell(user_id)
        return replies

    def command(self, user_id: str, name: str, hint: str | None = None) -> list[Reply]:
        if name not in COMMANDS and self.is_action(name):
            return self.action(user_id, name, None, hint)
        replies = super().command(user_id, name, hint)
        if name == "erase" and self.on_language is not None:
            self.on_language(user_id, None)
        return replies

    def start(self, user_id: str, payload: str | None = None, hint: str | None = None
              ) -> list[Reply]:
        replies = super().start(user_id, payload, hint)
        if parse_payload(payload, self.config) is not None:
            self._tell(user_id)
        return replies

    def _tell(self, user_id: str) -> None:
        if self.on_language is None:
            return
        with self.engine.connect() as conn:
            rec = load(conn, self.channel, user_id)
        if rec is not None:
            self.on_language(user_id, rec.sub.language)
