"""JMA VTSE52 沖合の津波観測に関する情報: tsunami observed offshore.

It matters to a resident only while the city's coasts are under a tsunami warning or
advisory, and the bot sends that warning only then: so the report is an *update*
that adds to the tsunami warning of the same EventID (``references`` =
``jma:津波警報・注意報・予報:{EventID}``), and policy's "follow" sends it exactly when
that warning went out. :class:`~bot.domain.OffshoreTsunami` ``SUPPLEMENTS`` the
warning, so the warning's pending sends are not stopped by it.

Estimates (Estimation/Item, code type 沿岸地域) are kept for every coast; stations
for every offshore gauge, in JMA's order.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from bot.domain import (
    Alert,
    CoastEstimate,
    Kind,
    MsgType,
    OffshoreStation,
    OffshoreTsunami,
    Severity,
    Urgency,
)
from bot.ingest.jma_common import Head, head_fields, make_alert, optional_time, read_comments
from bot.ingest.jma_seis import earthquake_fields
from bot.ingest.jma_tsunami import _height
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, text

WARNING_INFO_KIND = "津波警報・注意報・予報"


def warning_key(event_id: str) -> str:
    """The event key of the tsunami warning (VTSE41) of an earthquake."""
    return f"jma:{WARNING_INFO_KIND}:{event_id}"


def _station(st: ET.Element) -> OffshoreStation:
    metres, height_ja = _height(st)
    return OffshoreStation(
        code=text(st, "Code"), name_ja=text(st, "Name"), sensor_ja=text(st, "Sensor"),
        first_arrival=optional_time(text(st, "FirstHeight", "ArrivalTime")),
        initial_ja=text(st, "FirstHeight", "Initial") or None,
        max_height_m=metres, max_height_ja=height_ja,
        condition_ja=text(st, "MaxHeight", "Condition") or None)


def _estimate(item: ET.Element) -> CoastEstimate:
    metres, height_ja = _height(item)
    first = child(item, "FirstHeight")
    return CoastEstimate(
        code=text(item, "Area", "Code"), name_ja=text(item, "Area", "Name"),
        first_arrival=optional_time(text(first, "ArrivalTime")),
        arrival_condition_ja=text(first, "Condition") or None,
        height_m=metres, height_over=(height_ja or "").endswith("超"), height_ja=height_ja,
        condition_ja=text(item, "MaxHeight", "Condition") or None)


def parse_offshore(h: Head, jur: Jurisdiction) -> list[Alert]:
    body = h.body
    tsunami = child(body, "Tsunami")
    stations = [_station(st) for item in children(child(tsunami, "Observation"), "Item")
                for st in children(item, "Station")]
    estimates = [_estimate(item) for item in children(child(tsunami, "Estimation"), "Item")]
    comments, free_comment = read_comments(body)
    payload = OffshoreTsunami(**head_fields(h), **earthquake_fields(body),
                              stations=tuple(stations), estimates=tuple(estimates),
                              comments=comments, free_comment_ja=free_comment)
    local = [e.code for e in estimates if e.code in jur.tsunami_areas]
    lines = [f"{s.name_ja}：{s.max_height_ja or s.condition_ja or ''}" for s in stations]
    alert = make_alert(h, kind=Kind.TSUNAMI, payload=payload,
                       body_ja="\n".join(filter(None, [h.headline, *lines])),
                       severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE,
                       wards=jur.ward_codes, areas=tuple(local), in_jurisdiction=True)
    if alert.msg_type is MsgType.ALERT:
        alert = dataclasses.replace(alert, msg_type=MsgType.UPDATE,
                                    references=warning_key(h.event_id))
    return [alert]
