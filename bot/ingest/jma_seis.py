"""JMA earthquake reports: VXSE51 震度速報, VXSE52 震源に関する情報, VXSE53 震源・震度に関する情報.

Conventions are documented in :mod:`bot.ingest.jma`.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

from bot.domain import (
    Alert,
    Earthquake,
    EarthquakeReport,
    Hypocentre,
    Intensity,
    Kind,
    MsgType,
    Severity,
    TsunamiOutlook,
    Urgency,
)
from bot.ingest.jma_common import Head, head_fields, make_alert, optional_time, read_comments
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, descendants, text

_W, _S, _N, _P, _U = (TsunamiOutlook.WARNING, TsunamiOutlook.SLIGHT, TsunamiOutlook.NONE,
                      TsunamiOutlook.POSSIBLE, TsunamiOutlook.UNKNOWN)
# Comments/ForecastComment codes (固定付加文) -> Earthquake.tsunami.
TSUNAMI_CODES = {
    "0211": _W,  # 津波警報等を発表中
    "0212": _S,  # 若干の海面変動があるかもしれないが被害の心配なし
    "0213": _S,  # しばらく海面変動が続く（海水浴や磯釣りに注意）
    "0214": _S,  # しばらく海面変動が続く（磯釣りに注意）
    "0215": _N,  # この地震による津波の心配はありません
    "0203": _N,  # same text in reports before the 2013 code revision
    "0216": _P,  # 震源が海底の場合、津波が発生するおそれ
    "0221": _P, "0222": _P, "0223": _P, "0224": _P, "0225": _P, "0226": _P, "0227": _S,
    "0228": _P,
    "0229": _U,  # 日本への津波の有無については現在調査中
    "0230": _N,  # 日本への津波の影響はありません
}

# JMA's fixed wording, in the free comment of a 遠地地震に関する情報, when the report
# is about a large volcanic eruption (e.g. シベルチ火山, 2023-04-10): "…（日本時間）に
# シベルチ火山で大規模な噴火が発生しました". The report keeps the earthquake format.
ERUPTION_WORDS = "大規模な噴火が発生しました"

_COORD = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+)?/?$")


def tsunami_from_comments(body: ET.Element | None) -> tuple[TsunamiOutlook, str]:
    """(tsunami, comment text) from Body/Comments/ForecastComment."""
    comment = child(body, "Comments", "ForecastComment")
    if comment is None:
        return _U, ""
    comment_text = text(comment, "Text")
    for code_el in children(comment, "Code"):
        for code in (code_el.text or "").split():
            if code in TSUNAMI_CODES:
                return TSUNAMI_CODES[code], comment_text
    if "津波の心配はありません" in comment_text or "影響はありません" in comment_text:
        return _N, comment_text
    if "若干の海面変動" in comment_text:
        return _S, comment_text
    if "発表中" in comment_text:
        return _W, comment_text
    if "津波" in comment_text and ("おそれ" in comment_text or "可能性" in comment_text):
        return _P, comment_text
    return _U, comment_text


def earthquake_fields(body: ET.Element | None) -> dict[str, Any]:
    """``origin_time``, ``hypocentre``, ``magnitude`` and ``magnitude_ja`` of
    Body/Earthquake, as :class:`~bot.domain.Earthquake` and Tsunami fields."""
    eq = child(body, "Earthquake")
    if eq is None:
        return {}
    out: dict[str, Any] = {"origin_time": optional_time(text(eq, "OriginTime"))}
    area = child(eq, "Hypocenter", "Area")
    place: dict[str, Any] = {"code": text(area, "Code") or None,
                             "name_ja": text(area, "Name") or None}
    coord = child(area, "Coordinate")
    if coord is not None:
        m = _COORD.match((coord.text or "").strip())
        if m:
            place["lat"], place["lon"] = float(m.group(1)), float(m.group(2))
            if m.group(3) is not None and "不明" not in coord.get("description", ""):
                place["depth_km"] = abs(int(m.group(3))) // 1000
    if any(v is not None for v in place.values()):
        out["hypocentre"] = Hypocentre(**place)
    mag = child(eq, "Magnitude")
    if mag is not None:
        out["magnitude_ja"] = mag.get("description") or None
        try:
            value = float((mag.text or "").strip())
        except ValueError:
            value = math.nan
        if math.isfinite(value):  # NaN when unknown (Ｍ不明, Ｍ８を超える巨大地震)
            out["magnitude"] = value
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


def parse_earthquake(h: Head, report: EarthquakeReport, jur: Jurisdiction) -> list[Alert]:
    body = h.body
    quake = earthquake_fields(body)
    if quake.get("origin_time") is None:  # 震度速報: the time of the shaking
        quake["origin_time"] = h.target_time

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
    comments, free_comment = read_comments(body)
    payload = Earthquake(
        **head_fields(h), report=report, **quake,
        max_intensity=overall, ward_intensity=ward_intensity, city_intensity=city_intensity,
        area_intensity=area_intensity, local_max_intensity=local,
        pref_intensity=pref_intensity, tsunami=tsunami, tsunami_comment_ja=tsunami_comment,
        comments=comments, free_comment_ja=free_comment,
        volcanic_eruption=ERUPTION_WORDS in free_comment)
    epicenter = payload.hypocentre.code if payload.hypocentre else None
    local_epicenter = epicenter in jur.epicenter_codes
    in_jur = bool(ward_intensity or city_values or area_intensity or local_epicenter)
    if h.msg_type is MsgType.CANCEL:
        in_jur = True  # a cancellation follows its original; the store decides
    if ward_intensity and not (len(city_values) > len(ward_intensity)):
        wards = jur.ordered(ward_intensity)
    else:
        wards = jur.ward_codes if in_jur else ()
    areas = tuple(sorted({*(w.jma_code for w in jur.wards if w.code in ward_intensity),
                          *area_intensity,
                          *([epicenter] if epicenter and local_epicenter else [])}))
    severity = _severity(local if local is not None else overall)
    urgency = Urgency.IMMEDIATE if severity >= Severity.SEVERE else Urgency.PAST
    return [make_alert(h, kind=Kind.EARTHQUAKE, payload=payload, body_ja=_summary(payload, jur),
                       severity=severity, urgency=urgency, wards=wards, areas=areas,
                       in_jurisdiction=in_jur)]


def _summary(p: Earthquake, jur: Jurisdiction) -> str:
    if p.volcanic_eruption:  # the "epicenter" of such a report is the volcano's region
        said = next(line for line in p.free_comment_ja.splitlines() if ERUPTION_WORDS in line)
        return said + p.tsunami_comment_ja
    parts = []
    hypo = p.hypocentre
    if hypo is not None and hypo.name_ja:
        where = f"震源：{hypo.name_ja}"
        if hypo.depth_km is not None:
            where += f"（深さ約{hypo.depth_km}km）" if hypo.depth_km else "（ごく浅い）"
        if p.magnitude is not None:
            where += f"、マグニチュード{p.magnitude:.1f}"
        elif p.magnitude_ja:
            where += f"、{p.magnitude_ja}"
        parts.append(where + "。")
    if p.max_intensity is not None:
        parts.append(f"最大{p.max_intensity.ja}。")
    if p.ward_intensity:
        names = {w.code: w.name_ja for w in jur.wards}
        local = "、".join(f"{names[c]}{v.ja}" for c, v in p.ward_intensity.items())
        parts.append(f"{jur.city_name_ja}：{local}。")
    elif p.city_intensity is not None:
        parts.append(f"{jur.city_name_ja}：{p.city_intensity.ja}。")
    if p.tsunami_comment_ja:
        parts.append(p.tsunami_comment_ja)
    return "".join(parts)
