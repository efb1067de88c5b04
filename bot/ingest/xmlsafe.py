"""Safe XML parsing for everything ingest reads from outside.

Every XML document (JMA reports, CAP alerts, Atom/RSS feeds) goes through
:func:`parse_xml` first. It uses :mod:`defusedxml` with DTDs, entity
declarations and external references all forbidden, so a document carrying a
``<!DOCTYPE`` (the door to XML external entities, billion-laughs and remote DTD
fetches) is refused before any entity could be resolved: nothing is read from
disk or the network. Oversized input is refused before parsing.

The helpers below look elements up by *local* name, ignoring namespaces: JMA
reports mix the jmx, jmx_ib, jmx_seis, jmx_mete, jmx_volc and jmx_eb
namespaces, CAP exists as 1.0/1.1/1.2, and feeds are sloppy about prefixes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from bot.errors import HostileDocument, IngestError

Element = ET.Element

DEFAULT_MAX_BYTES = 5_000_000


def parse_xml(data: bytes, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> ET.Element:
    """Parse ``data`` into an element tree, refusing anything hostile.

    Raises :class:`HostileDocument` for a DOCTYPE, entity declarations, external
    references or a document larger than ``max_bytes``; :class:`IngestError`
    for empty or malformed XML. ``source`` names the origin in error messages.
    """
    if not isinstance(data, bytes | bytearray):
        raise IngestError(f"expected bytes, got {type(data).__name__}", source=source)
    if len(data) > max_bytes:
        raise HostileDocument(
            f"document is {len(data)} bytes, more than the {max_bytes}-byte limit", source=source
        )
    if not data.strip():
        raise IngestError("empty document", source=source)
    try:
        return DET.fromstring(
            bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise HostileDocument(
            f"refused: {type(exc).__name__} ({_describe(exc)}); DOCTYPE, entities and "
            "external references are not allowed",
            source=source,
        ) from None
    except ET.ParseError as exc:
        raise IngestError(f"malformed XML: {exc}", source=source) from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding declaration
        raise IngestError(f"unreadable XML: {exc}", source=source) from None


def _describe(exc: DefusedXmlException) -> str:
    parts = []
    for attr in ("name", "sysid", "pubid"):
        value = getattr(exc, attr, None)
        if value:
            parts.append(f"{attr}={value!r}")
    return ", ".join(parts) or str(exc)


def local(tag: object) -> str:
    """``{namespace}Name`` -> ``Name``; comments and processing instructions -> ''."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(el: ET.Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def children(el: ET.Element | None, name: str) -> list[ET.Element]:
    """Direct children of ``el`` whose local name is ``name``."""
    if el is None:
        return []
    return [c for c in el if local(c.tag) == name]


def child(el: ET.Element | None, *path: str) -> ET.Element | None:
    """Follow ``path`` (local names) from ``el``, taking the first match at each step."""
    cur = el
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in cur if local(c.tag) == name), None)
    return cur


def text(el: ET.Element | None, *path: str, default: str = "") -> str:
    """Stripped text of the element at ``path`` (``default`` when absent or empty)."""
    found = child(el, *path) if path else el
    if found is None or found.text is None:
        return default
    value = found.text.strip()
    return value if value else default


def descendants(el: ET.Element | None, name: str) -> Iterator[ET.Element]:
    """All descendants of ``el`` (document order) whose local name is ``name``."""
    if el is None:
        return
    for d in el.iter():
        if d is not el and local(d.tag) == name:
            yield d
