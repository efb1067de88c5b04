"""JMA earthquake early warnings: VXSE43 緊急地震速報（警報）, VXSE44 緊急地震速報（予報）,
VXSE45 緊急地震速報（地震動予報）.

Conventions are documented in :mod:`bot.ingest.jma`; what is particular to these:

* ``kind`` is EEW; the payload is :class:`~bot.domain.EarlyWarning` (``forecast``
  False for the warning, True for the two forecasts).
* In jurisdiction: a warning when one of the jurisdiction's 細分区域 (``[jurisdiction]
  seismic_areas``, 熊本県熊本 741) is among the warning's areas in
  Head/Headline/Information type 緊急地震速報（細分区域）; a forecast when such an area
  has a forecast in Body/Intensity/Forecast. ``newly_warned``: the item that lists
  the area says LastKind なし (00), i.e. the area was not in the previous report's
  warning.
* ``event_key`` is ``jma:{Head/Title}:{EventID}`` and the Head/Title stands for
  InfoKind in ``source_id`` (the warning and the forecasts share InfoKind): a 取消
  of the warning refers to the warning only.
* ``expires`` is ten minutes after the report: by then the shaking has passed, and
  a warning not yet delivered must not go out as news.
* A warning for the city is EXTREME and IMMEDIATE; a forecast for the city
  MODERATE and IMMEDIATE; a report without the city MINOR.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET

from bot.domain import Alert, EarlyWarning, EewArea, Intensity, Kind, Severity, Urgency
from bot.errors import IngestError, ValidationError
from bot.ingest.jma_common import SOURCE, Head, head_fields, make_alert, optional_time
from bot.ingest.jma_seis import earthquake_fields
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, text

WARNING_TITLE = "緊急地震速報（警報）"
FORECAST_TITLES = ("緊急地震速報（予報）", "緊急地震速報（地震動予報）")
LIFETIME = dt.timedelta(minutes=10)
_NEW = "00"  # LastKind なし: the area was not warned in the previous report


def _intensity(value: str, what: str) -> tuple[Intensity | None, bool]:
    """(class, 「以上」) of a ForecastInt From/To: "5-", "over" (以上), "不明"."""
    v = value.strip()
    if not v or v == "不明":
        return None, False
    if v == "over":
        return None, True
    try:
        return Intensity.parse(v), False
    except ValidationError as exc:
        raise IngestError(f"{what}: {exc}", source=SOURCE) from None


def _forecast_range(el: ET.Element | None, what: str
                    ) -> tuple[Intensity | None, Intensity | None, bool]:
    low, _ = _intensity(text(el, "From"), f"{what}/From")
    high, over = _intensity(text(el, "To"), f"{what}/To")
    return low, high, over


def _warned(head: ET.Element, jur: Jurisdiction) -> tuple[list[str], bool, list[str]]:
    """(the jurisdiction's areas in the warning, one of them is new, 地方予報区 names)."""
    warned: list[str] = []
    newly = False
    regions: list[str] = []
    for info in children(child(head, "Headline"), "Information"):
        kind = info.get("type", "")
        for item in children(info, "Item"):
            areas = children(child(item, "Areas"), "Area")
            if kind == "緊急地震速報（地方予報区）":
                regions.extend(text(a, "Name") for a in areas if text(a, "Name"))
            if kind != "緊急地震速報（細分区域）":
                continue
            for area in areas:
                code = text(area, "Code")
                if code in jur.seismic_areas and code not in warned:
                    warned.append(code)
                    if text(item, "LastKind", "Code") == _NEW:
                        newly = True
    return warned, newly, regions


def _areas(body: ET.Element | None, jur: Jurisdiction) -> list[EewArea]:
    out = []
    forecast = child(body, "Intensity", "Forecast")
    for pref in children(forecast, "Pref"):
        for area in children(pref, "Area"):
            code = text(area, "Code")
            if code not in jur.seismic_areas:
                continue
            low, high, over = _forecast_range(child(area, "ForecastInt"),
                                              f"Forecast area {code} ForecastInt")
            kind_code = text(area, "Category", "Kind", "Code")
            out.append(EewArea(code=code, name_ja=text(area, "Name"), intensity_from=low,
                               intensity_to=high, to_over=over,
                               arrival=optional_time(text(area, "ArrivalTime")),
                               condition_ja=text(area, "Condition"),
                               warning=kind_code.startswith("1")))
    return out


def _range_ja(low: Intensity | None, high: Intensity | None, over: bool) -> str:
    if low is None:
        return "不明"
    if over:
        return f"{low.ja}程度以上"
    if high is None or high == low:
        return f"{low.ja}程度"
    return f"{low.ja}から{high.ja.removeprefix('震度')}程度"


def parse_eew(h: Head, jur: Jurisdiction) -> list[Alert]:
    forecast = h.title != WARNING_TITLE
    info_kind = h.info_kind
    # The warning and the forecasts share InfoKind 緊急地震速報: the title names the series.
    h = dataclasses.replace(h, info_kind=h.title or h.info_kind)
    body = h.body
    quake = earthquake_fields(body)
    warned, newly, regions = ([], False, []) if forecast else _warned(h.head, jur)
    areas = _areas(body, jur)
    overall = child(body, "Intensity", "Forecast", "ForecastInt")
    max_from, max_to, max_over = _forecast_range(overall, "Forecast/ForecastInt")
    serial = h.serial if h.serial.isdigit() else ""
    payload = EarlyWarning(
        **head_fields(h) | {"jma_info_kind": info_kind},
        forecast=forecast, serial=int(serial) if serial else None,
        final="最終報" in text(body, "NextAdvisory"),
        max_from=max_from, max_to=max_to, max_to_over=max_over,
        warned_areas=tuple(warned), newly_warned=newly, areas=tuple(areas),
        regions_ja=tuple(dict.fromkeys(regions)), **quake)
    local = bool(areas) if forecast else bool(warned)
    if h.msg_type.value == "cancel":
        local = True  # a 取消 names no area: policy lets the store follow the original
    severity = Severity.MINOR
    if local:
        severity = Severity.MODERATE if forecast else Severity.EXTREME
    lines = [h.headline or h.title]
    for a in areas:
        lines.append(f"{a.name_ja}：{_range_ja(a.intensity_from, a.intensity_to, a.to_over)}")
    if body is not None and not lines[1:] and text(body, "Text"):
        lines.append(text(body, "Text"))
    return [make_alert(h, kind=Kind.EEW, payload=payload, body_ja="\n".join(lines),
                       severity=severity, urgency=Urgency.IMMEDIATE if local else Urgency.PAST,
                       wards=jur.ward_codes if local else (),
                       areas=tuple(warned or (a.code for a in areas)),
                       in_jurisdiction=local, expires=h.report_time + LIFETIME)]
