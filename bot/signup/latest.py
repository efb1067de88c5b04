"""``/latest`` (Telegram) and its LINE word and postback: the alerts in force for the
subscriber's wards and the whole city, newest first, each as the ledger renders it
for deliveries (a correction shown instead of its original; lifted and cancelled
alerts are no longer in force and are left out)."""

from __future__ import annotations

import datetime as dt

from bot.freshness import Freshness
from bot.signup.common import Conversation, Reply
from bot.signup.state import load
from bot.store import residents as store

SHOWN = 4  # with the heading, five messages: what one LINE reply carries


class Latest:
    def __init__(self, conversation: Conversation, freshness: Freshness) -> None:
        self.conv = conversation
        self.freshness = freshness

    def replies(self, user_id: str, hint: str | None = None,
                now: dt.datetime | None = None) -> list[Reply]:
        conv = self.conv
        now = now or dt.datetime.now(dt.UTC)
        with conv.engine.connect() as conn:
            rec = load(conn, conv.channel, user_id)
            lang = conv._language_of(rec, hint)
            subscribed = rec is not None and rec.sub.active and bool(rec.sub.wards)
            wards = rec.sub.wards if rec is not None and subscribed else ()
            test = bool(rec is not None and rec.sub.test)
            found = store.alerts_in_force(conn, wards, self.freshness, now, test=test,
                                          limit=SHOWN + 1)
            texts = [store.rendered_parts(conn, f.shown_id, lang, conv.channel)
                     for f in found[:SHOWN]]
        area = conv.area_text(rec.sub) if rec is not None and subscribed \
            else conv.config.city_display_name(lang)
        if not found:
            head = conv.t(lang, "latest.none", area=area)
        else:
            head = conv.t(lang, "latest.heading", area=area, count=str(len(found[:SHOWN])))
            if len(found) > SHOWN:
                head += "\n" + conv.t(lang, "latest.more", count=str(SHOWN))
        if not subscribed:
            head += "\n\n" + conv.t(lang, "latest.not_subscribed",
                                    start=conv.command_label(lang, "start"))
        return [Reply(head), *(Reply(part) for parts in texts for part in parts)]
