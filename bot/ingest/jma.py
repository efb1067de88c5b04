"""JMA disaster-prevention XML (気象庁防災情報XML) -> :class:`~bot.domain.Alert`.

:func:`parse_jma` is pure: bytes in, alerts out (one alert per report). The
report type is recognised from ``Control/Title``:

=========================================  ========  ===============================
Control/Title                              type      module / Kind
=========================================  ========  ===============================
震度速報                                    VXSE51    jma_seis, EARTHQUAKE
震源に関する情報                            VXSE52    jma_seis, EARTHQUAKE
震源・震度に関する情報                      VXSE53    jma_seis, EARTHQUAKE
津波警報・注意報・予報                      VTSE41    jma_tsunami, TSUNAMI
津波情報                                    VTSE51    jma_tsunami, TSUNAMI
気象特別警報・警報・注意報, 気象警報・注意報,  VPWW53/54 jma_mete, WEATHER_WARNING
気象警報・注意報（Ｈ２７）
土砂災害警戒情報                            VXWW50    jma_mete, LANDSLIDE
記録的短時間大雨情報                        VPOA50    jma_mete, HEAVY_RAIN
南海トラフ地震臨時情報, 南海トラフ地震関連    VYSE50-52 jma_seis_notice, EARTHQUAKE
解説情報, 北海道・三陸沖後発地震注意情報      VYSE60    (MegaquakeNotice)
長周期地震動に関する観測情報                VXSE62    jma_seis_notice, EARTHQUAKE
顕著な地震の震源要素更新のお知らせ          VXSE61    jma_seis_notice, EARTHQUAKE (update)
地震の活動状況等に関する情報                VXSE56    jma_seis_notice, EARTHQUAKE
沖合の津波観測に関する情報                  VTSE52    jma_tsunami_offshore, TSUNAMI (update)
気象警報・注意報（Ｒ０６）（大雨|高潮|暴風|   VPWW55,   jma_warn_r06, WEATHER_WARNING
波浪|大雪|その他注意報）                     57-61
気象警報・注意報（Ｒ０６）（土砂災害|土砂）   VPWW56    jma_warn_r06, LANDSLIDE
台風の暴風域に入る確率                      VPTA50    jma_typhoon, WEATHER_WARNING
台風解析・予報情報（５日予報）（Ｈ３０）      VPTW60-62 jma_typhoon, WEATHER_WARNING
噴火警報・予報                              VFVO50    jma_volc, VOLCANO
噴火速報                                    VFVO56    jma_volc, VOLCANO
緊急地震速報（警報）                        VXSE43    jma_eew, EEW
緊急地震速報（予報）, 緊急地震速報（地震動予報）  VXSE44/45 jma_eew, EEW (forecast)
=========================================  ========  ===============================

大雨危険度通知 (VPRN50) is refused with its reason (:data:`REFUSED`). Anything else
(地震回数に関する情報 VXSE60, ...) raises
:class:`~bot.errors.IngestError` with "unsupported JMA document type".

Identity and references
-----------------------
* ``source`` is ``"jma"``.
* ``source_id`` = ``f"{EventID}:{InfoKind}:{Serial}:{InfoType}:{Head/Title}"``; when
  Serial is empty (震度速報, 津波, 気象警報) the ReportDateTime (``YYYYMMDDTHHMMSS``,
  JST) stands in; the head title (dropped when it is the EventID stand-in or equals
  InfoKind) separates reports that share the rest, such as the two kinds of 津波情報. Same
  EventID+InfoKind+Serial+InfoType(+title) = the same document: VPWW53 and VPWW54
  issued together for one prefecture carry the same information and the same
  source_id, so the second one is recognised as already seen.
* Weather warnings have no EventID: the Head/Title (e.g. ``熊本県気象警報・注意報``),
  which names the series each report supersedes, is used instead.
* ``payload.event_key`` = ``f"jma:{InfoKind}:{EventID}"``, e.g.
  ``jma:地震情報:20160416012505``. It is the same for every report of one event and
  report kind; InfoType 訂正 -> ``MsgType.UPDATE`` and 取消 -> ``MsgType.CANCEL``
  carry ``references = event_key``, i.e. they refer to the latest alert whose
  payload's ``event_key`` is equal (the latest that went out, if any did).
  発表 -> ``MsgType.ALERT``, except a 発表 in which everything said about the city
  is 解除 (every weather warning of the city's item, the landslide alert, the
  volcanic warning, the tsunami warnings on the city's coasts with at most a slight
  sea-level forecast left): that is ``MsgType.LIFT`` of the series' earlier report,
  with the same ``references`` (:mod:`bot.ingest.lifting`). A lift ends a warning
  that was right; a cancellation (取消) withdraws a report issued in error.
* ``issued`` = Head/ReportDateTime (JST); ``expires`` = Head/ValidDateTime if any.
* ``test`` is True unless Control/Status is 通常 (訓練 = drill, 試験 = test).
* ``headline_ja`` = Head/Headline/Text (Head/Title when empty); ``body_ja`` a short
  Japanese summary built from the Body.
* A cancellation has no Body: it is marked ``in_jurisdiction=True`` so that policy
  lets the store follow the original (see :mod:`bot.policy`).

Payloads (:mod:`bot.domain.payloads`)
-------------------------------------
Every report's payload is a :class:`~bot.domain.JmaPayload`: ``event_key``,
``jma_info_kind`` (Head/InfoKind), ``jma_title`` (Head/Title), ``jma_status``
(Control/Status), ``publishing_office``. Times are aware datetimes in JST.

earthquake -> :class:`~bot.domain.Earthquake` (``report`` intensity | epicenter |
epicenter_intensity)
    ``origin_time`` (Earthquake/OriginTime; for 震度速報 the Head/TargetDateTime),
    ``hypocentre`` (:class:`~bot.domain.Hypocentre`: ``code`` 震央地名 code, e.g.
    "741", ``name_ja``, ``lat``/``lon``, ``depth_km`` int, 0 = ごく浅い; None when the
    report names no hypocentre), ``magnitude`` (float, None when JMA gives NaN: Ｍ不明
    / Ｍ８を超える巨大地震), ``magnitude_ja`` (JMA's description, e.g. "Ｍ７．３"),
    ``max_intensity`` (overall, an :class:`~bot.domain.Intensity`; a MaxInt off
    JMA's scale is an IngestError),
    ``ward_intensity`` {JIS ward code: intensity} for wards that appear (JMA city
    codes 4310100..4310500 -> 43101..43105 through ``[[wards]] jma_code``),
    ``city_intensity`` (highest of the wards and of the city's pre-2012 code
    4320100), ``area_intensity`` {seismic area code: intensity} for the
    jurisdiction's 細分区域 (熊本県熊本 741), ``local_max_intensity``
    (``city_intensity``, else the highest ``area_intensity``, else None),
    ``pref_intensity`` (the prefecture's MaxInt or None), ``tsunami`` and
    ``tsunami_comment_ja`` (Comments/ForecastComment). ``tsunami`` mapping:
    0211 -> "warning"; 0212/0213/0214/0227 -> "slight"; 0215/0230 (and the old
    0203) -> "none"; 0216/0221-0226/0228 -> "possible"; 0229 -> "unknown"; no
    comment or an unknown code -> guessed from the text, else "unknown".
    ``comments``: every fixed-comment block (ForecastComment, VarComment) as
    :class:`~bot.domain.JmaComment` (``kind``, ``codes`` in JMA's order,
    ``text_ja``); ``free_comment_ja``: FreeFormComment; ``volcanic_eruption``:
    the free comment says 大規模な噴火が発生しました (JMA issues its report on a large
    volcanic eruption as a 遠地地震に関する情報; no earthquake happened, and the
    summary in ``body_ja`` is JMA's sentence on the eruption).
    In jurisdiction when a ward, the city, a configured seismic area or a
    configured epicenter appears. Severity from ``local_max_intensity`` (else
    ``max_intensity``): 6-+ EXTREME, 5-/5+ SEVERE, 4 MODERATE, else MINOR;
    urgency IMMEDIATE from SEVERE up, else PAST.

tsunami -> :class:`~bot.domain.Tsunami` (``report`` warning for VTSE41,
information for VTSE51)
    ``areas``: the jurisdiction's 津波予報区 (config order) as
    :class:`~bot.domain.TsunamiArea` with ``code``, ``name_ja``, ``kind``
    (:class:`~bot.domain.TsunamiKind`: major_warning 52/53, warning 51, advisory 62,
    forecast 71, lifted 50/60/72/73, none 00), ``kind_code``, ``kind_name_ja``,
    ``last_kind`` (same vocabulary or None), ``first_arrival`` (or None),
    ``arrival_condition_ja`` (第１波の到達を確認, 津波到達中と推測, ... or None),
    ``height_m`` (float or None for NaN), ``height_over`` (the description ends in
    超: JMA writes １０ｍ超 as 10), ``height_ja`` (e.g. "３ｍ", "巨大" or None);
    ``all_areas_count`` (every area in the report), ``local_kind`` and
    ``highest_kind`` (highest kind among local / all areas), ``observations``
    (VTSE51 stations in local areas: ``area_code``, ``station_code``,
    ``station_name_ja``, ``first_arrival``, ``initial_ja``, ``max_height_m``,
    ``max_height_ja``, ``condition_ja``), ``comment_ja``, ``text_ja``,
    ``elsewhere_kind`` (highest kind outside the jurisdiction) and
    ``elsewhere_areas_ja`` (JMA's names of the areas that have it), ``comments``
    (WarningComment blocks) and ``free_comment_ja`` as for earthquakes, and the
    earthquake fields above (``origin_time``, ``hypocentre``, ``magnitude``,
    ``magnitude_ja``) when given.
    ``Alert.areas`` = local area codes. In jurisdiction when a local area has a
    kind other than "none". Severity: major EXTREME, warning SEVERE, advisory
    MODERATE, else MINOR.

weather_warning -> :class:`~bot.domain.WeatherWarning`
    ``area_code`` (4310000), ``area_name_ja``, ``warnings`` =
    :class:`~bot.domain.WarningItem` (``code``, ``name_ja``, ``level`` (emergency
    特別警報 32-38 | warning 警報 02-08 | advisory 注意報 10-27), ``status``,
    ``status_ja`` (JMA's text), ``previous_level``) for the city's area only.
    ``status``: 発表 -> "issued", 継続 -> "continued", 解除 -> "lifted",
    特別警報から警報 / 特別警報から注意報 / 警報から注意報 -> "downgraded"
    (``previous_level`` = the level before; ``level`` is the kind's own level),
    "X から Y" to a higher level -> "upgraded".
    発表警報・注意報はなし is no entry. ``changed`` is True when the city item's
    ChangeStatus says the kinds changed (警報・注意報種別に変化有);
    ``change_status_ja``. In jurisdiction when the city's item lists at least one
    warning; then ``wards`` = every ward. Severity from the highest level still in
    force: emergency EXTREME, warning SEVERE, advisory MINOR; all lifted MINOR.

weather_warning / landslide (R06, VPWW55-61) -> :class:`~bot.domain.WeatherWarning`
    with ``system`` "r06", ``phenomenon_ja`` (大雨, 土砂災害, 高潮, ...) and per entry
    ``alert_level`` (警戒レベル 2-5 from the kind's name; None for 暴風, 波浪, 大雪 and
    the other advisories); レベル４ 危険警報 is level "danger". Only the city's entries of
    the municipal section (its code, a ward's JMA code) count; see
    :mod:`bot.ingest.jma_warn_r06`.

weather_warning (VPTA50, VPTW60-62) -> :class:`~bot.domain.Typhoon` (``report``
    "probability" or "forecast"); see :mod:`bot.ingest.jma_typhoon`.

landslide -> :class:`~bot.domain.Landslide`
    ``status`` ("issued" | "continued" | "lifted" | "none"), ``municipality_codes``
    and ``municipality_names_ja`` (the city's entries), ``target_area_ja``,
    ``all_municipalities_count``, ``changed`` (status is not "continued"),
    ``text_ja`` (headline). SEVERE while issued/continued, MINOR when lifted.

volcano -> :class:`~bot.domain.Volcano` (VFVO50, and VFVO56 with ``flash``)
    ``volcano_code`` (e.g. "503" 阿蘇山), ``volcano_name_ja``, ``level`` (int 1-5 or
    None), ``level_name_ja``, ``previous_level``, ``warning_code``,
    ``warning_name_ja`` (噴火警報 / 火口周辺警報 / 噴火予報：警報解除 ...; for a flash
    the 噴火速報 kind, e.g. 62 噴火したもよう), ``flash`` (True for VFVO56),
    ``status`` ("raised" 引上げ | "lowered" 引下げ | "continued" | "issued" |
    "lifted"), ``event_time`` (or None), ``municipality_codes``, ``text_ja``.
    In jurisdiction for a configured volcano or when the city is a target
    municipality. Severity: level 4-5 EXTREME, 3 SEVERE, 2 MODERATE, 1 MINOR; no
    level: flash or 噴火警報 SEVERE, 火口周辺警報 MODERATE; lifted MINOR.

heavy_rain -> :class:`~bot.domain.HeavyRain`
    ``area_names_ja`` (every area/station name in the report), ``amounts`` =
    :class:`~bot.domain.RainAmount` (``area_name_ja``, ``code``, ``time``,
    ``amount_mm`` (float or None), ``amount_ja`` (e.g. 約１２０ミリ), ``type_ja``),
    ``text_ja`` (headline). In jurisdiction when a city/ward code or the city's
    name appears; ``wards`` are the wards named (熊本市北区付近 -> 43105), else
    every ward. SEVERE/IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.domain import Alert, EarthquakeReport, TsunamiReport
from bot.errors import IngestError
from bot.ingest.jma_common import SOURCE, Head, read_head
from bot.ingest.jma_eew import FORECAST_TITLES, WARNING_TITLE, parse_eew
from bot.ingest.jma_mete import parse_heavy_rain, parse_landslide, parse_weather
from bot.ingest.jma_seis import parse_earthquake
from bot.ingest.jma_seis_notice import (
    parse_activity,
    parse_hypocentre_update,
    parse_long_period,
    parse_megaquake,
)
from bot.ingest.jma_tsunami import parse_tsunami
from bot.ingest.jma_tsunami_offshore import parse_offshore
from bot.ingest.jma_typhoon import parse_typhoon_forecast, parse_typhoon_probability
from bot.ingest.jma_volc import parse_volcano
from bot.ingest.jma_warn_r06 import parse_weather_r06, phenomenon
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import local, namespace, parse_xml

JMX_NAMESPACE = "http://xml.kishou.go.jp/jmaxml1/"

Parser = Callable[[Head, Jurisdiction], list[Alert]]

# Types read and deliberately not sent, by Control/Title: (type code, reason).
REFUSED: dict[str, tuple[str, str]] = {
    "大雨危険度通知": (
        "VPRN50",
        "a nationwide snapshot of the risk distribution (キキクル) for every municipality, "
        "reissued every 10 minutes; what it means for the city reaches residents as the "
        "municipal レベル3-5 warnings of 気象警報・注意報（Ｒ０６） and the landslide alert, "
        "which are sent"),
}


def _route(title: str) -> Parser | None:
    """Report parser for a Control/Title (sample titles may end in a stray 'a')."""
    t = title.strip()
    exact: dict[str, Parser] = {
        "震度速報": lambda h, j: parse_earthquake(h, EarthquakeReport.INTENSITY, j),
        "震源に関する情報": lambda h, j: parse_earthquake(h, EarthquakeReport.EPICENTER, j),
        "震源・震度に関する情報": lambda h, j: parse_earthquake(
            h, EarthquakeReport.EPICENTER_INTENSITY, j),
        "気象特別警報・警報・注意報": parse_weather,
        "気象警報・注意報": parse_weather,
        "気象警報・注意報（Ｈ２７）": parse_weather,
        "土砂災害警戒情報": parse_landslide,
        "記録的短時間大雨情報": parse_heavy_rain,
        "噴火警報・予報": lambda h, j: parse_volcano(h, j, flash=False),
        "噴火速報": lambda h, j: parse_volcano(h, j, flash=True),
        "南海トラフ地震臨時情報": parse_megaquake,
        "南海トラフ地震関連解説情報": parse_megaquake,
        "北海道・三陸沖後発地震注意情報": parse_megaquake,
        "長周期地震動に関する観測情報": parse_long_period,
        "顕著な地震の震源要素更新のお知らせ": parse_hypocentre_update,
        "地震の活動状況等に関する情報": parse_activity,
        "沖合の津波観測に関する情報": parse_offshore,
        "台風の暴風域に入る確率": parse_typhoon_probability,
    }
    if t in exact:
        return exact[t]
    if phenomenon(t) is not None:
        return parse_weather_r06
    if t.startswith("台風解析・予報情報"):
        return parse_typhoon_forecast
    if t == WARNING_TITLE or t in FORECAST_TITLES:
        return parse_eew
    if t.startswith("津波警報・注意報・予報"):
        return lambda h, j: parse_tsunami(h, TsunamiReport.WARNING, j)
    if t.startswith("津波情報"):
        return lambda h, j: parse_tsunami(h, TsunamiReport.INFORMATION, j)
    return None


def parse_jma(data: bytes, jurisdiction: Jurisdiction) -> list[Alert]:
    """Parse one JMA report. Raises IngestError (HostileDocument) with a reason."""
    root = parse_xml(data, source=SOURCE)
    if local(root.tag) != "Report" or namespace(root) != JMX_NAMESPACE:
        raise IngestError(
            f"not a JMA report: root element is {root.tag!r}, expected "
            f"{{{JMX_NAMESPACE}}}Report", source=SOURCE)
    head = read_head(root)
    if head.control_title.strip() in REFUSED:
        code, reason = REFUSED[head.control_title.strip()]
        raise IngestError(f"refused JMA document type {head.control_title.strip()!r} "
                          f"({code}): {reason}", source=SOURCE)
    parser = _route(head.control_title)
    if parser is None:
        raise IngestError(
            f"unsupported JMA document type {head.control_title!r} "
            f"(InfoKind {head.info_kind!r}); supported: earthquake, tsunami, weather warning, "
            "landslide, volcano, heavy-rain, typhoon and earthquake early warning reports",
            source=SOURCE)
    try:
        return parser(head, jurisdiction)
    except IngestError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise IngestError(
            f"cannot read {head.control_title!r} report: {type(exc).__name__}: {exc}",
            source=SOURCE) from None
