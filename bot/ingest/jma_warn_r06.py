"""JMA's warning system of 2026 (気象警報・注意報（Ｒ０６）, VPWW55-61).

One report per phenomenon and prefecture: VPWW55 大雨, VPWW56 土砂災害, VPWW57 高潮,
VPWW58 暴風, VPWW59 波浪, VPWW60 大雪, VPWW61 その他の注意報. The kinds carry the
警戒レベル in their names (レベル２大雨注意報, レベル３大雨警報, レベル４大雨危険警報,
レベル５大雨特別警報); 暴風・波浪・大雪 and the other advisories have none. Only the
city's entries of Body/Warning type="気象警報・注意報（市町村等）" (the city's code
4310000, a ward's JMA code, or a code the city had before its wards) are read; other
municipalities of the same report are ignored.

The payload is a :class:`~bot.domain.WeatherWarning` with ``system = "r06"``,
``phenomenon_ja`` and per entry ``alert_level``; kind LANDSLIDE for 土砂災害 (the
successor of 土砂災害警戒情報), else WEATHER_WARNING. Statuses and levels as in
:mod:`bot.ingest.jma_mete`, with レベル４ 危険警報 as :attr:`WarningLevel.DANGER`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bot.domain import (
    Alert,
    Kind,
    MsgType,
    Severity,
    Urgency,
    WarningItem,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.ingest.jma_common import Head, head_fields, make_alert
from bot.ingest.jma_mete import CITY_WARNING_TYPE, NO_WARNINGS, warning_status
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import children, text

# Control/Title 気象警報・注意報（Ｒ０６）（大雨） -> phenomenon; JMA writes both （土砂）
# and （土砂災害）.
TITLE_PREFIX = "気象警報・注意報（Ｒ０６）"
PHENOMENA = ("大雨", "土砂災害", "土砂", "高潮", "暴風", "波浪", "大雪", "その他注意報")
_LEVEL_IN_NAME = re.compile(r"^レベル([２３４５2345])")
_DIGITS = str.maketrans("２３４５", "2345")
_SEVERITY = {WarningLevel.EMERGENCY: Severity.EXTREME, WarningLevel.DANGER: Severity.EXTREME,
             WarningLevel.WARNING: Severity.SEVERE, WarningLevel.ADVISORY: Severity.MINOR}
_URGENCY = {WarningLevel.EMERGENCY: Urgency.IMMEDIATE, WarningLevel.DANGER: Urgency.IMMEDIATE,
            WarningLevel.WARNING: Urgency.EXPECTED, WarningLevel.ADVISORY: Urgency.FUTURE}
_LEVEL_OF_ALERT_LEVEL = {5: WarningLevel.EMERGENCY, 4: WarningLevel.DANGER,
                         3: WarningLevel.WARNING, 2: WarningLevel.ADVISORY}


def phenomenon(control_title: str) -> str | None:
    """気象警報・注意報（Ｒ０６）（大雨） -> 大雨; None for another title."""
    t = control_title.strip()
    if not t.startswith(TITLE_PREFIX):
        return None
    rest = t[len(TITLE_PREFIX):].strip("（）")
    if rest == "土砂":
        return "土砂災害"
    return rest if rest in PHENOMENA else None


def alert_level(name: str) -> int | None:
    """レベル４大雨危険警報 -> 4; None when the name carries no level."""
    m = _LEVEL_IN_NAME.match(name.strip())
    return int(m.group(1).translate(_DIGITS)) if m else None


def r06_level(code: str, name: str) -> WarningLevel | None:
    """The kind's level: from the 警戒レベル in its name, else from its words."""
    level = alert_level(name)
    if level is not None:
        return _LEVEL_OF_ALERT_LEVEL[level]
    words = name or code
    if "特別警報" in words:
        return WarningLevel.EMERGENCY
    if "危険警報" in words:
        return WarningLevel.DANGER
    if "警報" in words:
        return WarningLevel.WARNING
    if "注意報" in words:
        return WarningLevel.ADVISORY
    return None


