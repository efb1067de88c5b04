"""RSS/Atom feeds and format sniffing (detect_and_parse)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.config import load_config
from bot.domain import CityNotice, Kind
from bot.errors import HostileDocument, IngestError
from bot.ingest import detect_and_parse
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.rss import parse_city_feed, parse_jma_feed

FIX = Path(__file__).resolve().parent / "fixtures"
JST = timezone(timedelta(hours=9))


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


def test_city_rss_notices(kumamoto: Jurisdiction) -> None:
    data = (FIX / "rss" / "city_notices.rss").read_bytes()
    first, second = parse_city_feed(data, feed_name="city", jurisdiction=kumamoto)
    assert first.kind is Kind.CITY_NOTICE and first.source == "rss"
    assert first.source_id == "https://www.city.kumamoto.jp/kiji0001/index.html"
    assert first.headline_ja == "熊本市北区の一部地域で断水が発生しています"
    assert first.body_ja == "北区の植木町の一部で断水しています。給水所を開設しました。"
    assert first.issued == datetime(2016, 4, 16, 10, 30, tzinfo=JST)
    assert first.wards == ("43105",)
    assert isinstance(first.payload, CityNotice)
    assert first.payload.event_key == \
        "rss:city:https://www.city.kumamoto.jp/kiji0001/index.html"
    assert first.payload.link == "https://www.city.kumamoto.jp/kiji0001/index.html"
    assert second.source_id == "https://www.city.kumamoto.jp/kiji0002/index.html"  # link
    assert second.wards == kumamoto.ward_codes
    assert parse_city_feed(data, feed_name="city")[0].wards == ()


def test_english_atom_notices_go_to_texts() -> None:
    [a] = parse_city_feed((FIX / "rss" / "city_notices_en.atom").read_bytes(), feed_name="en")
    assert a.source_id == "urn:example:kumamoto:notices:42"
    assert a.headline_ja == ""
    assert a.texts == {"en": "Water supply points in Higashi Ward\n\n"
                             "Water is available at Higashi Ward Office."}
    assert a.issued == datetime(2016, 4, 16, 3, 0, tzinfo=UTC)


def test_feed_with_doctype_is_refused_before_feedparser(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    import feedparser

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser must not see a hostile feed")

    monkeypatch.setattr(feedparser, "parse", boom)
    with pytest.raises(HostileDocument):
        parse_city_feed((FIX / "rss" / "doctype.rss").read_bytes(), feed_name="x")


def test_feed_without_dates_is_refused() -> None:
    data = b"""<rss version="2.0"><channel><title>t</title>
      <item><title>a</title><link>https://example.invalid/a</link></item></channel></rss>"""
    with pytest.raises(IngestError, match="has no date"):
        parse_city_feed(data, feed_name="x")


def test_jma_feed_entries() -> None:
    entries = parse_jma_feed((FIX / "rss" / "jma_eqvol.atom").read_bytes())
    assert [e.title for e in entries] == ["震源・震度に関する情報", "震度速報"]
    e = entries[0]
    assert e.link == ("https://www.data.jma.go.jp/developer/xml/data/"
                      "20160415163500_0_VXSE53_270000.xml")
    assert e.id == e.link
    assert e.updated == datetime(2016, 4, 16, 1, 35, tzinfo=JST)
    assert e.author == "気象庁"
    assert e.content.startswith("【震度６強】")
    with pytest.raises(IngestError, match="not an Atom feed"):
        parse_jma_feed((FIX / "rss" / "city_notices.rss").read_bytes())


@pytest.mark.parametrize(("path", "count", "kind"), [
    ("jma/32-35_04_04_240613_VXSE53.xml", 1, Kind.EARTHQUAKE),
    ("cap/canada.cap", 1, Kind.WEATHER_WARNING),
    ("cap/amber.atom", 1, Kind.OTHER),           # CAP embedded in Atom entries
    ("cap/weather_index.atom", 0, None),         # an index of links: nothing to alert on
    ("rss/jma_eqvol.atom", 0, None),             # JMA feed: links for the poller
    ("rss/city_notices.rss", 2, Kind.CITY_NOTICE),
])
def test_detect_and_parse(path: str, count: int, kind: Kind | None,
                          kumamoto: Jurisdiction) -> None:
    alerts = detect_and_parse((FIX / path).read_bytes(), kumamoto, origin="test")
    assert len(alerts) == count
    assert all(a.kind is kind for a in alerts)


def test_detect_and_parse_refuses_others(kumamoto: Jurisdiction) -> None:
    with pytest.raises(IngestError, match="unrecognised document"):
        detect_and_parse((FIX / "cap" / "cap12.xsd").read_bytes(), kumamoto, origin="x")
    with pytest.raises(HostileDocument):
        detect_and_parse((FIX / "cap" / "xee.atom").read_bytes(), kumamoto, origin="x")
    with pytest.raises(IngestError, match="malformed"):
        detect_and_parse(b"not xml at all", kumamoto, origin="x")
