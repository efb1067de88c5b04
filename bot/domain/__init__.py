"""The domain: what an alert, its payload, a subscriber and a delivery are.

Nothing here imports the database layer or a platform SDK. ``from bot.domain
import Alert, Kind, ...`` is the public way in; the modules are:

:mod:`bot.domain.model`
    Alert, Subscriber, Delivery and their enums (Kind, MsgType, Severity, ...).
:mod:`bot.domain.intensity`
    :class:`Intensity`, JMA's seismic intensity scale (震度0 ... 震度7).
:mod:`bot.domain.payloads`
    Typed payloads per kind of report (:class:`Earthquake`, :class:`Cap`, ...).
:mod:`bot.domain.actions`
    :class:`PolicyAction`, what policy decides for an alert.
"""

from bot.domain.actions import PolicyAction
from bot.domain.intensity import Intensity
from bot.domain.model import (
    ALL_KINDS_MASK,
    FINAL_DELIVERY_STATUSES,
    Alert,
    AlertStatus,
    Delivery,
    DeliveryStatus,
    Kind,
    MsgType,
    Severity,
    Subscriber,
    Urgency,
    kinds_from_mask,
    kinds_mask,
)
from bot.domain.payloads import *  # noqa: F403
from bot.domain.payloads import __all__ as _payload_names

__all__ = [
    "ALL_KINDS_MASK",
    "FINAL_DELIVERY_STATUSES",
    "Alert",
    "AlertStatus",
    "Delivery",
    "DeliveryStatus",
    "Intensity",
    "Kind",
    "MsgType",
    "PolicyAction",
    "Severity",
    "Subscriber",
    "Urgency",
    "kinds_from_mask",
    "kinds_mask",
    *_payload_names,
]
