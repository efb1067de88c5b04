"""Earthquake and tsunami payloads (JMA VXSE51/52/53, VTSE41/51)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bot.domain.intensity import Intensity
from bot.domain.payloads._base import JmaPayload, Record
from bot.errors import ValidationError


class EarthquakeReport(enum.StrEnum):
    INTENSITY = "intensity"  # VXSE51 震度速報
    EPICENTER = "epicenter"  # VXSE52 震源に関する情報
    EPICENTER_INTENSITY = "epicenter_intensity"  # VXSE53 震源・震度に関する情報


class TsunamiOutlook(enum.StrEnum):
    """What an earthquake report says about a tsunami (Comments/ForecastComment)."""

    NONE = "none"  # この地震による津波の心配はありません
    SLIGHT = "slight"  # 若干の海面変動
    POSSIBLE = "possible"  # 津波が発生するおそれ
    WARNING = "warning"  # 津波警報等を発表中
    UNKNOWN = "unknown"  # no comment, or 調査中


class CommentKind(enum.StrEnum):
    """Which block of a report's Body/Comments a fixed comment (固定付加文) came from."""

    WARNING = "warning"  # WarningComment (tsunami reports)
    FORECAST = "forecast"  # ForecastComment (earthquake reports: the tsunami outlook, ...)
    VAR = "var"  # VarComment (notes on the report itself)


@dataclass(frozen=True, kw_only=True, slots=True)
class JmaComment(Record):
    """One block of JMA's fixed comments: the codes (``0215``, ``0121`` ...; see JMA's
    table AdditionalCommentEarthquake) in JMA's order, and JMA's Japanese text of the
    whole block. Renderings carry each code as a catalog message ``jma_comment.<code>``
    and fall back to this text, labelled as JMA's original, for a code they do not know.
    """

    kind: CommentKind
    codes: tuple[str, ...] = ()
    text_ja: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Hypocentre(Record):
    """Where an earthquake started: JMA's epicentre area (震央地名) and position."""

    code: str | None = None  # 震央地名 code, e.g. "741"
    name_ja: str | None = None  # e.g. 熊本県熊本地方
    lat: float | None = None
    lon: float | None = None
    depth_km: int | None = None  # 0 = ごく浅い; None when unknown

    def _check(self) -> None:
        if self.depth_km is not None and self.depth_km < 0:
            raise ValidationError(f"Hypocentre.depth_km must not be negative: {self.depth_km}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Earthquake(JmaPayload):
    """A JMA earthquake report (also the payload an earthquake early warning may carry).

    ``ward_intensity`` maps JIS ward codes (43101 ...) to the ward's intensity;
    ``city_intensity`` is the highest of the wards and of the city's pre-2012 code;
    ``area_intensity`` maps the jurisdiction's seismic areas (細分区域, e.g. 741);
    ``local_max_intensity`` is ``city_intensity``, else the highest area intensity,
    else None. Every intensity not given by the report is None (not 震度0).
    ``comments`` are JMA's fixed comments (ForecastComment, VarComment) and
    ``free_comment_ja`` its free text (FreeFormComment), both as JMA wrote them;
    ``volcanic_eruption`` is True when JMA issued the report for a large volcanic
    eruption (its free text says 大規模な噴火が発生しました): no earthquake happened.
    """

    TYPE: ClassVar[str] = "earthquake"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"earthquake", "eew"})

    report: EarthquakeReport | None = None
    origin_time: dt.datetime | None = None  # OriginTime; for 震度速報 the time of shaking
    hypocentre: Hypocentre | None = None
    magnitude: float | None = None  # None when JMA gives NaN (Ｍ不明, Ｍ８を超える巨大地震)
    magnitude_ja: str | None = None  # JMA's description, e.g. Ｍ７．３
    max_intensity: Intensity | None = None
    ward_intensity: Mapping[str, Intensity] = field(default_factory=dict)
    city_intensity: Intensity | None = None
    area_intensity: Mapping[str, Intensity] = field(default_factory=dict)
    local_max_intensity: Intensity | None = None
    pref_intensity: Intensity | None = None
    tsunami: TsunamiOutlook = TsunamiOutlook.UNKNOWN
    tsunami_comment_ja: str = ""
    comments: tuple[JmaComment, ...] = ()
    free_comment_ja: str = ""
    volcanic_eruption: bool = False