def _city_items(body: ET.Element | None, jur: Jurisdiction
                ) -> list[tuple[ET.Element, tuple[str, ...]]]:
    """The city's items and the wards each concerns (the city's code: every ward)."""
    city_codes = {jur.warning_area, *jur.legacy_city_codes}
    found = []
    for warning in children(body, "Warning"):
        if warning.get("type") != CITY_WARNING_TYPE:
            continue
        for item in children(warning, "Item"):
            code = text(item, "Area", "Code")
            if code in city_codes:
                found.append((item, jur.ward_codes))
            else:
                ward = jur.ward_by_jma(code)
                if ward is not None:
                    found.append((item, (ward.code,)))
    return found


def _entries(item: ET.Element) -> list[WarningItem]:
    entries = []
    for k in children(item, "Kind"):
        raw_status = text(k, "Status")
        name, code = text(k, "Name"), text(k, "Code")
        if raw_status in NO_WARNINGS or not (name or code) or code == "00":
            continue
        level = r06_level(code, name)
        if level is None:
            continue
        status, previous = warning_status(raw_status)
        # 発表 with a LastKind of another level: JMA raised (or lowered) the kind.
        last_code, last_name = text(k, "LastKind", "Code"), text(k, "LastKind", "Name")
        last = r06_level(last_code, last_name) if last_code not in ("", "00") else None
        if status is WarningStatus.ISSUED and last is not None and last is not level:
            status = (WarningStatus.UPGRADED if level.rank > last.rank
                      else WarningStatus.DOWNGRADED)
            previous = last
        entries.append(WarningItem(code=code, name_ja=name, level=level, status=status,
                                   status_ja=raw_status, previous_level=previous,
                                   alert_level=alert_level(name)))
    return entries


def parse_weather_r06(h: Head, jur: Jurisdiction) -> list[Alert]:
    what = phenomenon(h.control_title) or ""
    found = _city_items(h.body, jur)
    warnings: list[WarningItem] = []
    wards: set[str] = set()
    changes = []
    for item, item_wards in found:
        entries = [e for e in _entries(item) if e not in warnings]
        if entries:
            wards.update(item_wards)
        warnings.extend(entries)
        change = text(item, "ChangeStatus")
        if change:
            changes.append(change)
    first = found[0][0] if found else None
    payload = WeatherWarning(
        **head_fields(h),
        area_code=text(first, "Area", "Code") or jur.warning_area,
        area_name_ja=text(first, "Area", "Name") or jur.city_name_ja,
        warnings=tuple(warnings),
        changed=any("種別に変化有" in c for c in changes) or (bool(warnings) and not changes),
        change_status_ja=changes[0] if changes else None,
        system="r06",
        phenomenon_ja=what,
    )
    in_jur = bool(warnings) or (h.msg_type is MsgType.CANCEL)
    active = [w.level for w in warnings if w.status is not WarningStatus.LIFTED]
    top = max(active, key=lambda lvl: lvl.rank) if active else None
    body_ja = "\n".join(f"{w.name_ja}：{w.status_ja}" for w in warnings)
    kind = Kind.LANDSLIDE if what == "土砂災害" else Kind.WEATHER_WARNING
    ward_codes = jur.ordered(wards) if in_jur and wards else (jur.ward_codes if in_jur else ())
    return [make_alert(h, kind=kind, payload=payload,
                       body_ja=f"{payload.area_name_ja}\n{body_ja}" if body_ja else "",
                       severity=_SEVERITY[top] if top else Severity.MINOR,
                       urgency=_URGENCY[top] if top else Urgency.PAST,
                       wards=ward_codes,
                       areas=(payload.area_code,) if in_jur else (), in_jurisdiction=in_jur,
                       all_lifted=bool(warnings) and not active)]
