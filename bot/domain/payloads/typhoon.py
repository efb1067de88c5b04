"""Typhoon payloads: 台風の暴風域に入る確率 (VPTA50) and 台風解析・予報情報 (VPTW60-62)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from bot.domain.payloads._base import JmaPayload, Record
from bot.errors import ValidationError


@dataclass(frozen=True, kw_only=True, slots=True)
class StormProbability(Record):
    """The chance (percent) that the city's area is inside the storm area (風速25m/s以上)
    at some time within ``hours`` hours from the report's base time (1日積算 .. 5日積算)."""

    hours: int
    percent: int

    def _check(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ValidationError(f"StormProbability.percent must be 0 to 100, got {self.percent}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Typhoon(JmaPayload):
    """A typhoon report for the city.

    ``report`` is "probability" (VPTA50: ``area_code``/``area_name_ja`` is the city's
    area, ``probabilities`` its cumulative chances, ``max_percent`` the highest) or
    "forecast" (VPTW60-62: the analysis and the forecast circles; ``reaches_city`` when
    the city lies inside a 暴風域/暴風警戒域 or 予報円, ``reach_time`` the first such
    time, ``reach_area_ja`` which one, ``distance_km`` from the centre or circle centre
    at that time).
    """

    TYPE: ClassVar[str] = "typhoon"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"weather_warning"})

    report: str = "forecast"
    number: str = ""  # JMA's typhoon number, e.g. "2010" (2020 No. 10)
    name: str = ""  # international name, e.g. HAISHEN
    name_kana: str = ""
    base_time: dt.datetime | None = None
    area_code: str = ""
    area_name_ja: str = ""
    probabilities: tuple[StormProbability, ...] = ()
    max_percent: int | None = None
    center_lat: float | None = None  # the analysis (実況)
    center_lon: float | None = None
    location_ja: str = ""
    pressure_hpa: int | None = None
    max_wind_ms: int | None = None
    class_ja: str = ""  # 台風(TS), 熱帯低気圧(TD), ...
    reaches_city: bool = False
    reach_time: dt.datetime | None = None
    reach_area_ja: str = ""  # 暴風域, 暴風警戒域 or 予報円
    distance_km: float | None = None

    def _check(self) -> None:
        if self.report not in ("probability", "forecast"):
            raise ValidationError(f"Typhoon.report must be probability or forecast, "
                                  f"got {self.report!r}")

    @property
    def number_short(self) -> str:
        """The typhoon's number in its year (2010 -> "10")."""
        return str(int(self.number[-2:])) if self.number[-2:].isdigit() else self.number
