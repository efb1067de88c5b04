"""Payloads of JMA's seismic notices beyond the earthquake report itself.

=========================  ==================================================  ========
class                      JMA type                                            kind
=========================  ==================================================  ========
:class:`MegaquakeNotice`   VYSE50 南海トラフ地震臨時情報, VYSE51/52 関連解説情報,  earthquake
                           VYSE60 北海道・三陸沖後発地震注意情報
:class:`LongPeriodMotion`  VXSE62 長周期地震動に関する観測情報                  earthquake
:class:`HypocentreUpdate`  VXSE61 顕著な地震の震源要素更新のお知らせ            earthquake
:class:`SeismicActivity`   VXSE56 地震の活動状況等に関する情報                  earthquake
:class:`OffshoreTsunami`   VTSE52 沖合の津波観測に関する情報                    tsunami
=========================  ==================================================  ========

Each has a ``notice`` (what policy rules name in ``notice = [...]``). A payload whose
``SUPPLEMENTS`` is True is an update that adds to the message it follows up (a
refined hypocentre, offshore observations under a tsunami warning): accepting it
does not stop the original's pending sends, whose facts stay true.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bot.domain.intensity import Intensity
from bot.domain.payloads._base import JmaPayload, Record
from bot.domain.payloads.seismic import Hypocentre, JmaComment
from bot.errors import ValidationError


class MegaquakeLevel(enum.StrEnum):
    """What a megaquake notice says (JMA's keyword, 情報名に付記するキーワード)."""

    INVESTIGATING = "investigating"  # 南海トラフ地震臨時情報（調査中）
    WARNING = "warning"  # （巨大地震警戒）
    ADVISORY = "advisory"  # （巨大地震注意）
    ENDED = "ended"  # （調査終了）
    COMMENTARY = "commentary"  # 南海トラフ地震関連解説情報 (臨時解説 / 定例解説)
    CALL_ENDED = "call_ended"  # 関連解説情報 saying the government's call has ended
    SUBSEQUENT = "subsequent"  # 北海道・三陸沖後発地震注意情報


class MegaquakeRegion(enum.StrEnum):
    NANKAI = "nankai"  # 南海トラフ
    HOKKAIDO_SANRIKU = "hokkaido_sanriku"  # 日本海溝・千島海溝 (北海道・三陸沖)


@dataclass(frozen=True, kw_only=True, slots=True)
class MegaquakeNotice(JmaPayload):
    """A national notice that a megaquake is more likely than usual (or that the
    investigation or the call to prepare is over). ``city_in_area``: the city is in
    the designated area (``[jurisdiction]`` ``nankai_trough_area`` /
    ``japan_kuril_trench_area``); ``code`` is JMA's 地震関連情報番号コード (111, 120,
    130, 190, 200, 210 ...), ``keyword_ja`` its name (調査中, 巨大地震警戒 ...)."""

    TYPE: ClassVar[str] = "megaquake"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"earthquake"})
    SUPPLEMENTS: ClassVar[bool] = False

    region: MegaquakeRegion
    level: MegaquakeLevel
    code: str = ""
    keyword_ja: str = ""
    info_name_ja: str = ""  # 南海トラフ地震臨時情報, 南海トラフ地震関連解説情報, ...
    city_in_area: bool = False
    text_ja: str = ""  # EarthquakeInfo/Text
    next_advisory_ja: str = ""

    @property
    def notice(self) -> str:
        return f"{self.region.value}_{self.level.value}"


LONG_PERIOD_CLASSES = (1, 2, 3, 4)


