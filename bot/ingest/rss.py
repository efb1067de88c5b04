"""RSS/Atom feeds: the city's notices, and JMA's Atom feeds of report links.

Every feed is first parsed by :func:`bot.ingest.xmlsafe.parse_xml`, which refuses
a DOCTYPE, entity declarations and external references, so feedparser never
sees a document in which an entity could be resolved.

* :func:`parse_city_feed` -> ``Kind.CITY_NOTICE`` alerts: ``source`` "rss",
  ``source_id`` = entry id (else link), ``issued`` = published (else updated,
  else the feed's updated), ``headline_ja``/``body_ja`` = title/summary (HTML
  removed) when the feed is Japanese (or says nothing), otherwise they go to
  ``texts[language]``. Payload :class:`~bot.domain.CityNotice`: ``event_key``
  (``rss:{feed_name}:{source_id}``), ``feed_name``, ``link``, ``language``. With a
  jurisdiction, wards named in the title/summary (熊本市北区 ...) are the alert's
  wards, else every ward.
* :func:`parse_jma_feed` -> :class:`FeedEntry` per entry, for a poller to
  decide which report documents to fetch.
"""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.domain import Alert, CityNotice, Kind
from bot.errors import IngestError, ValidationError
from bot.ingest.cap import language_tag
from bot.ingest.jma_common import JST
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, children, local, parse_xml, text

SOURCE = "rss"
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedEntry:
    id: str
    title: str
    updated: datetime
    link: str
    author: str
    content: str


def _plain(value: str) -> str:
    return html.unescape(_TAG.sub("", value)).strip()


def _struct_time(entry: Any, *names: str) -> datetime | None:
    for name in names:
        # dict.get: FeedParserDict.get would map updated_parsed to published_parsed
        # with a DeprecationWarning.
        value = dict.get(entry, name)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC).astimezone(JST)
    return None


def parse_city_feed(data: bytes, *, feed_name: str,
                    jurisdiction: Jurisdiction | None = None) -> list[Alert]:
    """City notices from an RSS 0.9x/1.0/2.0 or Atom feed (newest first as in the feed)."""
    root = parse_xml(data, source=f"rss:{feed_name}")
    if local(root.tag) not in ("rss", "feed", "RDF"):
        raise IngestError(f"not an RSS or Atom feed: root element is {root.tag!r}",
                          source=f"rss:{feed_name}")
    parsed = feedparser.parse(bytes(data), resolve_relative_uris=False,
                              sanitize_html=True)
    if parsed.get("bozo") and not parsed.entries:
        raise IngestError(f"unreadable feed: {parsed.get('bozo_exception')}",
                          source=f"rss:{feed_name}")
    feed = parsed.get("feed", {})
    lang = language_tag(feed.get("language") or "ja")
    feed_time = _struct_time(feed, "updated_parsed", "published_parsed")
    alerts = []
    for i, entry in enumerate(parsed.entries):
        link = (entry.get("link") or "").strip()
        source_id = (entry.get("id") or link).strip()
        title = _plain(entry.get("title") or "")
        summary = _plain(entry.get("summary") or "")
        if not source_id:
            raise IngestError(f"entry {i + 1} ({title[:40]!r}) has neither id nor link",
                              source=f"rss:{feed_name}")
        issued = _struct_time(entry, "published_parsed", "updated_parsed") or feed_time
        if issued is None:
            raise IngestError(f"entry {source_id!r} has no date and neither has the feed",
                              source=f"rss:{feed_name}")
        wards: tuple[str, ...] = ()
        if jurisdiction is not None:
            wards = jurisdiction.wards_named_in(f"{title}\n{summary}") or jurisdiction.ward_codes
        japanese = lang == "ja"
        try:
            alerts.append(Alert(
                source=SOURCE,
                source_id=source_id,
                kind=Kind.CITY_NOTICE,
                wards=wards,
                headline_ja=title if japanese else "",
                body_ja=summary if japanese else "",
                texts={} if japanese else {lang: "\n\n".join(t for t in (title, summary) if t)},
                payload=CityNotice(event_key=f"rss:{feed_name}:{source_id}",
                                   feed_name=feed_name, link=link or None, language=lang),
                issued=issued,
            ))
        except ValidationError as exc:
            raise IngestError(f"entry {source_id!r}: {exc}", source=f"rss:{feed_name}") from None
    return alerts


def parse_jma_feed(data: bytes) -> list[FeedEntry]:
    """Entries of a JMA Atom feed (regular.xml, extra.xml, eqvol.xml, other.xml ...)."""
    root = parse_xml(data, source="jma-feed")
    if local(root.tag) != "feed":
        raise IngestError(f"not an Atom feed: root element is {root.tag!r}", source="jma-feed")
    out = []
    for entry in children(root, "entry"):
        link = next((ln.get("href", "").strip() for ln in children(entry, "link")
                     if ln.get("href") and ln.get("rel", "alternate") == "alternate"), "")
        entry_id = text(entry, "id")
        updated_s = text(entry, "updated")
        if not entry_id or not link or not updated_s:
            raise IngestError(f"feed entry {entry_id or '?'} lacks an id, link or updated time",
                              source="jma-feed")
        try:
            updated = datetime.fromisoformat(updated_s.replace("Z", "+00:00"))
        except ValueError:
            raise IngestError(f"entry {entry_id}: bad updated time {updated_s!r}",
                              source="jma-feed") from None
        if updated.tzinfo is None:
            raise IngestError(f"entry {entry_id}: updated time has no offset",
                              source="jma-feed")
        out.append(FeedEntry(id=entry_id, title=text(entry, "title"),
                             updated=updated.astimezone(JST), link=link,
                             author=text(child(entry, "author"), "name"),
                             content=text(entry, "content")))
    return out
