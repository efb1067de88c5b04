"""JMA volcano reports: VFVO50 噴火警報・予報 and VFVO56 噴火速報.

Conventions are documented in :mod:`bot.ingest.jma`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bot.domain import Alert, Kind, MsgType, Severity, Urgency, Volcano, VolcanoStatus
from bot.ingest.jma_common import Head, head_fields, make_alert, optional_time, squash
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, descendants, text

VOLCANO_TYPE = "噴火警報・予報（対象火山）"
MUNICIPALITY_TYPE = "噴火警報・予報（対象市町村等）"
FLASH_TYPE = "噴火速報"
CONDITION_STATUS = {"引上げ": VolcanoStatus.RAISED, "引下げ": VolcanoStatus.LOWERED,
                    "継続": VolcanoStatus.CONTINUED, "発表": VolcanoStatus.ISSUED,
                    "解除": VolcanoStatus.LIFTED}
_TITLE_NAME = re.compile(r"火山名[\s\u3000]+(\S+)")


def _info(body: ET.Element | None, kind: str) -> ET.Element | None:
    return next((i for i in children(body, "VolcanoInfo") if i.get("type") == kind), None)


def _level(code: str) -> int | None:
    if len(code) == 2 and code[0] == "1" and code[1] in "12345":
        return int(code[1])
    return None


def _severity(level: int | None, warning_code: str, status: VolcanoStatus, flash: bool
              ) -> Severity:
    if status is VolcanoStatus.LIFTED:
        return Severity.MINOR
    if level is not None:
        return {5: Severity.EXTREME, 4: Severity.EXTREME, 3: Severity.SEVERE,
                2: Severity.MODERATE}.get(level, Severity.MINOR)
    if flash or warning_code == "01":
        return Severity.SEVERE
    return Severity.MODERATE if warning_code == "02" else Severity.MINOR


def parse_volcano(h: Head, jur: Jurisdiction, *, flash: bool) -> list[Alert]:
    body = h.body
    main = _info(body, FLASH_TYPE if flash else VOLCANO_TYPE)
    item = child(main, "Item")
    volcano = child(item, "Areas", "Area")
    kind_el = child(item, "Kind")
    level = None if flash else _level(text(kind_el, "Code"))
    condition = text(kind_el, "Condition")
    muni_info = _info(body, MUNICIPALITY_TYPE if not flash else "噴火速報（対象市町村等）")
    muni_kind = child(child(muni_info, "Item"), "Kind")
    if flash:
        warning_code, warning_name = text(kind_el, "Code"), text(kind_el, "Name")
    else:
        warning_code, warning_name = text(muni_kind, "Code"), text(muni_kind, "Name")
    status = CONDITION_STATUS.get(condition) or CONDITION_STATUS.get(
        text(muni_kind, "Condition"), VolcanoStatus.ISSUED)
    if "解除" in warning_name:
        status = VolcanoStatus.LIFTED
    volcano_code = text(volcano, "Code")
    volcano_name = text(volcano, "Name")
    if not volcano_code and h.msg_type is MsgType.CANCEL:
        # Cancellations carry no body; 噴火速報 EventIDs end in _<volcano code>,
        # 噴火警報 EventIDs are the volcano code itself, and the head title names it.
        volcano_code = h.event_id.rsplit("_", 1)[-1] if h.event_id else ""
        m = _TITLE_NAME.search(h.title)
        volcano_name = m.group(1) if m else ""
    municipalities = [text(a, "Code") for a in descendants(muni_info, "Area")]
    payload = Volcano(
        **head_fields(h),
        volcano_code=volcano_code or None,
        volcano_name_ja=volcano_name or None,
        level=level,
        level_name_ja=None if flash else (text(kind_el, "Name") or None),
        previous_level=None if flash else _level(text(item, "LastKind", "Code")),
        warning_code=warning_code or None,
        warning_name_ja=warning_name or None,
        flash=flash,
        status=status,
        event_time=optional_time(text(item, "EventTime", "EventDateTime")),
        municipality_codes=tuple(municipalities),
        text_ja=squash(text(child(body, "VolcanoInfoContent"), "VolcanoActivity")
                       or text(body, "Text")),
    )
    local_muni = [c for c in municipalities if jur.is_city_code(c)]
    in_jur = volcano_code in jur.volcano_codes or bool(local_muni) or (
        h.msg_type is MsgType.CANCEL)
    severity = _severity(level, warning_code, status, flash)
    urgency = (Urgency.IMMEDIATE if flash or (level or 0) >= 4 else
               Urgency.EXPECTED if (level or 0) == 3 else
               Urgency.PAST if status is VolcanoStatus.LIFTED else Urgency.FUTURE)
    return [make_alert(h, kind=Kind.VOLCANO, payload=payload, body_ja=_summary(payload),
                       severity=severity, urgency=urgency,
                       wards=jur.ward_codes if in_jur else (),
                       areas=tuple(c for c in (volcano_code, *local_muni) if c),
                       in_jurisdiction=in_jur, all_lifted=status is VolcanoStatus.LIFTED)]


def _summary(p: Volcano) -> str:
    parts = []
    if p.volcano_name_ja:
        parts.append(f"{p.volcano_name_ja}：")
    if p.flash:
        parts.append("噴火速報")
    if p.warning_name_ja and not p.flash:
        parts.append(p.warning_name_ja)
    if p.level_name_ja:
        parts.append(f"（噴火警戒{p.level_name_ja}）")
    if p.text_ja:
        parts.append("\n" + p.text_ja)
    return "".join(parts)
