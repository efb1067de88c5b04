"""Typhoon reports: 台風の暴風域に入る確率 (VPTA50) and 台風解析・予報情報 (VPTW60-62).

VPTA50: for each cumulative span (1日積算 .. 5日積算: 24 .. 120 hours) and each area
(府県予報区の細分区域, e.g. 熊本市 430011) JMA gives the chance (%) that the area is
inside the typhoon's storm area (暴風域, 風速25m/s以上). The city's areas are
``[jurisdiction] typhoon_areas``; the report is in the jurisdiction when the city's
chance is above zero, and policy decides from ``min_typhoon_probability``.

VPTW60-62 (the five-day forecast; VPTW61/62 carry the same body for a second and
third typhoon at the same time): the analysis (実況, with its 暴風域) and each
estimate or forecast (推定 N時間後, 予報 N時間後, with its 予報円 and 暴風警戒域).
The city (``[jurisdiction] city_point``) is reached when it lies inside the storm
area of the analysis or an estimate, or inside the storm-warning area (暴風警戒域) or
the forecast circle (予報円) of a forecast. JMA's circles are read with their largest
radius (a circle given per direction is taken whole): a resident is told rather
than missed. Not reached (or no typhoon yet: 台風発生予想 of a tropical depression)
is out of the jurisdiction.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bot.domain import Alert, Kind, MsgType, Severity, StormProbability, Typhoon, Urgency
from bot.geo import distance_km
from bot.ingest.jma_common import Head, head_fields, make_alert, number, optional_time
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, descendants, text

_COORD = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
_SPAN = re.compile(r"PT(\d+)H")


def _coordinate(value: str) -> tuple[float, float] | None:
    """JMA's '+32.8+130.7/' -> (32.8, 130.7); None when absent."""
    m = _COORD.match(value.strip())
    return (float(m.group(1)), float(m.group(2))) if m else None


def _name_part(body: ET.Element | None) -> tuple[str, str, str]:
    for part in descendants(body, "TyphoonNamePart"):
        return text(part, "Name"), text(part, "NameKana"), text(part, "Number")
    return "", "", ""


# ---------------------------------------------------------------- VPTA50


def parse_typhoon_probability(h: Head, jur: Jurisdiction) -> list[Alert]:
    name, kana, num = _name_part(h.body)
    probabilities: list[StormProbability] = []
    area_code = area_name = ""
    for info in descendants(h.body, "MeteorologicalInfo"):
        span = _SPAN.fullmatch(text(info, "Duration"))
        if span is None:
            continue
        for item in children(info, "Item"):
            code = text(item, "Area", "Code")
            if code not in jur.typhoon_areas:
                continue
            value = number(next((p.text or "" for p in descendants(item, "FiftyKtWindProbability")),
                                ""))
            if value is None:
                continue
            area_code, area_name = code, text(item, "Area", "Name")
            probabilities.append(StormProbability(hours=int(span.group(1)), percent=int(value)))
            break
    top = max((p.percent for p in probabilities), default=None)
    payload = Typhoon(**head_fields(h), report="probability", number=num, name=name,
                      name_kana=kana, base_time=h.target_time, area_code=area_code,
                      area_name_ja=area_name, probabilities=tuple(probabilities),
                      max_percent=top)
    in_jur = bool(top) or h.msg_type is MsgType.CANCEL
    body = "\n".join(f"{area_name}：{p.hours}時間以内 {p.percent}％" for p in probabilities)
    return [make_alert(h, kind=Kind.WEATHER_WARNING, payload=payload, body_ja=body,
                       severity=Severity.MODERATE if top and top >= 50 else Severity.MINOR,
                       urgency=Urgency.FUTURE, wards=jur.ward_codes if in_jur else (),
                       areas=(area_code,) if in_jur and area_code else (),
                       in_jurisdiction=in_jur)]


# ---------------------------------------------------------------- VPTW60-62


def _max_radius_km(circle: ET.Element | None, radius_type: str | None = None) -> float | None:
    radii = [number(r.text or "") for r in descendants(circle, "Radius")
             if r.get("unit") == "km" and (radius_type is None or r.get("type") == radius_type)]
    values = [r for r in radii if r is not None]
    return max(values) if values else None


def _center(info: ET.Element) -> tuple[float, float] | None:
    for el in (*descendants(info, "Coordinate"), *descendants(info, "BasePoint")):
        if el.get("type") == "中心位置（度）":
            point = _coordinate(el.text or "")
            if point is not None:
                return point
    return None


def _value(info: ET.Element, tag: str, type_: str, unit: str) -> int | None:
    for el in descendants(info, tag):
        if el.get("type") == type_ and el.get("unit") == unit:
            v = number(el.text or "")
            return int(v) if v is not None else None
    return None


def parse_typhoon_forecast(h: Head, jur: Jurisdiction) -> list[Alert]:
    name, kana, num = _name_part(h.body)
    infos = list(descendants(h.body, "MeteorologicalInfo"))
    fields: dict[str, object] = {}
    reach: tuple[object, str, float] | None = None
    for i, info in enumerate(infos):
        center = _center(info)
        if i == 0:
            fields = {
                "center_lat": center[0] if center else None,
                "center_lon": center[1] if center else None,
                "location_ja": next((x.text or "" for x in descendants(info, "Location")), ""),
                "pressure_hpa": _value(info, "Pressure", "中心気圧", "hPa"),
                "max_wind_ms": _value(info, "WindSpeed", "最大風速", "m/s"),
                "class_ja": next((x.text or "" for x in descendants(info, "TyphoonClass")), ""),
            }
        if center is None or jur.point is None or reach is not None:
            continue
        d = distance_km(jur.point[0], jur.point[1], center[0], center[1])
        circles = []
        for part in descendants(info, "WarningAreaPart"):
            if part.get("type") in ("暴風域", "暴風警戒域"):
                circles.append((part.get("type") or "", _max_radius_km(child(part, "Circle"))))
        for prob in descendants(info, "ProbabilityCircle"):
            circles.append(("予報円", _max_radius_km(prob)))
        for area, radius in circles:
            if radius is not None and d <= radius:
                reach = (optional_time(text(info, "DateTime")), area, round(d, 1))
                break
    reaches = reach is not None
    payload = Typhoon(**head_fields(h), report="forecast", number=num, name=name, name_kana=kana,
                      base_time=h.target_time, reaches_city=reaches,
                      reach_time=reach[0] if reach else None,  # type: ignore[arg-type]
                      reach_area_ja=reach[1] if reach else "",
                      distance_km=reach[2] if reach else None,
                      **fields)  # type: ignore[arg-type]
    in_jur = reaches or h.msg_type is MsgType.CANCEL
    storm_now = reach is not None and reach[1] == "暴風域"
    return [make_alert(h, kind=Kind.WEATHER_WARNING, payload=payload, body_ja=h.headline,
                       severity=Severity.SEVERE if storm_now else Severity.MODERATE,
                       urgency=Urgency.IMMEDIATE if storm_now else Urgency.EXPECTED,
                       wards=jur.ward_codes if in_jur else (), areas=(),
                       in_jurisdiction=in_jur)]
