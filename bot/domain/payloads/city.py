"""Payloads of the city's own messages: evacuation information, shelters, lifelines,
notices, and free text."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from bot.domain.payloads._base import Payload
from bot.errors import ValidationError


class EvacuationLevel(enum.IntEnum):
    """警戒レベル of the evacuation information a city issues (levels 3-5)."""

    ELDERLY_EVACUATE = 3  # 高齢者等避難
    EVACUATE = 4  # 避難指示
    EMERGENCY_SAFETY = 5  # 緊急安全確保


@dataclass(frozen=True, kw_only=True, slots=True)
class Evacuation(Payload):
    """Evacuation information. ``reason_ja``: why, in the city's words (e.g.
    白川の水位上昇), when the source gives it; the message text is the alert's."""

    TYPE: ClassVar[str] = "evacuation"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"evacuation"})

    level: EvacuationLevel
    reason_ja: str | None = None


class ShelterAction(enum.StrEnum):
    OPENED = "opened"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Shelter(Payload):
    """Shelters opened or closed, by the ids of the city's shelter list."""

    TYPE: ClassVar[str] = "shelter"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"shelter"})

    shelter_ids: tuple[str, ...]
    action: ShelterAction

    def _check(self) -> None:
        if not self.shelter_ids or not all(s.strip() for s in self.shelter_ids):
            raise ValidationError("Shelter.shelter_ids must name at least one shelter")


class Utility(enum.StrEnum):
    WATER = "water"
    POWER = "power"
    GAS = "gas"
    SUPPLIES = "supplies"


@dataclass(frozen=True, kw_only=True, slots=True)
class Lifeline(Payload):
    """Lifeline information (water, power, gas, relief supplies)."""

    TYPE: ClassVar[str] = "lifeline"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"lifeline"})

    utility: Utility


@dataclass(frozen=True, kw_only=True, slots=True)
class CityNotice(Payload):
    """A city notice: an entry of a city RSS/Atom feed, or one typed by staff.
    ``language`` is the feed's (normalised) language tag."""

    TYPE: ClassVar[str] = "city_notice"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"city_notice"})

    feed_name: str | None = None
    link: str | None = None
    language: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class FreeText(Payload):
    """No structured values: the alert's headline, body and texts are the message.
    Staff alerts of kinds without options of their own (a drill, or an earthquake
    notice typed at the CLI) carry it; any kind may."""

    TYPE: ClassVar[str] = "free_text"
