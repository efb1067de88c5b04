"""Weather warning, landslide, record heavy rain and volcano payloads (JMA VPWW53/54,
VXWW50, VPOA50, VFVO50/56)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import ClassVar

from bot.domain.payloads._base import JmaPayload, Record
from bot.errors import ValidationError


class WarningLevel(enum.StrEnum):
    EMERGENCY = "emergency"  # 特別警報, codes 32-39 (レベル5 in the R06 system)
    DANGER = "danger"  # 危険警報 (R06 system, レベル4), codes 43, 48, 49
    WARNING = "warning"  # 警報, codes 02-09
    ADVISORY = "advisory"  # 注意報, codes 10-29

    @property
    def rank(self) -> int:
        """advisory 0 < warning 1 < danger 2 < emergency 3."""
        return (WarningLevel.ADVISORY, WarningLevel.WARNING, WarningLevel.DANGER,
                WarningLevel.EMERGENCY).index(self)


class WarningStatus(enum.StrEnum):
    ISSUED = "issued"  # 発表
    CONTINUED = "continued"  # 継続
    LIFTED = "lifted"  # 解除
    UPGRADED = "upgraded"  # X から Y, Y the higher level
    DOWNGRADED = "downgraded"  # 特別警報から警報, 警報から注意報, ...


@dataclass(frozen=True, kw_only=True, slots=True)
class WarningItem(Record):
    """One warning kind in force (or lifted) for the city's area."""

    code: str  # JMA's WeatherWarning code, e.g. "03" 大雨警報
    name_ja: str = ""
    level: WarningLevel
    status: WarningStatus
    status_ja: str = ""  # JMA's own words
    previous_level: WarningLevel | None = None  # before an upgrade or downgrade
    # 警戒レベル that JMA puts in the name in the R06 system (レベル４大雨危険警報 -> 4);
    # None for the older system and for kinds without a level (暴風警報, 雷注意報)
    alert_level: int | None = None

    def _check(self) -> None:
        if self.alert_level is not None and not 2 <= self.alert_level <= 5:
            raise ValidationError(f"WarningItem.alert_level must be 2 to 5, got {self.alert_level}")


@dataclass(frozen=True, kw_only=True, slots=True)
class WeatherWarning(JmaPayload):
    """The city's entry of a JMA weather warning report; ``changed`` is True when JMA
    says the kinds changed (警報・注意報種別に変化有)."""

    TYPE: ClassVar[str] = "weather_warning"
    # landslide: the R06 土砂災害 warnings (VPWW56), successors of 土砂災害警戒情報
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"weather_warning", "landslide"})

    area_code: str = ""
    area_name_ja: str = ""
    warnings: tuple[WarningItem, ...] = ()
    changed: bool = False
    change_status_ja: str | None = None
    # "r06" for 気象警報・注意報（Ｒ０６） (VPWW55-61), "" for VPWW53/54
    system: str = ""
    phenomenon_ja: str = ""  # R06: the report's phenomenon, e.g. 大雨, 土砂災害, 高潮

    @property
    def top_alert_level(self) -> int | None:
        """The highest 警戒レベル still in force (not lifted), if any entry has one."""
        levels = [w.alert_level for w in self.warnings
                  if w.alert_level is not None and w.status is not WarningStatus.LIFTED]
        return max(levels) if levels else None


class LandslideStatus(enum.StrEnum):
    ISSUED = "issued"
    CONTINUED = "continued"
    LIFTED = "lifted"
    NONE = "none"  # the city is not (or no longer) named


@dataclass(frozen=True, kw_only=True, slots=True)
class Landslide(JmaPayload):
    """The city's entries of a 土砂災害警戒情報; ``changed`` unless it merely continues."""

    TYPE: ClassVar[str] = "landslide"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"landslide"})

    status: LandslideStatus = LandslideStatus.NONE
    municipality_codes: tuple[str, ...] = ()
    municipality_names_ja: tuple[str, ...] = ()
    target_area_ja: str | None = None
    all_municipalities_count: int = 0
    changed: bool = False
    text_ja: str = ""  # the report's headline


@dataclass(frozen=True, kw_only=True, slots=True)
class RainAmount(Record):
    """One analysed area or AMeDAS station of a 記録的短時間大雨情報."""

    area_name_ja: str
    code: str = ""
    time: dt.datetime | None = None
    amount_mm: float | None = None
    amount_ja: str | None = None  # e.g. 約１２０ミリ
    type_ja: str | None = None  # e.g. １時間降水量


@dataclass(frozen=True, kw_only=True, slots=True)
class HeavyRain(JmaPayload):
    """A record short-term heavy rain report (VPOA50)."""

    TYPE: ClassVar[str] = "heavy_rain"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"heavy_rain"})

    area_names_ja: tuple[str, ...] = ()  # every area and station the report names
    amounts: tuple[RainAmount, ...] = ()
    text_ja: str = ""  # the report's headline


class VolcanoStatus(enum.StrEnum):
    RAISED = "raised"  # 引上げ
    LOWERED = "lowered"  # 引下げ
    CONTINUED = "continued"  # 継続
    ISSUED = "issued"  # 発表
    LIFTED = "lifted"  # 解除


@dataclass(frozen=True, kw_only=True, slots=True)
class Volcano(JmaPayload):
    """A volcanic warning (VFVO50, ``flash`` False) or eruption flash (VFVO56, True).

    ``level`` is the volcanic alert level 1-5 (None for a flash, or a volcano
    without levels); ``warning_code``/``warning_name_ja`` the warning (01 噴火警報,
    02 火口周辺警報, ...) or, for a flash, the 噴火速報 kind.
    """

    TYPE: ClassVar[str] = "volcano"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"volcano"})

    volcano_code: str | None = None  # e.g. "503" 阿蘇山
    volcano_name_ja: str | None = None
    level: int | None = None
    level_name_ja: str | None = None
    previous_level: int | None = None
    warning_code: str | None = None
    warning_name_ja: str | None = None
    flash: bool = False
    status: VolcanoStatus = VolcanoStatus.ISSUED
    event_time: dt.datetime | None = None
    municipality_codes: tuple[str, ...] = ()
    text_ja: str = ""

    def _check(self) -> None:
        for name in ("level", "previous_level"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 5:
                raise ValidationError(f"Volcano.{name} must be 1 to 5, got {value}")
