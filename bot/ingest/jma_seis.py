"""JMA earthquake reports: VXSE51 震度速報, VXSE52 震源に関する情報, VXSE53 震源・震度に関する情報.

Conventions are documented in :mod:`bot.ingest.jma`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from bot.domain import Alert, Intensity, Kind, MsgType, Severity, Urgency
from bot.ingest.jma_common import Head, base_params, iso, make_alert, optional_time
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, descendants, text

# Comments/ForecastComment codes (固定付加文) -> params["tsunami"].
TSUNAMI_CODES = {
    "0211": "warning",   # 津波警報等を発表中
    "0212": "slight",    # 若干の海面変動があるかもしれないが被害の心配なし
    "0213": "slight",    # しばらく海面変動が続く（海水浴や磯釣りに注意）
    "0214": "slight",    # しばらく海面変動が続く（磯釣りに注意）
    "0215": "none",      # この地震による津波の心配はありません
    "0203": "none",      # same text in reports before the 2013 code revision
    "0216": "possible",  # 震源が海底の場合、津波が発生するおそれ
    "0221": "possible", "0222": "possible", "0223": "possible", "0224": "possible",
    "0225": "possible", "0226": "possible", "0227": "slight", "0228": "possible",
    "0229": "unknown",   # 日本への津波の有無については現在調査中
    "0230": "none",      # 日本への津波の影響はありません
}

_COORD = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+)?/?$")


def tsunami_from_comments(body: ET.Element | None) -> tuple[str, str]:
    """(tsunami, comment text) from Body/Comments/ForecastComment."""
    comment = child(body, "Comments", "ForecastComment")
    if comment is None:
        return "unknown", ""
    comment_text = text(comment, "Text")
    for code_el in children(comment, "Code"):
        for code in (code_el.text or "").split():
            if code in TSUNAMI_CODES:
                return TSUNAMI_CODES[code], comment_text
    if "津波の心配はありません" in comment_text or "影響はありません" in comment_text:
        return "none", comment_text
    if "若干の海面変動" in comment_text:
        return "slight", comment_text
    if "発表中" in comment_text:
        return "warning", comment_text
    if "津波" in comment_text and ("おそれ" in comment_text or "可能性" in comment_text):
        return "possible", comment_text
    return "unknown", comment_text


def earthquake_fields(body: ET.Element | None) -> dict[str, Any]:
    """origin_time, epicenter_code/name_ja, magnitude(_ja), depth_km, lat, lon."""
    eq = child(body, "Earthquake")
    out: dict[str, Any] = {
        "origin_time": None, "epicenter_code": None, "epicenter_name_ja": None,
        "magnitude": None, "magnitude_ja": None, "depth_km": None, "lat": None, "lon": None,
    }
    if eq is None:
        return out
    out["origin_time"] = iso(optional_time(text(eq, "OriginTime")))
    area = child(eq, "Hypocenter", "Area")
    out["epicenter_name_ja"] = text(area, "Name") or None
    out["epicenter_code"] = text(area, "Code") or None
    coord = child(area, "Coordinate")
    if coord is not None:
        m = _COORD.match((coord.text or "").strip())
        if m:
            out["lat"], out["lon"] = float(m.group(1)), float(m.group(2))
            if m.group(3) is not None and "不明" not in coord.get("description", ""):
                out["depth_km"] = abs(int(m.group(3))) // 1000
    mag = child(eq, "Magnitude")
    if mag is not None:
        value = (mag.text or "").strip()
        out["magnitude_ja"] = mag.get("description") or None
        try:
            if value and float(value) == float(value):  # NaN when unknown (Ｍ不明, Ｍ８を超える)
                out["magnitude"] = value
        except ValueError:
            pass
    return out


def _severity(intensity: Intensity | None) -> Severity:
    if intensity is None or intensity < Intensity.FOUR:
        return Severity.MINOR
    if intensity < Intensity.FIVE_LOWER:
        return Severity.MODERATE
    if intensity < Intensity.SIX_LOWER:
        return Severity.SEVERE
    return Severity.EXTREME


def _intensity(el: ET.Element | None) -> Intensity | None:
    """An element's MaxInt; None when absent. A value off JMA's scale is an error."""
    value = text(el, "MaxInt")
    return Intensity.parse(value) if value else None


def parse_earthquake(h: Head, info_kind: str, jur: Jurisdiction) -> list[Alert]:
    body = h.body
    params = base_params(h, info_kind)
    params.update(earthquake_fields(body))
    if params["origin_time"] is None:  # 震度速報: the time of the shaking
        params["origin_time"] = iso(h.target_time)

    observation = child(body, "Intensity", "Observation")
    overall = _intensity(observation)
    ward_intensity: dict[str, Intensity] = {}
    city_values: list[Intensity] = []
    area_intensity: dict[str, Intensity] = {}
    pref_intensity = None
    for pref in children(observation, "Pref"):
        if jur.pref_code and text(pref, "Code") == jur.pref_code:
            pref_intensity = _intensity(pref)
        for area in children(pref, "Area"):
            code = text(area, "Code")
            value = _intensity(area)
            if code in jur.seismic_areas and value is not None:
                area_intensity[code] = value
            for city in children(area, "City"):
                ccode = text(city, "Code")
                cvalue = _intensity(city)
                ward = jur.ward_by_jma(ccode)
                if ward is not None and cvalue is not None:
                    ward_intensity[ward.code] = cvalue
                    city_values.append(cvalue)
                elif jur.is_city_code(ccode) and cvalue is not None:
                    city_values.append(cvalue)
    if overall is None:  # fall back to the headline (震度速報 always has a Body, but be lenient)
        overall = Intensity.highest(Intensity.find(text(k, "Name"))
                                    for k in descendants(h.head, "Kind"))
    city_intensity = Intensity.highest(city_values)
    local = city_intensity if city_intensity is not None else Intensity.highest(
        area_intensity.values())
    tsunami, tsunami_comment = tsunami_from_comments(body)

    def as_code(value: Intensity | None) -> str | None:
        return value.code if value is not None else None

    params.update({
        "max_intensity": as_code(overall),
        "ward_intensity": {w: v.code for w, v in ward_intensity.items()},
        "city_intensity": as_code(city_intensity),
        "area_intensity": {a: v.code for a, v in area_intensity.items()},
        "local_max_intensity": as_code(local),
        "pref_intensity": as_code(pref_intensity),
        "tsunami": tsunami,
        "tsunami_comment_ja": tsunami_comment,
    })
    local_epicenter = params["epicenter_code"] in jur.epicenter_codes
    in_jur = bool(ward_intensity or city_values or area_intensity or local_epicenter)
    if h.msg_type is MsgType.CANCEL:
        in_jur = True  # a cancellation follows its original; the store decides
    if ward_intensity and not (len(city_values) > len(ward_intensity)):
        wards = jur.ordered(ward_intensity)
    else:
        wards = jur.ward_codes if in_jur else ()
    areas = tuple(sorted({*(w.jma_code for w in jur.wards if w.code in ward_intensity),
                          *area_intensity,
                          *([params["epicenter_code"]] if local_epicenter else [])}))
    severity = _severity(local if local is not None else overall)
    urgency = Urgency.IMMEDIATE if severity >= Severity.SEVERE else Urgency.PAST
    return [make_alert(h, kind=Kind.EARTHQUAKE, params=params, body_ja=_summary(params, jur),
                       severity=severity, urgency=urgency, wards=wards, areas=areas,
                       in_jurisdiction=in_jur)]


def _summary(p: dict[str, Any], jur: Jurisdiction) -> str:
    parts = []
    if p["epicenter_name_ja"]:
        where = f"震源：{p['epicenter_name_ja']}"
        if p["depth_km"] is not None:
            where += f"（深さ約{p['depth_km']}km）" if p["depth_km"] else "（ごく浅い）"
        if p["magnitude"]:
            where += f"、マグニチュード{p['magnitude']}"
        elif p["magnitude_ja"]:
            where += f"、{p['magnitude_ja']}"
        parts.append(where + "。")
    if p["max_intensity"]:
        parts.append(f"最大{Intensity.parse(p['max_intensity']).ja}。")
    if p["ward_intensity"]:
        names = {w.code: w.name_ja for w in jur.wards}
        local = "、".join(f"{names[c]}{Intensity.parse(v).ja}"
                         for c, v in p["ward_intensity"].items())
        parts.append(f"{jur.city_name_ja}：{local}。")
    elif p["city_intensity"]:
        parts.append(f"{jur.city_name_ja}：{Intensity.parse(p['city_intensity']).ja}。")
    if p["tsunami_comment_ja"]:
        parts.append(p["tsunami_comment_ja"])
    return "".join(parts)
