"""JMA tsunami reports: VTSE41 津波警報・注意報・予報 and VTSE51 津波情報.

Conventions are documented in :mod:`bot.ingest.jma`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from bot.domain import (
    Alert,
    Kind,
    MsgType,
    Severity,
    Tsunami,
    TsunamiArea,
    TsunamiKind,
    TsunamiObservation,
    TsunamiReport,
    Urgency,
)
from bot.ingest.jma_common import (
    Head,
    head_fields,
    make_alert,
    optional_time,
    read_comments,
    squash,
)
from bot.ingest.jma_seis import earthquake_fields
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, text

_MW, _W, _A, _F, _L, _N = (TsunamiKind.MAJOR_WARNING, TsunamiKind.WARNING, TsunamiKind.ADVISORY,
                           TsunamiKind.FORECAST, TsunamiKind.LIFTED, TsunamiKind.NONE)
# Category/Kind/Code (警報等情報要素／津波警報・注意報・予報) -> area kind.
TSUNAMI_KINDS = {
    "52": _MW,  # 大津波警報
    "53": _MW,  # 大津波警報：発表
    "51": _W,   # 津波警報
    "62": _A,   # 津波注意報
    "71": _F,   # 津波予報（若干の海面変動）
    "72": _L,   # 津波注意報解除、若干の海面変動への切替
    "73": _L,   # 大津波警報・津波警報解除、若干の海面変動への切替
    "50": _L,   # 警報解除
    "60": _L,   # 津波注意報解除
    "00": _N,   # 津波なし
}
_SEVERITY = {_MW: Severity.EXTREME, _W: Severity.SEVERE, _A: Severity.MODERATE}
_URGENCY = {_MW: Urgency.IMMEDIATE, _W: Urgency.IMMEDIATE, _A: Urgency.EXPECTED,
            _F: Urgency.FUTURE}


def _kind(category: ET.Element | None, which: str) -> tuple[TsunamiKind, str, str]:
    k = child(category, which)
    code = text(k, "Code")
    name = text(k, "Name")
    if code in TSUNAMI_KINDS:
        return TSUNAMI_KINDS[code], code, name
    if "大津波警報" in name:
        return _MW, code, name
    if "解除" in name:
        return _L, code, name
    if "津波警報" in name:
        return _W, code, name
    if "注意報" in name:
        return _A, code, name
    if "予報" in name:
        return _F, code, name
    return _N, code, name


def _height(item: ET.Element) -> tuple[float | None, str | None]:
    """(metres, JMA's description) of MaxHeight/TsunamiHeight; NaN (巨大, 高い) is None."""
    h = child(item, "MaxHeight", "TsunamiHeight")
    if h is None:
        return None, None
    try:
        metres = float((h.text or "").strip())
    except ValueError:
        metres = math.nan
    return (metres if math.isfinite(metres) else None), (h.get("description") or None)


def _area(item: ET.Element) -> TsunamiArea:
    category = child(item, "Category")
    kind, code, name = _kind(category, "Kind")
    last_kind, _, _ = _kind(category, "LastKind")
    first = child(item, "FirstHeight")
    metres, height_ja = _height(item)
    return TsunamiArea(
        code=text(item, "Area", "Code"),
        name_ja=text(item, "Area", "Name"),
        kind=kind,
        kind_code=code,
        kind_name_ja=name,
        last_kind=last_kind if child(category, "LastKind") is not None else None,
        first_arrival=optional_time(text(first, "ArrivalTime")),
        arrival_condition_ja=text(first, "Condition") or None,
        height_m=metres,
        height_over=(height_ja or "").endswith("超"),  # １０ｍ超: JMA writes 10
        height_ja=height_ja,
    )


def _observations(tsunami: ET.Element | None, local: set[str]) -> list[TsunamiObservation]:
    out = []
    for item in children(child(tsunami, "Observation"), "Item"):
        area_code = text(item, "Area", "Code")
        if area_code not in local:
            continue
        for st in children(item, "Station"):
            metres, height_ja = _height(st)
            out.append(TsunamiObservation(
                area_code=area_code,
                station_code=text(st, "Code"),
                station_name_ja=text(st, "Name"),
                first_arrival=optional_time(text(st, "FirstHeight", "ArrivalTime")),
                initial_ja=text(st, "FirstHeight", "Initial") or None,
                max_height_m=metres,
                max_height_ja=height_ja,
                condition_ja=text(st, "MaxHeight", "Condition") or None,
            ))
    return out


def highest(kinds: list[TsunamiKind]) -> TsunamiKind | None:
    return max(kinds, key=lambda k: k.rank) if kinds else None


def parse_tsunami(h: Head, report: TsunamiReport, jur: Jurisdiction) -> list[Alert]:
    body = h.body
    tsunami = child(body, "Tsunami")
    all_areas = [_area(item) for item in children(child(tsunami, "Forecast"), "Item")]
    local_codes = set(jur.tsunami_areas)
    order = {code: i for i, code in enumerate(jur.tsunami_areas)}
    local = sorted((a for a in all_areas if a.code in local_codes), key=lambda a: order[a.code])
    local_kind = highest([a.kind for a in local])
    top_kind = highest([a.kind for a in all_areas])
    others = [a for a in all_areas if a.code not in local_codes]
    elsewhere = highest([a.kind for a in others])
    comments, free_comment = read_comments(body)
    payload = Tsunami(
        **head_fields(h), report=report, **earthquake_fields(body),
        areas=tuple(local),
        all_areas_count=len(all_areas),
        local_kind=local_kind,
        highest_kind=top_kind,
        observations=tuple(_observations(tsunami, local_codes)),
        comment_ja=squash(text(body, "Comments", "WarningComment", "Text")),
        text_ja=squash(text(body, "Text")),
        elsewhere_kind=elsewhere,
        elsewhere_areas_ja=tuple(a.name_ja or a.code for a in others if a.kind is elsewhere),
        comments=comments,
        free_comment_ja=free_comment,
    )
    in_jur = any(a.kind is not _N for a in local)
    if h.msg_type is MsgType.CANCEL:
        in_jur = True  # a cancellation follows its original; the store decides
    local_kinds = {a.kind for a in local}  # all lifted (or a slight forecast): a lift
    basis = local_kind if local else top_kind
    severity = _SEVERITY.get(basis, Severity.MINOR) if basis else Severity.MINOR
    urgency = _URGENCY.get(basis, Urgency.PAST) if basis else Urgency.PAST
    return [make_alert(h, kind=Kind.TSUNAMI, payload=payload, body_ja=_summary(payload),
                       severity=severity, urgency=urgency,
                       wards=jur.ward_codes if in_jur else (),
                       areas=tuple(a.code for a in local), in_jurisdiction=in_jur,
                       all_lifted=_L in local_kinds and local_kinds <= {_L, _F, _N})]


def _summary(p: Tsunami) -> str:
    lines = []
    for a in p.areas:
        line = f"{a.name_ja}：{a.kind_name_ja or a.kind.value}"
        if a.height_ja:
            line += f"（予想される津波の高さ {a.height_ja}）"
        if a.first_arrival is not None:
            line += f" 第１波 {a.first_arrival:%H:%M}"
        elif a.arrival_condition_ja:
            line += f" {a.arrival_condition_ja}"
        lines.append(line)
    for o in p.observations:
        if o.max_height_ja:
            lines.append(f"{o.station_name_ja}：観測 {o.max_height_ja}")
    if not lines and p.text_ja:
        lines.append(p.text_ja)
    return "\n".join(lines)
