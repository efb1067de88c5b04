"""The payload of a safety check (安否確認): the message that asks subscribers in
the wards an alert affected whether they are safe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.domain.payloads._base import Payload
from bot.errors import ValidationError


@dataclass(frozen=True, kw_only=True, slots=True)
class SafetyCheck(Payload):
    """Asks "are you safe?" about alert ``alert_id`` (the earthquake, tsunami warning
    or evacuation order that called for it). ``reminder``: the one reminder sent to
    those who have not answered. ``event``: the event the alert reports (JMA: kind and
    EventID), so that the next report about the same earthquake (震度速報, then
    震源・震度情報) asks no one twice. Never posted on a public timeline (``PUBLIC``)."""

    TYPE: ClassVar[str] = "safety_check"
    PUBLIC: ClassVar[bool] = False

    alert_id: int
    reminder: bool = False
    event: str | None = None

    def _check(self) -> None:
        if self.alert_id <= 0:
            raise ValidationError("SafetyCheck.alert_id must name a stored alert")
