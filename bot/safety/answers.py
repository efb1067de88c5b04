"""Answers to a safety check, tapped in the chat (``safety:<alert id>:<answer>``)."""

from __future__ import annotations

import logging

from bot.safety.settings import SafetySettings
from bot.signup.common import Conversation, Reply
from bot.store import alerts as alert_store
from bot.store import safety as store
from bot.store import subscribers as subs

log = logging.getLogger(__name__)


def parse(data: str) -> tuple[int, str] | None:
    """``safety:12:need_help`` → (12, "need_help"); None when malformed."""
    prefix, _, rest = data.partition(":")
    alert_id, _, answer = rest.partition(":")
    if prefix != "safety" or not alert_id.isdigit() or answer not in store.STATUSES:
        return None
    n = int(alert_id)
    return (n, answer) if 0 < n < 2**31 else None


class SafetyAnswers:
    def __init__(self, conversation: Conversation, settings: SafetySettings) -> None:
        self.conv = conversation
        self.settings = settings

    def answer(self, user_id: str, data: str) -> list[Reply]:
        parsed = parse(data)
        if parsed is None:
            return []
        alert_id, answer = parsed
        conv = self.conv
        with conv.engine.begin() as conn:
            sub = subs.get(conn, conv.channel, user_id)
            if sub is None or sub.id is None:
                lang = conv.config.default_language
                return [Reply(conv.t(lang, "signup.status.none",
                                     start=conv.command_label(lang, "start")))]
            check = store.find_check(conn, alert_id)
            if check is None:
                return [Reply(conv.t(sub.language, "safety.unknown"))]
            ward = self._ward(sub.wards, tuple(check.wards))
            changed = store.record(conn, alert_id, sub.id, ward, answer)
            alert_store.audit(conn, "self-service", "safety_answer", alert_id=alert_id,
                              channel=conv.channel, status=answer, changed=changed)
        log.info("%s: safety answer %s for alert %d", conv.channel, answer, alert_id)
        return [Reply(self.text(sub.language, answer))]

    def _ward(self, mine: tuple[str, ...], asked: tuple[str, ...]) -> str | None:
        order = self.conv.config.ward_codes
        both = [w for w in order if w in mine and w in asked]
        return both[0] if both else next((w for w in order if w in mine), None)

    def text(self, language: str, answer: str) -> str:
        lines = [self.conv.t(language, f"safety.answer.{answer}")]
        if answer == "need_help":
            lines.extend(self.contacts(language))
        lines.append(self.conv.t(language, "safety.answer.change"))
        return "\n".join(lines)

    def contacts(self, language: str) -> list[str]:
        """Whom to call: fire and ambulance, police, the visitor hotline and the
        city's consultation desks (``[safety]``), one line each."""
        t, s = self.conv.t, self.settings
        lines = [t(language, "safety.help.emergency", phone=s.emergency),
                 t(language, "safety.help.police", phone=s.police)]
        if s.visitor_hotline:
            lines.append(t(language, "safety.help.visitor_hotline", phone=s.visitor_hotline))
        fallback = (*self.conv.config.fallback_languages, self.conv.config.default_language)
        for desk in s.desks:
            lines.append(t(language, "safety.help.desk", name=desk.name(language, fallback),
                           phone=desk.phone))
        return lines
