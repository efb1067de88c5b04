"""Typed payloads: the structured values of an alert, one class per kind of report.

``Alert.payload`` is one of :data:`AlertPayload`. Parsers build them, policy and
the composers read them by attribute, and the store keeps them as JSON in the
``alerts.params`` column (:meth:`~Payload.to_json`, :func:`payload_from_json`).

=====================  =========================================================
class                  carried by
=====================  =========================================================
:class:`Earthquake`    JMA VXSE51/52/53 (kind earthquake; eew may carry it too)
:class:`EarlyWarning`  JMA VXSE43/44/45 緊急地震速報 (kind eew)
:class:`Tsunami`       JMA VTSE41/51
:class:`WeatherWarning` JMA VPWW53/54, VPWW55-61 (``system`` "r06")
:class:`Landslide`     JMA VXWW50
:class:`Volcano`       JMA VFVO50/56
:class:`HeavyRain`     JMA VPOA50
:class:`MegaquakeNotice` JMA VYSE50/51/52/60 (kind earthquake; :mod:`.seismic_notice`)
:class:`LongPeriodMotion` JMA VXSE62 (kind earthquake)
:class:`HypocentreUpdate` JMA VXSE61 (kind earthquake)
:class:`SeismicActivity` JMA VXSE56 (kind earthquake)
:class:`OffshoreTsunami` JMA VTSE52 (kind tsunami)
:class:`Typhoon`       JMA VPTA50, VPTW60-62 (kind weather_warning)
:class:`Evacuation`    staff (``bousai alert issue --kind evacuation --level``)
:class:`Shelter`       staff (``--kind shelter --shelter ID --action opened``)
:class:`Lifeline`      staff (``--kind lifeline --utility water``)
:class:`CityNotice`    city RSS/Atom feeds, staff city notices
:class:`Cap`           CAP 1.2 documents, whatever their kind
:class:`FreeText`      staff alerts of other kinds (drill, ...); any kind
:class:`SafetyCheck`   the safety check (安否確認) after an alert that calls for one
=====================  =========================================================

Stored JSON carries the class's ``TYPE`` under the key ``"payload"``; a row
without it was written before payloads were typed and is upgraded on reading
(:mod:`bot.domain.payloads.legacy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias, cast

from bot.domain.payloads import legacy
from bot.domain.payloads._base import JmaPayload, Payload, Record
from bot.domain.payloads.cap import (
    Cap,
    CapArea,
    CapCategory,
    CapCertainty,
    CapCircle,
    CapGeocode,
    CapInfo,
    CapResponse,
    CapScope,
    CapSeverity,
    CapStatus,
    CapUrgency,
)
from bot.domain.payloads.city import (
    CityNotice,
    Evacuation,
    EvacuationLevel,
    FreeText,
    Lifeline,
    Shelter,
    ShelterAction,
    Utility,
)
from bot.domain.payloads.eew import EarlyWarning, EewArea
from bot.domain.payloads.safety import SafetyCheck
from bot.domain.payloads.seismic import (
    CommentKind,
    Earthquake,
    EarthquakeReport,
    Hypocentre,
    JmaComment,
    Tsunami,
    TsunamiArea,
    TsunamiKind,
    TsunamiObservation,
    TsunamiOutlook,
    TsunamiReport,
)
from bot.domain.payloads.seismic_notice import (
    CoastEstimate,
    HypocentreUpdate,
    LongPeriodMotion,
    MegaquakeLevel,
    MegaquakeNotice,
    MegaquakeRegion,
    OffshoreStation,
    OffshoreTsunami,
    SeismicActivity,
)
from bot.domain.payloads.typhoon import StormProbability, Typhoon
from bot.domain.payloads.weather import (
    HeavyRain,
    Landslide,
    LandslideStatus,
    RainAmount,
    Volcano,
    VolcanoStatus,
    WarningItem,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.errors import ValidationError

AlertPayload: TypeAlias = (Earthquake | EarlyWarning | Tsunami | WeatherWarning | Landslide
                           | Volcano | HeavyRain | Typhoon | Evacuation | Shelter | Lifeline
                           | CityNotice | Cap | FreeText | MegaquakeNotice | LongPeriodMotion
                           | HypocentreUpdate | SeismicActivity | OffshoreTsunami | SafetyCheck)
PAYLOAD_TYPES: Mapping[str, type[Payload]] = {cls.TYPE: cls for cls in (
    Earthquake, EarlyWarning, Tsunami, WeatherWarning, Landslide, Volcano, HeavyRain, Typhoon,
    Evacuation, Shelter, Lifeline, CityNotice, Cap, FreeText, MegaquakeNotice,
    LongPeriodMotion, HypocentreUpdate, SeismicActivity, OffshoreTsunami, SafetyCheck)}


def payload_from_json(data: Any, *, kind: str, source: str) -> AlertPayload:
    """The payload a stored ``alerts.params`` value holds (today's form or an old row's).
    ValidationError names what is wrong."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"alert params must be a JSON object, got {type(data).__name__}")
    tag = data.get("payload")
    if tag is None:
        tag, data = legacy.upgrade(data, kind=str(kind), source=source)
    cls = PAYLOAD_TYPES.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise ValidationError(f"unknown payload type {tag!r} (known: "
                              f"{', '.join(PAYLOAD_TYPES)})")
    return cast(AlertPayload, cls.from_json(data))


__all__ = [
    "PAYLOAD_TYPES",
    "AlertPayload",
    "Cap",
    "CapArea",
    "CapCategory",
    "CapCertainty",
    "CapCircle",
    "CapGeocode",
    "CapInfo",
    "CapResponse",
    "CapScope",
    "CapSeverity",
    "CapStatus",
    "CapUrgency",
    "CityNotice",
    "CoastEstimate",
    "CommentKind",
    "EarlyWarning",
    "Earthquake",
    "EarthquakeReport",
    "EewArea",
    "Evacuation",
    "EvacuationLevel",
    "FreeText",
    "HeavyRain",
    "Hypocentre",
    "HypocentreUpdate",
    "JmaComment",
    "JmaPayload",
    "Landslide",
    "LandslideStatus",
    "Lifeline",
    "LongPeriodMotion",
    "MegaquakeLevel",
    "MegaquakeNotice",
    "MegaquakeRegion",
    "OffshoreStation",
    "OffshoreTsunami",
    "Payload",
    "RainAmount",
    "Record",
    "SafetyCheck",
    "SeismicActivity",
    "Shelter",
    "ShelterAction",
    "StormProbability",
    "Tsunami",
    "TsunamiArea",
    "TsunamiKind",
    "TsunamiObservation",
    "TsunamiOutlook",
    "TsunamiReport",
    "Typhoon",
    "Utility",
    "Volcano",
    "VolcanoStatus",
    "WarningItem",
    "WarningLevel",
    "WarningStatus",
    "WeatherWarning",
    "payload_from_json",
]
