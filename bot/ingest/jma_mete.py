"""JMA meteorological reports: VPWW53/VPWW54 気象警報・注意報, VXWW50 土砂災害警戒情報,
VPOA50 記録的短時間大雨情報.

Conventions are documented in :mod:`bot.ingest.jma`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from bot.domain import (
    Alert,
    HeavyRain,
    Kind,
    Landslide,
    LandslideStatus,
    MsgType,
    RainAmount,
    Severity,
    Urgency,
    WarningItem,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.ingest.jma_common import Head, head_fields, make_alert, number, optional_time
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, descendants, text

CITY_WARNING_TYPE = "気象警報・注意報（市町村等）"
_LEVEL_SEVERITY = {WarningLevel.EMERGENCY: Severity.EXTREME,
                   WarningLevel.WARNING: Severity.SEVERE, WarningLevel.ADVISORY: Severity.MINOR}
_LEVEL_URGENCY = {WarningLevel.EMERGENCY: Urgency.IMMEDIATE,
                  WarningLevel.WARNING: Urgency.EXPECTED, WarningLevel.ADVISORY: Urgency.FUTURE}
SIMPLE_STATUS = {"発表": WarningStatus.ISSUED, "継続": WarningStatus.CONTINUED,
                 "解除": WarningStatus.LIFTED}
NO_WARNINGS = ("発表警報・注意報はなし", "なし")
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def warning_level(code: str, name: str) -> WarningLevel | None:
    """JMA WeatherWarning code (or name) -> its level."""
    if code.isdigit():
        n = int(code)
        if 32 <= n <= 38:
            return WarningLevel.EMERGENCY
        if 2 <= n <= 8:
            return WarningLevel.WARNING
        if 10 <= n <= 27:
            return WarningLevel.ADVISORY
    return _level_word(name)


def _level_word(s: str) -> WarningLevel | None:
    return WarningLevel.EMERGENCY if "特別警報" in s else WarningLevel.WARNING if "警報" in s \
        else WarningLevel.ADVISORY if "注意報" in s else None


def warning_status(status: str) -> tuple[WarningStatus, WarningLevel | None]:
    """JMA Kind/Status -> (status, previous level); see :mod:`bot.ingest.jma`."""
    if status in SIMPLE_STATUS:
        return SIMPLE_STATUS[status], None
    if "から" in status:  # 特別警報から警報, 特別警報から注意報, 警報から注意報, ...
        before, after = status.split("から", 1)
        prev, new = _level_word(before), _level_word(after)
        if prev and new and new.rank > prev.rank:
            return WarningStatus.UPGRADED, prev
        return WarningStatus.DOWNGRADED, prev
    return WarningStatus.ISSUED, None


def _city_item(body: ET.Element | None, codes: set[str]) -> ET.Element | None:
    for warning in children(body, "Warning"):
        if warning.get("type") != CITY_WARNING_TYPE:
            continue
        for item in children(warning, "Item"):
            if text(item, "Area", "Code") in codes:
                return item
    return None


def parse_weather(h: Head, jur: Jurisdiction) -> list[Alert]:
    item = _city_item(h.body, {jur.warning_area, *jur.legacy_city_codes})
    warnings: list[WarningItem] = []
    for k in children(item, "Kind"):
        raw_status = text(k, "Status")
        name, code = text(k, "Name"), text(k, "Code")
        if raw_status in NO_WARNINGS or not (name or code):
            continue
        level = warning_level(code, name)
        if level is None:
            continue
        status, previous = warning_status(raw_status)
        warnings.append(WarningItem(code=code, name_ja=name, level=level, status=status,
                                    status_ja=raw_status, previous_level=previous))
    change = text(item, "ChangeStatus")
    payload = WeatherWarning(
        **head_fields(h),
        area_code=text(item, "Area", "Code") or jur.warning_area,
        area_name_ja=text(item, "Area", "Name") or jur.city_name_ja,
        warnings=tuple(warnings),
        changed="種別に変化有" in change or (bool(warnings) and not change),
        change_status_ja=change or None,
    )
    in_jur = bool(warnings) or (h.msg_type is MsgType.CANCEL)
    active = [w.level for w in warnings if w.status is not WarningStatus.LIFTED]
    top = max(active, key=lambda lvl: lvl.rank) if active else None
    severity = _LEVEL_SEVERITY[top] if top else Severity.MINOR
    urgency = _LEVEL_URGENCY[top] if top else Urgency.PAST
    body_ja = "\n".join(f"{w.name_ja}：{w.status_ja}" for w in warnings)
    return [make_alert(h, kind=Kind.WEATHER_WARNING, payload=payload,
                       body_ja=f"{payload.area_name_ja}\n{body_ja}" if body_ja else "",
                       severity=severity, urgency=urgency,
                       wards=jur.ward_codes if in_jur else (),
                       areas=(payload.area_code,) if in_jur else (), in_jurisdiction=in_jur,
                       all_lifted=bool(warnings) and not active)]


LANDSLIDE_STATUS = {"発表": LandslideStatus.ISSUED, "継続": LandslideStatus.CONTINUED,
                    "解除": LandslideStatus.LIFTED, "なし": LandslideStatus.NONE}
_LIVE = (LandslideStatus.ISSUED, LandslideStatus.CONTINUED)


def parse_landslide(h: Head, jur: Jurisdiction) -> list[Alert]:
    city_codes = {*jur.municipality_codes, *jur.legacy_city_codes}
    found: list[tuple[str, str, str]] = []
    total = 0
    for warning in children(h.body, "Warning"):
        for item in children(warning, "Item"):
            total += 1
            code = text(item, "Area", "Code")
            if code in city_codes:
                found.append((code, text(item, "Area", "Name"), text(item, "Kind", "Status")))
    statuses = [LANDSLIDE_STATUS.get(s, LandslideStatus.ISSUED if s else LandslideStatus.NONE)
                for _, _, s in found]
    status = next((s for s in (*_LIVE, LandslideStatus.LIFTED) if s in statuses),
                  LandslideStatus.NONE)
    payload = Landslide(
        **head_fields(h),
        status=status,
        municipality_codes=tuple(c for c, _, _ in found),
        municipality_names_ja=tuple(n for _, n, _ in found),
        target_area_ja=text(h.body, "TargetArea", "Name") or None,
        all_municipalities_count=total,
        changed=status is not LandslideStatus.CONTINUED,
        text_ja=h.headline,
    )
    in_jur = status is not LandslideStatus.NONE or h.msg_type is MsgType.CANCEL
    live = status in _LIVE
    return [make_alert(h, kind=Kind.LANDSLIDE, payload=payload,
                       body_ja=_landslide_summary(payload, jur),
                       severity=Severity.SEVERE if live else Severity.MINOR,
                       urgency=Urgency.IMMEDIATE if live else Urgency.PAST,
                       wards=jur.ward_codes if in_jur else (),
                       areas=payload.municipality_codes, in_jurisdiction=in_jur,
                       all_lifted=status is LandslideStatus.LIFTED)]


def _landslide_summary(p: Landslide, jur: Jurisdiction) -> str:
    words = {LandslideStatus.ISSUED: "発表", LandslideStatus.CONTINUED: "継続",
             LandslideStatus.LIFTED: "解除"}
    if p.status not in words:
        return ""
    place = "、".join(p.municipality_names_ja) or jur.city_name_ja
    return f"{place}：土砂災害警戒情報 {words[p.status]}"


# 札幌市中央区付近で約１００ミリ (解析雨量) / 熊本（熊本市）で１１０ミリ (アメダス)
_HEADLINE_AMOUNT = re.compile(
    r"^(?P<place>.+?)(?P<near>付近)?で(?P<amount>約?[０-９0-9．.]+ミリ(?:以上)?)$")
_HEADLINE_TIME = re.compile(r"^(?P<h>[０-９0-9]{1,2})時(?P<m>[０-９0-9]{1,2})分")


def _headline_amounts(headline: str, base: datetime) -> list[RainAmount]:
    """The places and 1-hour amounts JMA writes in the headline of a real report."""
    when = None
    out = []
    for line in (x.strip(" \u3000") for x in headline.splitlines()):
        t = _HEADLINE_TIME.match(line)
        if t and when is None:
            hour, minute = int(t["h"].translate(_DIGITS)), int(t["m"].translate(_DIGITS))
            when = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if when > base:  # 23時50分 in a report of 00:05 the next day
                when -= timedelta(days=1)
        m = _HEADLINE_AMOUNT.match(line)
        if m:
            place = m["place"] + (m["near"] or "")
            out.append(RainAmount(area_name_ja=place, time=when,
                                  amount_mm=number(m["amount"].strip("約").removesuffix("以上")
                                                   .removesuffix("ミリ")),
                                  amount_ja=m["amount"], type_ja="１時間降水量"))
    return out


def parse_heavy_rain(h: Head, jur: Jurisdiction) -> list[Alert]:
    """VPOA50: Headline areas and Body/MeteorologicalInfos items (解析雨量 areas and
    アメダス stations) with their 1-hour precipitation; a real report has no
    MeteorologicalInfos and names the places and amounts in its headline text
    (``１９時４０分北海道で記録的短時間大雨 / 札幌市中央区付近で約１００ミリ``)."""
    city_codes = {*jur.municipality_codes, *jur.legacy_city_codes,
                  *(w.jma_code for w in jur.wards)}
    names: list[str] = []
    local = False
    wards: set[str] = set()

    def note(name: str, code: str) -> None:
        nonlocal local
        if name and name not in names:
            names.append(name)
        named = jur.wards_named_in(name)
        if code in city_codes or named or jur.city_name_ja in name:
            local = True
            wards.update(named)
            ward = jur.ward_by_jma(code)
            if ward is not None:
                wards.add(ward.code)

    for area in descendants(child(h.head, "Headline"), "Area"):
        note(text(area, "Name"), text(area, "Code"))
    amounts = []
    for info in descendants(h.body, "MeteorologicalInfo"):
        when = optional_time(text(info, "DateTime"))
        for item in children(info, "Item"):
            place = child(item, "Area")
            if place is None:
                place = child(item, "Station")
            name, code = text(place, "Name"), text(place, "Code")
            note(name, code)
            for p in descendants(item, "Precipitation"):
                amounts.append(RainAmount(area_name_ja=name, code=code, time=when,
                                          amount_mm=number(p.text or ""),
                                          amount_ja=p.get("description") or None,
                                          type_ja=p.get("type") or None))
    if not amounts:  # JMA's real reports carry the amounts in the headline only
        amounts = _headline_amounts(h.headline, h.target_time or h.report_time)
        # JMA may name a ward without its city (上京区付近): the city's ward only when
        # the report is for the city's prefecture.
        in_pref = bool(jur.pref_code) and any(
            text(item, "Area", "Code").startswith(jur.pref_code)
            for item in descendants(h.body, "Item"))
        for a in amounts:
            note(a.area_name_ja, "")
            bare = [w.code for w in jur.wards if a.area_name_ja.startswith(w.name_ja)]
            if in_pref and bare:
                local = True
                wards.update(bare)
    payload = HeavyRain(**head_fields(h), area_names_ja=tuple(names), amounts=tuple(amounts),
                        text_ja=h.headline)
    in_jur = local or h.msg_type is MsgType.CANCEL
    body_lines = [f"{a.area_name_ja}：{a.amount_ja or a.amount_mm}" for a in amounts
                  if a.amount_ja or a.amount_mm is not None]
    return [make_alert(h, kind=Kind.HEAVY_RAIN, payload=payload, body_ja="\n".join(body_lines),
                       severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE,
                       wards=(jur.ordered(wards) or jur.ward_codes) if in_jur else (),
                       areas=tuple(n for n in names if jur.city_name_ja in n),
                       in_jurisdiction=in_jur)]
