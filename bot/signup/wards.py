"""Several wards per subscriber (home, work, school): ``/area`` after sign-up shows
every ward as a toggle (✓ on, tap again for off), the whole city, and Done.

Sign-up itself stays one tap (the first ward chosen, or the whole city); a location's
"alerts for this ward" button adds a ward (:mod:`bot.signup.location`). At least one
ward stays chosen: turning off the last one keeps it.
"""

from __future__ import annotations

import dataclasses

from bot.domain import Subscriber
from bot.signup.common import Button, Conversation, Reply
from bot.signup.state import SIGNING_UP, load, save


class WardToggles:
    def __init__(self, conversation: Conversation) -> None:
        self.conv = conversation

    def picker(self, user_id: str, hint: str | None = None) -> list[Reply]:
        """``/area``: toggles for a subscriber, the one-tap picker while signing up."""
        conv = self.conv
        with conv.engine.connect() as conn:
            rec = load(conn, conv.channel, user_id)
        if rec is None or rec.state in SIGNING_UP or not rec.sub.active:
            return conv.command(user_id, "area", hint)
        return [self.toggles(rec.sub, replace=False)]

    def toggles(self, sub: Subscriber, *, replace: bool) -> Reply:
        conv, lang = self.conv, sub.language
        chosen = set(sub.wards)
        everything = chosen >= set(conv.config.ward_codes)
        buttons = [Button(("✓ " if w.code in chosen and not everything else "")
                          + w.name(lang, conv.config.fallback_languages), f"wardt:{w.code}")
                   for w in conv.config.wards]
        buttons.append(Button(("✓ " if everything else "") + conv.t(lang, "signup.whole_city"),
                              "wardt:all"))
        buttons.append(Button(conv.t(lang, "signup.kinds.done"), "wardt:done"))
        return Reply(conv.t(lang, "area.toggle"), tuple(buttons), replace=replace)

    def toggle(self, user_id: str, value: str) -> list[Reply]:
        """``wardt:<code>``, ``wardt:all`` or ``wardt:done`` tapped."""
        conv = self.conv
        city = conv.config.ward_codes
        with conv.engine.begin() as conn:
            rec = load(conn, conv.channel, user_id, lock=True)
            if rec is None or rec.state in SIGNING_UP:
                return []
            if value == "done":
                return [conv.saved(rec.sub, rec.state)]
            chosen = set(rec.sub.wards)
            if value == "all":
                chosen = set(city)
            elif value in city:
                if chosen >= set(city):
                    chosen = set()  # from "whole city", a tap picks that ward alone
                chosen ^= {value}
            else:
                return []
            if not chosen:  # keep at least one
                return [self.toggles(rec.sub, replace=True)]
            sub = dataclasses.replace(rec.sub, wards=tuple(w for w in city if w in chosen))
            save(conn, sub, rec.state)
        return [self.toggles(sub, replace=True)]
