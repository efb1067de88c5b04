"""The payload of an OASIS CAP 1.2 alert (1.1 and 1.0 share its structure): the
sender's own words per language, areas with their geometry, CAP's vocabularies."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import ClassVar

from bot.domain.payloads._base import Payload, Record


class CapStatus(enum.StrEnum):
    """The statuses that reach the public (System and Draft are refused at ingest)."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    TEST = "Test"


class CapScope(enum.StrEnum):
    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    PRIVATE = "Private"


class CapCategory(enum.StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class CapResponse(enum.StrEnum):
    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class CapUrgency(enum.StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class CapSeverity(enum.StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class CapCertainty(enum.StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"  # CAP 1.0's "Very Likely" reads as Likely
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, kw_only=True, slots=True)
class CapCircle(Record):
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, kw_only=True, slots=True)
class CapGeocode(Record):
    value_name: str  # e.g. JIS, SAME, FIPS6
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CapArea(Record):
    """One ``<area>``: its description and geometry; polygons are (lat, lon) rings."""

    description: str = ""  # <areaDesc>
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[CapCircle, ...] = ()
    geocodes: tuple[CapGeocode, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class CapInfo(Record):
    """One ``<info>`` block, i.e. the alert in one language."""

    language: str = "en"  # normalised tag (en-CA -> en, ja-JP -> ja, zh-TW kept)
    categories: tuple[CapCategory, ...] = ()
    event: str = ""
    response_types: tuple[CapResponse, ...] = ()
    urgency: CapUrgency = CapUrgency.UNKNOWN
    severity: CapSeverity = CapSeverity.UNKNOWN
    certainty: CapCertainty | None = None
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str | None = None
    web: str | None = None
    contact: str | None = None
    expires: dt.datetime | None = None
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Cap(Payload):
    """A CAP alert: every ``<info>`` in document order. ``references_all`` are the
    keys (``cap:{sender}:{identifier}``) of every alert it references."""

    TYPE: ClassVar[str] = "cap"

    identifier: str
    sender: str
    sent: dt.datetime
    status: CapStatus
    scope: CapScope
    note: str | None = None
    references_all: tuple[str, ...] = ()
    infos: tuple[CapInfo, ...] = ()

    @property
    def event(self) -> str | None:
        """The first info's event."""
        return (self.infos[0].event or None) if self.infos else None

    @property
    def categories(self) -> tuple[CapCategory, ...]:
        return tuple(dict.fromkeys(c for i in self.infos for c in i.categories))

    @property
    def certainty(self) -> CapCertainty | None:
        return next((i.certainty for i in self.infos if i.certainty is not None), None)

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages that have text (headline, description or instruction)."""
        return tuple(dict.fromkeys(i.language for i in self.infos
                                   if i.headline or i.description or i.instruction))

    @property
    def sender_name(self) -> str | None:
        return self.infos[0].sender_name if self.infos else None

    @property
    def web(self) -> str | None:
        return self.infos[0].web if self.infos else None