@dataclass(frozen=True, kw_only=True, slots=True)
class LongPeriodMotion(JmaPayload):
    """長周期地震動に関する観測情報: the long-period ground-motion class (階級 1-4)
    observed per seismic area (地震情報／細分区域). ``local_class`` is the highest
    class among the jurisdiction's areas (None: none of them is in the report)."""

    TYPE: ClassVar[str] = "long_period"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"earthquake"})
    SUPPLEMENTS: ClassVar[bool] = False
    notice: ClassVar[str] = "long_period"

    origin_time: dt.datetime | None = None
    hypocentre: Hypocentre | None = None
    magnitude: float | None = None
    magnitude_ja: str | None = None
    max_intensity: Intensity | None = None
    max_class: int | None = None  # MaxLgInt of the whole report
    area_class: Mapping[str, int] = field(default_factory=dict)  # the jurisdiction's areas
    area_names_ja: Mapping[str, str] = field(default_factory=dict)
    local_class: int | None = None
    local_intensity: Intensity | None = None
    free_comment_ja: str = ""

    def _check(self) -> None:
        for value in (self.max_class, self.local_class, *self.area_class.values()):
            if value is not None and value not in (0, *LONG_PERIOD_CLASSES):
                raise ValidationError(f"LongPeriodMotion class must be 0-4, got {value}")


@dataclass(frozen=True, kw_only=True, slots=True)
class HypocentreUpdate(JmaPayload):
    """顕著な地震の震源要素更新のお知らせ: JMA's revised place and size of an earthquake
    it reported earlier (same EventID); ``updated_at`` is when the revision applies."""

    TYPE: ClassVar[str] = "hypocentre_update"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"earthquake"})
    SUPPLEMENTS: ClassVar[bool] = True
    notice: ClassVar[str] = "hypocentre_update"

    origin_time: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    hypocentre: Hypocentre | None = None
    magnitude: float | None = None
    magnitude_ja: str | None = None
    free_comment_ja: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class SeismicActivity(JmaPayload):
    """地震の活動状況等に関する情報: free text. ``subject_ja`` is its first line (e.g.
    伊豆東部の地震活動の見通しに関する情報（第１号）); ``nankai_copy`` is True when it
    carries a 南海トラフ地震 notice that JMA also issues as VYSE50/51/52;
    ``mentions_city`` when the text names one of the city's place words."""

    TYPE: ClassVar[str] = "seismic_activity"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"earthquake"})
    SUPPLEMENTS: ClassVar[bool] = False

    subject_ja: str = ""
    text_ja: str = ""
    nankai_copy: bool = False
    mentions_city: bool = False

    @property
    def notice(self) -> str:
        return "activity_nankai_copy" if self.nankai_copy else "activity"


@dataclass(frozen=True, kw_only=True, slots=True)
class OffshoreStation(Record):
    """A tsunami observed offshore (GPS wave gauge, pressure gauge) in a VTSE52."""

    code: str = ""
    name_ja: str = ""
    sensor_ja: str = ""
    first_arrival: dt.datetime | None = None
    initial_ja: str | None = None  # 押し / 引き
    max_height_m: float | None = None
    max_height_ja: str | None = None
    condition_ja: str | None = None  # 観測中, 重要


@dataclass(frozen=True, kw_only=True, slots=True)
class CoastEstimate(Record):
    """JMA's estimate, from offshore observations, for a coastal region (沿岸地域)."""

    code: str = ""
    name_ja: str = ""
    first_arrival: dt.datetime | None = None
    arrival_condition_ja: str | None = None
    height_m: float | None = None
    height_over: bool = False
    height_ja: str | None = None
    condition_ja: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OffshoreTsunami(JmaPayload):
    """沖合の津波観測に関する情報: offshore observations and the coastal estimates
    JMA derives from them. It follows up the tsunami warning of the same EventID:
    sent only when that warning went out for the city's coasts."""

    TYPE: ClassVar[str] = "offshore_tsunami"
    KINDS: ClassVar[frozenset[str] | None] = frozenset({"tsunami"})
    SUPPLEMENTS: ClassVar[bool] = True
    notice: ClassVar[str] = "offshore_tsunami"

    stations: tuple[OffshoreStation, ...] = ()
    estimates: tuple[CoastEstimate, ...] = ()
    comments: tuple[JmaComment, ...] = ()
    free_comment_ja: str = ""
    origin_time: dt.datetime | None = None
    hypocentre: Hypocentre | None = None
    magnitude: float | None = None
    magnitude_ja: str | None = None
