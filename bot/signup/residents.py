"""What residents ask besides their settings: where am I and where is my shelter
(:mod:`bot.signup.location`), which alerts are in force (:mod:`bot.signup.latest`),
and their answers to a safety check (:mod:`bot.safety.answers`); plus the per-chat
rate limit and the audit of every command and answer (never the message text or a
location).

Platforms ask :meth:`Residents.allow` before anything else, then route:

=========================  ==================================================
``/latest``, ``cmd:latest``  alerts in force (LINE: the ``cmd.latest`` word)
``/shelters``, ``cmd:shelters``  "share your location" (LINE: ``cmd.shelters``)
a location                 ward, alerts in force, nearest shelters
a ward name or address     ward and alerts in force (fallback for a location)
``addward:<code>:<lang>``  subscribe to that ward (added to the ones chosen)
``/area``, ``wardt:…``     several wards (home, work, school) as toggles
``safety:<id>:<answer>``   a safety-check answer
=========================  ==================================================
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.freshness import Freshness
from bot.safety.answers import SafetyAnswers
from bot.safety.settings import load_safety
from bot.service import Service
from bot.signup.actions import ActionHandler, MenuConversation
from bot.signup.common import Conversation, Reply
from bot.signup.latest import Latest
from bot.signup.location import Locator
from bot.signup.ratelimit import RateLimiter
from bot.signup.wards import WardToggles
from bot.store import alerts as alert_store

log = logging.getLogger(__name__)

RESIDENT_COMMANDS = ("latest", "shelters")


class Residents:
    def __init__(self, svc: Service, conversation: Conversation) -> None:
        self.conv = conversation
        freshness = Freshness.from_config(svc.config)
        self.locator = Locator(conversation, freshness)
        self.latest = Latest(conversation, freshness)
        self.wards = WardToggles(conversation)
        self.safety = SafetyAnswers(conversation, load_safety(svc.config))
        opts = svc.config.section("signup")
        self.limiter = RateLimiter(rate=float(opts.get("replies_per_second", 1.0)),
                                   burst=int(opts.get("reply_burst", 10)))
        if isinstance(conversation, MenuConversation):  # the menus' entries come here
            conversation.actions = {**conversation.actions,
                                    **{name: self._menu_action(name)
                                       for name in (*RESIDENT_COMMANDS, "area")},
                                    "safety": self._menu_safety}

    def _menu_action(self, name: str) -> ActionHandler:
        def run(conv: MenuConversation, user_id: str, params: Mapping[str, str],
                hint: str | None) -> list[Reply]:
            return self.command(user_id, name, hint)
        return run

    def _menu_safety(self, conv: MenuConversation, user_id: str, params: Mapping[str, str],
                     hint: str | None) -> list[Reply]:
        """The menu's Safety entry: whom to call, in the user's language (the safety
        check itself comes as a message with buttons after a strong event)."""
        self.audit("chat_command", command="safety")
        lang = self.locator._lang(user_id, hint)
        return [Reply("\n".join(self.safety.contacts(lang)))]

    def allow(self, user_id: str) -> bool:
        """Within the chat's rate limit (else the message is dropped unanswered)."""
        allowed = self.limiter.allow(f"{self.conv.channel}:{user_id}")
        if not allowed and self.limiter.dropped % 100 == 1:
            log.warning("%s: a chat is over its reply rate; %d messages dropped so far",
                        self.conv.channel, self.limiter.dropped)
        return allowed

    def audit(self, action: str, **details: Any) -> None:
        """One audit row: what was asked on which channel; never who, never the text."""
        with self.conv.engine.begin() as conn:
            alert_store.audit(conn, "self-service", action, channel=self.conv.channel,
                              **details)

    # ------------------------------------------------------------ entry points

    def command(self, user_id: str, name: str, hint: str | None = None) -> list[Reply]:
        """``latest``, ``shelters``, or ``help`` (the sign-up help and these two)."""
        conv = self.conv
        self.audit("chat_command", command=name)
        if name == "latest":
            return self.latest.replies(user_id, hint)
        if name == "shelters":
            return self.locator.prompt(user_id, hint)
        if name == "area":
            return self.wards.picker(user_id, hint)
        replies = conv.command(user_id, name, hint)
        if name == "help" and replies:
            lang = self.locator._lang(user_id, hint)
            more = conv.t(lang, "help.residents", latest=conv.command_label(lang, "latest"),
                          shelters=conv.command_label(lang, "shelters"))
            replies = [Reply(f"{replies[0].text}\n{more}"), *replies[1:]]
        return replies

    def location(self, user_id: str, lat: object, lon: object, hint: str | None = None
                 ) -> list[Reply]:
        self.audit("chat_location")
        return self.locator.at(user_id, lat, lon, hint)

    def text(self, user_id: str, text: str, hint: str | None = None) -> list[Reply] | None:
        """A ward name or an address typed as text; None when it is neither."""
        replies = self.locator.typed(user_id, text, hint)
        if replies is not None:
            self.audit("chat_place_name")
        return replies

    def choose(self, user_id: str, data: str, hint: str | None = None) -> list[Reply] | None:
        """A button of ours; None when ``data`` is a sign-up button. Every tap is
        audited by its kind (a safety answer with its alert and answer)."""
        prefix, _, value = data.partition(":")
        if prefix == "safety":
            return self.safety.answer(user_id, data)
        self.audit("chat_button", button=prefix[:16])
        if prefix == "wardt":
            return self.wards.toggle(user_id, value)
        if prefix == "addward":
            return self.locator.subscribe(user_id, value)
        if prefix == "cmd" and value in RESIDENT_COMMANDS:
            return self.command(user_id, value, hint)
        return None
