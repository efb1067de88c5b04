"""Alerts, subscribers and deliveries, and the enums they are made of.

Plain frozen, keyword-only dataclasses. Nothing here imports the database layer
or a platform SDK; the database layer (:mod:`bot.db`) maps these to rows and the
channels (:mod:`channels`) turn renderings into platform calls.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.payloads import AlertPayload, FreeText, Payload
from bot.errors import ValidationError


class Kind(enum.StrEnum):
    """What an alert is about. Each kind has a fixed bit in a subscriber's kinds mask."""

    EARTHQUAKE = "earthquake"
    TSUNAMI = "tsunami"
    WEATHER_WARNING = "weather_warning"
    LANDSLIDE = "landslide"
    VOLCANO = "volcano"
    HEAVY_RAIN = "heavy_rain"
    EVACUATION = "evacuation"
    SHELTER = "shelter"
    LIFELINE = "lifeline"
    CITY_NOTICE = "city_notice"
    DRILL = "drill"
    EEW = "eew"
    OTHER = "other"

    @property
    def bit(self) -> int:
        return 1 << list(Kind).index(self)


ALL_KINDS_MASK = sum(k.bit for k in Kind)


def kinds_mask(kinds: tuple[Kind, ...] | list[Kind]) -> int:
    """Bit mask of ``kinds``; an empty selection means every kind."""
    if not kinds:
        return ALL_KINDS_MASK
    mask = 0
    for k in kinds:
        mask |= Kind(k).bit
    return mask


def kinds_from_mask(mask: int) -> tuple[Kind, ...]:
    return tuple(k for k in Kind if mask & k.bit)


# Above any severity * 10 + urgency (at most 44): seconds count for an EEW.
EEW_PRIORITY = 100


class MsgType(enum.StrEnum):
    ALERT = "alert"
    UPDATE = "update"  # a correction or new facts about the same event
    LIFT = "lift"  # the order or warning was right and has ended
    CANCEL = "cancel"  # the earlier message was sent in error


class Severity(enum.IntEnum):
    """CAP 1.2 severities, ordered so that a larger value is more severe."""

    UNKNOWN = 0
    MINOR = 1
    MODERATE = 2
    SEVERE = 3
    EXTREME = 4

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValidationError(f"unknown severity {value!r}") from None


class Urgency(enum.IntEnum):
    """CAP 1.2 urgencies, ordered so that a larger value is more urgent."""

    UNKNOWN = 0
    PAST = 1
    FUTURE = 2
    EXPECTED = 3
    IMMEDIATE = 4

    @classmethod
    def parse(cls, value: str | int | Urgency) -> Urgency:
        if isinstance(value, Urgency):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValidationError(f"unknown urgency {value!r}") from None


class AlertStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"  # waits for a second operator
    HELD = "held"  # stored by ingest, waits for an operator decision
    QUEUED = "queued"  # accepted; deliveries written, some may wait for send_at
    SENT = "sent"  # every delivery reached a final state, some were sent
    FAILED = "failed"  # every delivery reached a final state, none was sent
    LIFTED = "lifted"  # ended by a lifting follow-up
    CANCELLED = "cancelled"  # withdrawn, or cancelled by a follow-up
    EXPIRED = "expired"  # nothing was sent before it expired
    REJECTED = "rejected"
    IGNORED = "ignored"  # outside the jurisdiction or policy says ignore


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


