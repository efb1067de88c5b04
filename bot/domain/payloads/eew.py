"""The payload of a JMA earthquake early warning (緊急地震速報, VXSE43/44/45)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from bot.domain.intensity import Intensity
from bot.domain.payloads._base import JmaPayload, Record
from bot.domain.payloads.seismic import Hypocentre


@dataclass(frozen=True, kw_only=True, slots=True)
class EewArea(Record):
    """One 細分区域 of the jurisdiction in Body/Intensity/Forecast: JMA's forecast
    intensity range (``intensity_to`` None with ``to_over`` for 「〜以上」), when the
    main shaking arrives (``arrival``) or JMA's condition (既に主要動到達と推測)."""

    code: str
    name_ja: str = ""
    intensity_from: Intensity | None = None
    intensity_to: Intensity | None = None
    to_over: bool = False
    arrival: dt.datetime | None = None
    condition_ja: str = ""
    warning: bool = False  # Category/Kind code 1x: 緊急地震速報（警報） for this area


@dataclass(frozen=True, kw_only=True, slots=True)
class EarlyWarning(JmaPayload):
    """A JMA earthquake early warning.

    ``forecast`` is False for 緊急地震速報（警報） (VXSE43) and True for the forecasts
    緊急地震速報（予報） (VXSE44) and （地震動予報） (VXSE45). ``serial`` is JMA's report
    number for the event (第N報), ``final`` its 最終報 flag. ``warned_areas`` are the
    jurisdiction's 細分区域 among the warning's areas (Head/Headline), ``newly_warned``
    True when one of them is new in this report (LastKind なし); ``areas`` are the
    jurisdiction's forecast entries of the Body; ``max_from``/``max_to`` JMA's overall
    forecast intensity (``max_to_over``: 「〜以上」).
    """

    TYPE: ClassVar[str] = "eew"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"eew"})

    forecast: bool = False
    serial: int | None = None
    final: bool = False
    origin_time: dt.datetime | None = None
    hypocentre: Hypocentre | None = None
    magnitude: float | None = None
    magnitude_ja: str | None = None
    max_from: Intensity | None = None
    max_to: Intensity | None = None
    max_to_over: bool = False
    warned_areas: tuple[str, ...] = ()
    newly_warned: bool = False
    areas: tuple[EewArea, ...] = ()
    regions_ja: tuple[str, ...] = ()  # 地方予報区 names of the warning (四国, 九州 ...)
