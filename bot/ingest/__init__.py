"""Ingest: official documents in, :class:`~bot.domain.Alert` objects out.

Parsers are pure functions (bytes in, alerts out, no I/O); every XML input goes
through :mod:`bot.ingest.xmlsafe` first. :func:`detect_and_parse` sniffs what a
document is and routes it:

==========================================  ============================================
document                                    result
==========================================  ============================================
JMA ``<Report>`` (jmaxml1 namespace)        :func:`bot.ingest.jma.parse_jma`
CAP ``<alert>`` (CAP 1.0, 1.1, 1.2), an     :func:`bot.ingest.cap.parse_cap`: one alert
``<alerts>`` collection, or an EDXL-DE      per CAP alert
envelope carrying CAP alerts
Atom/RSS with CAP alerts embedded in        one alert per embedded CAP document
entries (e.g. ``<content type="text/xml">``)
Atom/RSS *index* of CAP documents (CAP      ``[]``: it holds links, not alerts; a poller
fields or application/cap+xml links), or    reads them with ``parse_cap_index`` /
a JMA Atom feed (links to JMA XML reports)  ``parse_jma_feed`` and fetches each document
any other Atom/RSS                          city notices, ``parse_city_feed`` with
                                            ``feed_name=origin``
anything else                               :class:`~bot.errors.IngestError`
==========================================  ============================================
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.domain import Alert
from bot.errors import IngestError
from bot.ingest.cap import (
    CAP_NAMESPACES,
    alert_from_element,
    is_cap_alert,
    is_cap_document,
    parse_cap_root,
)
from bot.ingest.jma import JMX_NAMESPACE, parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.rss import parse_city_feed
from bot.ingest.xmlsafe import local, namespace, parse_xml

__all__ = ["Jurisdiction", "detect_and_parse"]

_JMA_FEED_HOSTS = ("jma.go.jp", "kishou.go.jp")


def _is_cap(el: ET.Element) -> bool:
    return namespace(el) in CAP_NAMESPACES


def _is_index(root: ET.Element) -> bool:
    for el in root.iter():
        if _is_cap(el):
            return True
        if local(el.tag) == "link":
            href = el.get("href") or el.text or ""
            if el.get("type") == "application/cap+xml":
                return True
            if any(h in href for h in _JMA_FEED_HOSTS) and href.endswith(".xml"):
                return True
    return False


def detect_and_parse(data: bytes, jurisdiction: Jurisdiction, *, origin: str) -> list[Alert]:
    """Recognise ``data`` and parse it; ``origin`` names where it came from (feed name)."""
    root = parse_xml(data, source=origin)
    name = local(root.tag)
    if name == "Report" and namespace(root) == JMX_NAMESPACE:
        return parse_jma(data, jurisdiction)
    if is_cap_document(root) or name == "alert":  # another namespace: a clear refusal
        return parse_cap_root(root, jurisdiction)
    if name in ("feed", "rss", "RDF"):
        embedded = [el for el in root.iter() if is_cap_alert(el)]
        if embedded:
            return [alert_from_element(el, jurisdiction) for el in embedded]
        if _is_index(root):
            return []
        return parse_city_feed(data, feed_name=origin, jurisdiction=jurisdiction)
    raise IngestError(
        f"unrecognised document: root element {root.tag!r} is not a JMA report, a CAP "
        "alert (alone, in <alerts> or in an EDXL-DE envelope) or an Atom/RSS feed",
        source=origin)