class TsunamiReport(enum.StrEnum):
    WARNING = "warning"  # VTSE41 津波警報・注意報・予報
    INFORMATION = "information"  # VTSE51 津波情報


class TsunamiKind(enum.StrEnum):
    """The kind of tsunami notice for a forecast area, with JMA's codes."""

    MAJOR_WARNING = "major_warning"  # 52, 53 大津波警報
    WARNING = "warning"  # 51 津波警報
    ADVISORY = "advisory"  # 62 津波注意報
    FORECAST = "forecast"  # 71 津波予報（若干の海面変動）
    LIFTED = "lifted"  # 50, 60, 72, 73 解除
    NONE = "none"  # 00 津波なし

    @property
    def rank(self) -> int:
        """How much the notice asks of people: none < forecast < lifted < advisory <
        warning < major warning (a lift still means 'sea level changes')."""
        return _TSUNAMI_RANK.index(self)


_TSUNAMI_RANK = (TsunamiKind.NONE, TsunamiKind.FORECAST, TsunamiKind.LIFTED,
                 TsunamiKind.ADVISORY, TsunamiKind.WARNING, TsunamiKind.MAJOR_WARNING)


@dataclass(frozen=True, kw_only=True, slots=True)
class TsunamiArea(Record):
    """One tsunami forecast area (津波予報区) of a VTSE41/51 report."""

    code: str
    name_ja: str = ""
    kind: TsunamiKind
    kind_code: str = ""
    kind_name_ja: str = ""
    last_kind: TsunamiKind | None = None
    first_arrival: dt.datetime | None = None
    arrival_condition_ja: str | None = None  # 第１波の到達を確認, 津波到達中と推測, ...
    height_m: float | None = None  # None when JMA gives NaN (巨大, 高い)
    height_over: bool = False  # "１０ｍ超": higher than height_m
    height_ja: str | None = None  # JMA's description: ３ｍ, １０ｍ超, 巨大, 高い


@dataclass(frozen=True, kw_only=True, slots=True)
class TsunamiObservation(Record):
    """A tide station's observation (VTSE51) in one of the jurisdiction's areas."""

    area_code: str
    station_code: str = ""
    station_name_ja: str = ""
    first_arrival: dt.datetime | None = None
    initial_ja: str | None = None  # 押し / 引き
    max_height_m: float | None = None
    max_height_ja: str | None = None
    condition_ja: str | None = None  # 観測中, 重要, ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Tsunami(JmaPayload):
    """A JMA tsunami warning/advisory/forecast (VTSE41) or tsunami information (VTSE51).

    ``areas`` are the jurisdiction's forecast areas in configuration order;
    ``local_kind``/``highest_kind`` the highest kind among them / among every area of
    the report; the earthquake that caused it is in ``origin_time`` ...
    ``magnitude_ja`` when the report gives it. ``elsewhere_kind`` is the highest
    kind among the areas outside the jurisdiction and ``elsewhere_areas_ja`` JMA's
    names of the areas that have it. ``comments`` are JMA's fixed comments
    (WarningComment) and ``free_comment_ja`` its free text (FreeFormComment).
    """

    TYPE: ClassVar[str] = "tsunami"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"tsunami"})

    report: TsunamiReport | None = None
    areas: tuple[TsunamiArea, ...] = ()
    all_areas_count: int = 0
    local_kind: TsunamiKind | None = None
    highest_kind: TsunamiKind | None = None
    observations: tuple[TsunamiObservation, ...] = ()
    comment_ja: str = ""  # Comments/WarningComment
    text_ja: str = ""  # Body/Text
    elsewhere_kind: TsunamiKind | None = None
    elsewhere_areas_ja: tuple[str, ...] = ()
    comments: tuple[JmaComment, ...] = ()
    free_comment_ja: str = ""
    origin_time: dt.datetime | None = None
    hypocentre: Hypocentre | None = None
    magnitude: float | None = None
    magnitude_ja: str | None = None