FINAL_DELIVERY_STATUSES = frozenset(
    {DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED, DeliveryStatus.EXPIRED}
)


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValidationError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Alert:
    """One piece of information to pass on, whatever its source.

    ``headline_ja``/``body_ja`` are the Japanese original. ``texts`` holds
    translations supplied by the source or the operator (language tag -> text);
    these are used instead of machine translation. ``payload`` holds the typed,
    structured values of the report (:mod:`bot.domain.payloads`: magnitude,
    intensity per ward, warning kinds ...); its class must allow the alert's kind.
    """

    source: str
    source_id: str
    kind: Kind
    msg_type: MsgType = MsgType.ALERT
    references: str | None = None
    severity: Severity = Severity.UNKNOWN
    urgency: Urgency = Urgency.UNKNOWN
    wards: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    headline_ja: str = ""
    body_ja: str = ""
    texts: Mapping[str, str] = field(default_factory=dict)
    payload: AlertPayload = field(default_factory=FreeText)
    issued: datetime
    expires: datetime | None = None
    send_at: datetime | None = None
    status: AlertStatus = AlertStatus.DRAFT
    test: bool = False
    in_jurisdiction: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "msg_type", MsgType(self.msg_type))
        object.__setattr__(self, "severity", Severity.parse(self.severity))
        object.__setattr__(self, "urgency", Urgency.parse(self.urgency))
        object.__setattr__(self, "status", AlertStatus(self.status))
        object.__setattr__(self, "wards", tuple(self.wards))
        object.__setattr__(self, "areas", tuple(self.areas))
        if not self.source:
            raise ValidationError("alert source must not be empty")
        if not self.source_id:
            raise ValidationError("alert source_id must not be empty")
        if not isinstance(self.payload, Payload):
            raise ValidationError(f"alert {self.source_id!r}: payload must be one of "
                                  f"bot.domain.payloads, got {type(self.payload).__name__}")
        allowed = type(self.payload).KINDS
        if allowed is not None and self.kind.value not in allowed:
            raise ValidationError(f"alert {self.source_id!r}: a {type(self.payload).__name__} "
                                  f"payload cannot carry kind {self.kind.value!r} (only "
                                  f"{', '.join(sorted(allowed))})")
        if self.msg_type is not MsgType.ALERT and not self.references:
            raise ValidationError(
                f"{self.msg_type.value} alert {self.source_id!r} must reference the alert it "
                "updates or cancels"
            )
        for name in ("issued", "expires", "send_at"):
            _require_aware(name, getattr(self, name))
        if self.expires is not None and self.expires < self.issued:
            raise ValidationError(
                f"alert {self.source_id!r} expires ({self.expires.isoformat()}) before it is "
                f"issued ({self.issued.isoformat()})"
            )

    @property
    def priority(self) -> int:
        """Higher goes first: an earthquake early warning (and its cancellation)
        before everything, else severity dominates and urgency breaks ties."""
        if self.kind is Kind.EEW:
            return EEW_PRIORITY
        return int(self.severity) * 10 + int(self.urgency)


@dataclass(frozen=True, kw_only=True, slots=True)
class Subscriber:
    channel: str
    user_id: str
    language: str
    wards: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()  # empty: every kind
    min_severity: Severity = Severity.UNKNOWN
    test: bool = False
    active: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "wards", tuple(self.wards))
        object.__setattr__(self, "kinds", tuple(Kind(k) for k in self.kinds))
        object.__setattr__(self, "min_severity", Severity.parse(self.min_severity))
        if not self.channel:
            raise ValidationError("subscriber channel must not be empty")
        if not self.user_id or len(self.user_id) > 128:
            raise ValidationError("subscriber user_id must be 1 to 128 characters")
        if not self.language:
            raise ValidationError(f"subscriber {self.user_id!r} has no language")


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    """One unit of sending: one Telegram chat, one LINE multicast, one X post or thread."""

    alert_id: int
    channel: str
    language: str
    recipients: tuple[str, ...]
    idempotency_key: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    priority: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None
    reply_to: str | None = None
    # A follow-up replies to this delivery's message once that delivery has an outcome.
    reply_to_delivery: int | None = None
    last_error: str | None = None
    id: int | None = None
    # message ids of the parts already sent by an earlier attempt (a retry resumes after them)
    parts_sent: tuple[str, ...] = ()
    timeouts: int = 0  # sends whose outcome is unknown (timed out)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", DeliveryStatus(self.status))
        object.__setattr__(self, "recipients", tuple(self.recipients))
        _require_aware("next_attempt_at", self.next_attempt_at)
