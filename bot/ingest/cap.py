"""OASIS CAP (1.2, 1.1 and 1.0, which share its structure) -> :class:`~bot.domain.Alert`.

A document is one CAP ``<alert>``, a collection of them (``<alerts>``, as SMHI
publishes), or an EDXL-DE 1.0/2.0 envelope (``<EDXLDistribution>``) whose
``contentObject/xmlContent/embeddedXMLContent`` carry them; an envelope whose
``distributionStatus`` is Exercise or Test makes every alert in it a test alert,
and System is refused. Namespaces accepted: :data:`CAP_NAMESPACES`. Each
``<alert>`` becomes one Alert:

* ``source`` = ``"cap"``, ``source_id`` = ``f"{sender}:{identifier}"``, the
  payload (:class:`~bot.domain.Cap`) has ``event_key`` = ``f"cap:{sender}:{identifier}"``.
* ``msgType`` Alert/Update/Cancel -> ``MsgType`` alert/update/cancel, except a Cancel
  whose headline or description says the hazard ended, which is a lift
  (:func:`bot.ingest.lifting.cap_msg_type`). ``references`` = the key
  ``cap:{sender}:{identifier}`` of the *first* entry of ``<references>``
  (``sender,identifier,sent`` triplets; CAP 1.0's bare identifiers are the alert's
  own sender's); every referenced key is in ``payload.references_all``.
  An Update/Cancel without references, and Ack/Error messages, are refused.
* ``status``: Actual -> ``test=False``; Exercise and Test -> ``test=True``;
  System and Draft are refused with :class:`IngestError` (they are never for
  the public, so they never become an Alert that could be broadcast).
* Every ``<info>`` is kept: ``texts[lang]`` = headline, description and
  instruction (blank-line separated) keyed by the normalised language tag
  (``en-CA`` -> ``en``, ``ja-JP`` -> ``ja``; ``zh`` keeps its script/region,
  e.g. ``zh-TW``; a missing ``<language>`` is CAP's default ``en-US`` -> ``en``).
  The first Japanese info fills ``headline_ja``/``body_ja``; with no Japanese
  info they are empty. The renderer (``bot/render/kinds/cap.py``) reads the infos.
* ``issued`` = ``sent``; ``expires`` = the latest ``<expires>`` of the infos;
  ``severity``/``urgency`` = the highest of the infos.
* ``kind`` from the city's CAP kinds table (``[data] cap_kinds``,
  :class:`~bot.ingest.cap_kinds.CapKinds`): event words, response types, categories.
* Areas: ``<geocode>`` values (only value names listed in
  ``[jurisdiction] cap_geocode_names``), ``<polygon>`` and ``<circle>`` are matched
  against the wards' boundaries (see :class:`~bot.ingest.jurisdiction.Jurisdiction`).
  ``wards`` = wards touched, ``in_jurisdiction`` = any ward touched,
  ``areas`` = the ``<areaDesc>`` texts.

The payload keeps the document: ``identifier``, ``sender``, ``sent``, ``status``,
``scope``, ``note``, ``references_all`` and one :class:`~bot.domain.CapInfo` per
``<info>`` (language, categories, event, response types, urgency, severity,
certainty, headline, description, instruction, sender name, web, contact, expires,
and its areas with their polygons, circles and geocodes). CAP words are matched
without regard to case; a category, response type or certainty outside CAP's lists
is left out, an unknown urgency or severity reads as Unknown, an unknown scope is
refused.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import TypeVar

from bot.domain import (
    Alert,
    Cap,
    CapArea,
    CapCategory,
    CapCertainty,
    CapCircle,
    CapGeocode,
    CapInfo,
    CapResponse,
    CapScope,
    CapSeverity,
    CapStatus,
    CapUrgency,
    MsgType,
    Severity,
    Urgency,
)
from bot.errors import IngestError, ValidationError
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.lifting import cap_msg_type
from bot.ingest.xmlsafe import child, children, descendants, local, namespace, parse_xml, text

SOURCE = "cap"
CAP_NAMESPACES = frozenset({
    "urn:oasis:names:tc:emergency:cap:1.2",
    "urn:oasis:names:tc:emergency:cap:1.1",
    "urn:oasis:names:tc:emergency:cap:1.0",
    "http://www.incident.com/cap/1.0",  # the namespace the CAP 1.0 standard names
})
EDXL_NAMESPACE_PREFIX = "urn:oasis:names:tc:emergency:EDXL:DE:"
EDXL_TEST_STATUS = {"Actual": False, "Exercise": True, "Test": True}
REQUIRED = ("identifier", "sender", "sent", "status", "msgType", "scope")
MSG_TYPES = {"Alert": MsgType.ALERT, "Update": MsgType.UPDATE, "Cancel": MsgType.CANCEL}
TEST_STATUS = {"Actual": False, "Exercise": True, "Test": True}

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
E = TypeVar("E", bound=enum.Enum)


def _word(vocabulary: type[E], value: str) -> E | None:
    """The member of a CAP vocabulary ``value`` names, whatever its case."""
    wanted = " ".join(value.split()).casefold()
    return next((m for m in vocabulary if str(m.value).casefold() == wanted), None)


def _time(value: str, what: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise IngestError(f"<{what}> is not a CAP date-time: {value!r}", source=SOURCE) from None
    if dt.tzinfo is None:
        raise IngestError(f"<{what}> has no time-zone offset: {value!r}", source=SOURCE)
    try:
        dt.astimezone(UTC)  # storable: in the calendar in UTC too
    except OverflowError:
        raise IngestError(f"<{what}> is outside the calendar: {value!r}",
                          source=SOURCE) from None
    return dt


def language_tag(value: str) -> str:
    parts = value.strip().replace("_", "-").split("-") if value.strip() else ["en"]
    primary = parts[0].lower()
    if primary == "zh" and len(parts) > 1:
        return f"zh-{parts[1] if len(parts[1]) == 4 else parts[1].upper()}"
    return primary


def _points(value: str) -> list[tuple[float, float]]:
    """'lat,lon lat,lon ...' tolerating stray commas and signs (seen in NOAA feeds)."""
    nums = [float(n) for n in _NUMBER.findall(value)]
    pts = [(nums[i], nums[i + 1]) for i in range(0, len(nums) - 1, 2)]
    return [(la, lo) for la, lo in pts if -90 <= la <= 90 and -180 <= lo <= 180]


def _area(area: ET.Element) -> CapArea:
    polygons = []
    for poly in children(area, "polygon"):
        pts = _points(poly.text or "")
        if len(pts) >= 3:
            polygons.append(tuple(pts))
    circles = []
    for circle in children(area, "circle"):
        nums = [float(n) for n in _NUMBER.findall(circle.text or "")]
        if len(nums) == 3 and -90 <= nums[0] <= 90 and -180 <= nums[1] <= 180:
            circles.append(CapCircle(lat=nums[0], lon=nums[1], radius_km=max(nums[2], 0.0)))
    geocodes = [CapGeocode(value_name=text(gc, "valueName"), value=text(gc, "value"))
                for gc in children(area, "geocode")]
    return CapArea(description=text(area, "areaDesc"), polygons=tuple(polygons),
                   circles=tuple(circles), geocodes=tuple(geocodes))


def _area_wards(area: CapArea, jur: Jurisdiction) -> set[str]:
    wards: set[str] = set()
    for gc in area.geocodes:
        wards.update(jur.wards_for_geocode(gc.value_name, gc.value))
    for poly in area.polygons:
        wards.update(jur.wards_for_polygon(list(poly)))
    for c in area.circles:
        wards.update(jur.wards_for_circle(c.lat, c.lon, c.radius_km))
    return wards


def _info(info: ET.Element) -> CapInfo:
    expires = text(info, "expires")
    certainty = text(info, "certainty")
    return CapInfo(
        language=language_tag(text(info, "language")),
        categories=tuple(c for c in (_word(CapCategory, text(el))
                                     for el in children(info, "category")) if c),
        event=text(info, "event"),
        response_types=tuple(r for r in (_word(CapResponse, text(el))
                                         for el in children(info, "responseType")) if r),
        urgency=_word(CapUrgency, text(info, "urgency")) or CapUrgency.UNKNOWN,
        severity=_word(CapSeverity, text(info, "severity")) or CapSeverity.UNKNOWN,
        certainty=CapCertainty.LIKELY if certainty.casefold() == "very likely"
        else _word(CapCertainty, certainty),
        headline=text(info, "headline"),
        description=text(info, "description"),
        instruction=text(info, "instruction"),
        sender_name=text(info, "senderName") or None,
        web=text(info, "web") or None,
        contact=text(info, "contact") or None,
        expires=_time(expires, "expires") if expires else None,
        areas=tuple(_area(a) for a in children(info, "area")),
    )


def _references(value: str, sender: str) -> list[str]:
    keys = []
    for entry in value.split():
        parts = entry.split(",")
        if len(parts) >= 2 and parts[0] and parts[1]:
            keys.append(f"cap:{parts[0]}:{parts[1]}")
        elif len(parts) == 1:  # CAP 1.0: the identifier of the same sender's alert
            keys.append(f"cap:{sender}:{parts[0]}")
    return keys


def is_cap_alert(el: ET.Element) -> bool:
    return local(el.tag) == "alert" and namespace(el) in CAP_NAMESPACES


def is_cap_document(root: ET.Element) -> bool:
    """A CAP alert, an ``<alerts>`` collection or an EDXL-DE envelope."""
    return is_cap_alert(root) or local(root.tag) == "alerts" or (
        local(root.tag) == "EDXLDistribution"
        and namespace(root).startswith(EDXL_NAMESPACE_PREFIX))


def parse_cap(data: bytes, jurisdiction: Jurisdiction) -> list[Alert]:
    """Parse a CAP document (bytes): one alert, an ``<alerts>`` collection or an
    EDXL-DE envelope, into its alerts in document order."""
    return parse_cap_root(parse_xml(data, source=SOURCE), jurisdiction)


def parse_cap_root(root: ET.Element, jur: Jurisdiction) -> list[Alert]:
    name = local(root.tag)
    if name == "EDXLDistribution" and namespace(root).startswith(EDXL_NAMESPACE_PREFIX):
        return _edxl(root, jur)
    if name == "alerts":
        found = [el for el in root if is_cap_alert(el)]
        if not found:
            raise IngestError("<alerts> holds no CAP alert", source=SOURCE)
        return [alert_from_element(el, jur) for el in found]
    return [alert_from_element(root, jur)]


def _edxl(root: ET.Element, jur: Jurisdiction) -> list[Alert]:
    """The CAP alerts of an EDXL-DE distribution, marked test when it is an exercise."""
    status_el = child(root, "distributionStatus")
    status = text(status_el, "value") or text(status_el)  # DE 2.0 may wrap a <value>
    if status and status not in EDXL_TEST_STATUS:
        raise IngestError(f"EDXL-DE distributionStatus {status!r} is not for the public "
                          "(only Actual, Exercise and Test are accepted)", source=SOURCE)
    found = [el for obj in children(root, "contentObject")
             for content in descendants(obj, "embeddedXMLContent")
             for el in content if is_cap_alert(el)]
    if not found:
        raise IngestError("EDXL-DE distribution carries no CAP alert in "
                          "contentObject/xmlContent/embeddedXMLContent", source=SOURCE)
    alerts = [alert_from_element(el, jur) for el in found]
    if EDXL_TEST_STATUS.get(status, False):
        alerts = [dataclasses.replace(a, test=True) for a in alerts]
    return alerts


def alert_from_element(root: ET.Element, jur: Jurisdiction) -> Alert:
    if not is_cap_alert(root):
        known = ", ".join(sorted(CAP_NAMESPACES))
        raise IngestError(f"not a CAP alert: element is {root.tag!r} (CAP namespaces: "
                          f"{known})", source=SOURCE)
    fields = {name: text(root, name) for name in REQUIRED}
    for name in REQUIRED:
        if not fields[name]:
            raise IngestError(f"CAP alert is missing required <{name}>", source=SOURCE)
    status, msg_type_s = fields["status"], fields["msgType"]
    if status not in TEST_STATUS:
        raise IngestError(f"CAP status {status!r} is not for the public (only Actual, "
                          "Exercise and Test are accepted)", source=SOURCE)
    if msg_type_s not in MSG_TYPES:
        raise IngestError(f"CAP msgType {msg_type_s!r} is not an alert, update or cancel",
                          source=SOURCE)
    msg_type = MSG_TYPES[msg_type_s]
    refs = _references(text(root, "references"), fields["sender"])
    if msg_type is not MsgType.ALERT and not refs:
        raise IngestError(f"CAP {msg_type_s} has no usable <references>", source=SOURCE)
    sent = _time(fields["sent"], "sent")
    scope = _word(CapScope, fields["scope"])
    if scope is None:
        raise IngestError(f"CAP scope {fields['scope']!r} is not Public, Restricted or Private",
                          source=SOURCE)
    try:
        infos = [_info(info) for info in children(root, "info")]
    except ValidationError as exc:
        raise IngestError(f"unreadable <info>: {exc}", source=SOURCE) from None
    # A Cancel whose response is AllClear, or whose headline or description says the
    # hazard ended, is a lift: the alert was right and is over.
    all_clear = bool(infos) and all(CapResponse.ALL_CLEAR in i.response_types for i in infos)
    msg_type = (MsgType.LIFT if msg_type is MsgType.CANCEL and all_clear else
                cap_msg_type(msg_type, [t for i in infos for t in (i.headline, i.description)]))

    texts: dict[str, str] = {}
    headline_ja = body_ja = ""
    wards: set[str] = set()
    area_descs: list[str] = []
    for info in infos:
        body = "\n\n".join(t for t in (info.description, info.instruction) if t)
        if info.language not in texts and (info.headline or body):
            texts[info.language] = "\n\n".join(t for t in (info.headline, body) if t)
        if info.language == "ja" and not (headline_ja or body_ja):
            headline_ja, body_ja = info.headline, body
        for area in info.areas:
            if area.description and area.description not in area_descs:
                area_descs.append(area.description)
            wards.update(_area_wards(area, jur))
    expiries = [i.expires for i in infos if i.expires is not None]
    expires = max(expiries) if expiries else None
    identifier, sender = fields["identifier"], fields["sender"]
    try:
        payload = Cap(event_key=f"cap:{sender}:{identifier}", identifier=identifier,
                      sender=sender, sent=sent, status=CapStatus(status), scope=scope,
                      note=text(root, "note") or None, references_all=tuple(refs),
                      infos=tuple(infos))
        return Alert(
            source=SOURCE,
            source_id=f"{sender}:{identifier}",
            kind=jur.cap_kinds.kind(infos),
            msg_type=msg_type,
            references=refs[0] if msg_type is not MsgType.ALERT else None,
            severity=max((Severity.parse(i.severity.value) for i in infos),
                         default=Severity.UNKNOWN),
            urgency=max((Urgency.parse(i.urgency.value) for i in infos),
                        default=Urgency.UNKNOWN),
            wards=jur.ordered(wards),
            areas=tuple(area_descs),
            headline_ja=headline_ja,
            body_ja=body_ja,
            texts=texts,
            payload=payload,
            issued=sent,
            expires=expires if expires is None or expires >= sent else None,
            test=TEST_STATUS[status],
            in_jurisdiction=bool(wards),
        )
    except ValidationError as exc:
        raise IngestError(f"cannot build an alert: {exc}", source=SOURCE) from None


def parse_cap_index(data: bytes) -> list[str]:
    """Links to CAP documents from an Atom or RSS index (in document order).

    Atom: each entry's ``<link>`` (preferring ``type`` application/cap+xml, then
    rel="alternate" or no rel), else an ``<id>`` that is an http(s) URL. RSS: each
    item's ``<link>``, else its ``<guid>`` when it is a URL.
    """
    root = parse_xml(data, source="cap-index")
    name = local(root.tag)
    if name == "feed":
        entries = children(root, "entry")
    elif name == "rss":
        entries = children(child(root, "channel"), "item")
    elif name == "RDF":
        entries = children(root, "item")
    else:
        raise IngestError(f"not an Atom or RSS index: root element is {root.tag!r}",
                          source="cap-index")
    links: list[str] = []
    for entry in entries:
        link = _entry_link(entry)
        if link and link not in links:
            links.append(link)
    return links


def _entry_link(entry: ET.Element) -> str:
    candidates = children(entry, "link")
    for want in ("application/cap+xml", None):
        for link in candidates:
            href = (link.get("href") or link.text or "").strip()
            rel = link.get("rel", "alternate")
            if href and rel == "alternate" and (want is None or link.get("type") == want):
                return href
    for tag in ("id", "guid"):
        value = text(entry, tag)
        if value.startswith(("http://", "https://")):
            return value
    return ""
