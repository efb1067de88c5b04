"""OASIS CAP (1.2, and 1.1/1.0 which share its structure) -> :class:`~bot.domain.Alert`.

One CAP ``<alert>`` becomes one Alert:

* ``source`` = ``"cap"``, ``source_id`` = ``f"{sender}:{identifier}"``,
  ``params["event_key"]`` = ``f"cap:{sender}:{identifier}"``.
* ``msgType`` Alert/Update/Cancel -> ``MsgType`` alert/update/cancel. ``references``
  = the key ``cap:{sender}:{identifier}`` of the *first* triplet of
  ``<references>``; every referenced key is in ``params["references_all"]``.
  An Update/Cancel without references, and Ack/Error messages, are refused.
* ``status``: Actual -> ``test=False``; Exercise and Test -> ``test=True``;
  System and Draft are refused with :class:`IngestError` (they are never for
  the public, so they never become an Alert that could be broadcast).
* Every ``<info>`` is kept: ``texts[lang]`` = headline, description and
  instruction (blank-line separated) keyed by the normalised language tag
  (``en-CA`` -> ``en``, ``ja-JP`` -> ``ja``; ``zh`` keeps its script/region,
  e.g. ``zh-TW``; a missing ``<language>`` is CAP's default ``en-US`` -> ``en``).
  The first Japanese info fills ``headline_ja``/``body_ja``; with no Japanese
  info they are empty and the renderer uses ``texts``.
* ``issued`` = ``sent``; ``expires`` = the latest ``<expires>`` of the infos;
  ``severity``/``urgency`` = the highest of the infos; ``params["certainty"]``.
* ``kind`` from the first info's ``<event>`` words (earthquake, tsunami, volcano,
  landslide, flood/rain/storm..., evacuation, shelter) then ``<category>``
  (Geo -> earthquake only when the event says so; Met -> weather_warning;
  Infra -> lifeline; else other).
* Areas: ``<geocode>`` values (only value names listed in
  ``[jurisdiction] cap_geocode_names``), ``<polygon>`` and ``<circle>`` are matched
  against the wards (see :class:`~bot.ingest.jurisdiction.Jurisdiction`).
  ``wards`` = wards concerned, ``in_jurisdiction`` = any ward concerned,
  ``areas`` = the ``<areaDesc>`` texts.

params: ``event_key``, ``identifier``, ``sender``, ``sent``, ``scope``, ``status``,
``event`` (first info), ``categories``, ``certainty``, ``languages``,
``references_all``, ``sender_name``, ``web``, ``note``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from bot.domain import Alert, Kind, MsgType, Severity, Urgency
from bot.errors import IngestError, ValidationError
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, local, namespace, parse_xml, text

SOURCE = "cap"
CAP_NAMESPACE_PREFIX = "urn:oasis:names:tc:emergency:cap:"
REQUIRED = ("identifier", "sender", "sent", "status", "msgType", "scope")
MSG_TYPES = {"Alert": MsgType.ALERT, "Update": MsgType.UPDATE, "Cancel": MsgType.CANCEL}
TEST_STATUS = {"Actual": False, "Exercise": True, "Test": True}

_EVENT_WORDS: tuple[tuple[tuple[str, ...], Kind], ...] = (
    (("tsunami", "津波"), Kind.TSUNAMI),
    (("earthquake", "seism", "地震", "quake"), Kind.EARTHQUAKE),
    (("volcan", "eruption", "噴火", "ashfall"), Kind.VOLCANO),
    (("landslide", "mudslide", "debris flow", "土砂"), Kind.LANDSLIDE),
    (("evacuat", "避難指示", "避難"), Kind.EVACUATION),
    (("shelter", "避難所"), Kind.SHELTER),
    (("heavy rain", "大雨", "記録的短時間"), Kind.HEAVY_RAIN),
)
_CATEGORY_KIND = {"met": Kind.WEATHER_WARNING, "infra": Kind.LIFELINE}
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _time(value: str, what: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise IngestError(f"<{what}> is not a CAP date-time: {value!r}", source=SOURCE) from None
    if dt.tzinfo is None:
        raise IngestError(f"<{what}> has no time-zone offset: {value!r}", source=SOURCE)
    return dt


def language_tag(value: str) -> str:
    parts = value.strip().replace("_", "-").split("-") if value.strip() else ["en"]
    primary = parts[0].lower()
    if primary == "zh" and len(parts) > 1:
        return f"zh-{parts[1] if len(parts[1]) == 4 else parts[1].upper()}"
    return primary


def _kind(events: list[str], categories: list[str]) -> Kind:
    words = " ".join(events).casefold()
    for needles, kind in _EVENT_WORDS:
        if any(n in words for n in needles):
            return kind
    for cat in categories:
        if cat.casefold() in _CATEGORY_KIND:
            return _CATEGORY_KIND[cat.casefold()]
    return Kind.OTHER


def _points(value: str) -> list[tuple[float, float]]:
    """'lat,lon lat,lon ...' tolerating stray commas and signs (seen in NOAA feeds)."""
    nums = [float(n) for n in _NUMBER.findall(value)]
    pts = [(nums[i], nums[i + 1]) for i in range(0, len(nums) - 1, 2)]
    return [(la, lo) for la, lo in pts if -90 <= la <= 90 and -180 <= lo <= 180]


def _area_wards(area: ET.Element, jur: Jurisdiction) -> set[str]:
    wards: set[str] = set()
    for gc in children(area, "geocode"):
        wards.update(jur.wards_for_geocode(text(gc, "valueName"), text(gc, "value")))
    for poly in children(area, "polygon"):
        pts = _points(poly.text or "")
        if len(pts) >= 3:
            wards.update(jur.wards_for_polygon(pts))
    for circle in children(area, "circle"):
        nums = [float(n) for n in _NUMBER.findall(circle.text or "")]
        if len(nums) == 3 and -90 <= nums[0] <= 90 and -180 <= nums[1] <= 180:
            wards.update(jur.wards_for_circle(nums[0], nums[1], max(nums[2], 0.0)))
    return wards


def _references(value: str) -> list[str]:
    keys = []
    for triplet in value.split():
        parts = triplet.split(",")
        if len(parts) >= 2 and parts[0] and parts[1]:
            keys.append(f"cap:{parts[0]}:{parts[1]}")
    return keys


def parse_cap(data: bytes, jurisdiction: Jurisdiction) -> list[Alert]:
    """Parse one CAP document (bytes) into a one-element list."""
    return [alert_from_element(parse_xml(data, source=SOURCE), jurisdiction)]


def alert_from_element(root: ET.Element, jur: Jurisdiction) -> Alert:
    if local(root.tag) != "alert" or not namespace(root).startswith(CAP_NAMESPACE_PREFIX):
        raise IngestError(f"not a CAP alert: root element is {root.tag!r}", source=SOURCE)
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
    refs = _references(text(root, "references"))
    if msg_type is not MsgType.ALERT and not refs:
        raise IngestError(f"CAP {msg_type_s} has no usable <references>", source=SOURCE)
    sent = _time(fields["sent"], "sent")

    texts: dict[str, str] = {}
    headline_ja = body_ja = ""
    severity, urgency = Severity.UNKNOWN, Urgency.UNKNOWN
    expires: datetime | None = None
    events: list[str] = []
    categories: list[str] = []
    certainty = ""
    wards: set[str] = set()
    area_descs: list[str] = []
    for info in children(root, "info"):
        lang = language_tag(text(info, "language"))
        headline = text(info, "headline")
        body = "\n\n".join(t for t in (text(info, "description"), text(info, "instruction")) if t)
        if lang not in texts and (headline or body):
            texts[lang] = "\n\n".join(t for t in (headline, body) if t)
        if lang == "ja" and not (headline_ja or body_ja):
            headline_ja, body_ja = headline, body
        events.append(text(info, "event"))
        categories.extend(text(c) for c in children(info, "category"))
        certainty = certainty or text(info, "certainty")
        try:
            severity = max(severity, Severity.parse(text(info, "severity") or "Unknown"))
        except ValidationError:
            pass
        try:
            urgency = max(urgency, Urgency.parse(text(info, "urgency") or "Unknown"))
        except ValidationError:
            pass
        if text(info, "expires"):
            exp = _time(text(info, "expires"), "expires")
            expires = exp if expires is None or exp > expires else expires
        for area in children(info, "area"):
            desc = text(area, "areaDesc")
            if desc and desc not in area_descs:
                area_descs.append(desc)
            wards.update(_area_wards(area, jur))

    identifier, sender = fields["identifier"], fields["sender"]
    first = child(root, "info")
    params: dict[str, Any] = {
        "event_key": f"cap:{sender}:{identifier}",
        "identifier": identifier,
        "sender": sender,
        "sent": sent.isoformat(),
        "scope": fields["scope"],
        "status": status,
        "event": events[0] if events else None,
        "categories": categories,
        "certainty": certainty or None,
        "languages": list(texts),
        "references_all": refs,
        "sender_name": text(first, "senderName") or None,
        "web": text(first, "web") or None,
        "note": text(root, "note") or None,
    }
    try:
        return Alert(
            source=SOURCE,
            source_id=f"{sender}:{identifier}",
            kind=_kind(events, categories),
            msg_type=msg_type,
            references=refs[0] if msg_type is not MsgType.ALERT else None,
            severity=severity,
            urgency=urgency,
            wards=jur.ordered(wards),
            areas=tuple(area_descs),
            headline_ja=headline_ja,
            body_ja=body_ja,
            texts=texts,
            params=params,
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
