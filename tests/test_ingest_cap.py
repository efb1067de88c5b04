"""CAP parsing, hostile documents, and the ward geometry of the jurisdiction."""

from __future__ import annotations

import builtins
import socket
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.domain import Cap, CapCertainty, Kind, MsgType, Severity, Urgency
from bot.errors import HostileDocument, IngestError
from bot.geo import distance_km, in_ring
from bot.ingest.cap import language_tag, parse_cap, parse_cap_index
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.xmlsafe import child, parse_xml, text

CAP = Path(__file__).resolve().parent / "fixtures" / "cap"


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


def read(name: str) -> bytes:
    return (CAP / name).read_bytes()


@pytest.mark.parametrize("name", ["canada.cap", "earthquake.cap", "no_optional_fields.cap",
                                  "noaa_errors.cap", "wcatwc-warning.cap", "weather.cap"])
def test_every_cap_sample_parses(name: str, kumamoto: Jurisdiction) -> None:
    [alert] = parse_cap(read(name), kumamoto)
    assert alert.source == "cap"
    assert isinstance(alert.payload, Cap)
    assert alert.payload.event_key == f"cap:{alert.source_id}"
    assert alert.issued.tzinfo is not None
    assert alert.in_jurisdiction is False  # none of them is about 熊本市


def test_canada_keeps_both_languages_and_references(kumamoto: Jurisdiction) -> None:
    [a] = parse_cap(read("canada.cap"), kumamoto)
    assert a.source_id == "cap@ec.gc.ca:2.49.0.1.124.6bddbc91.2012"
    assert a.msg_type is MsgType.UPDATE
    assert a.references == "cap:cap@ec.gc.ca:2.49.0.1.124.a3f342a4.2012"
    assert isinstance(a.payload, Cap)
    assert a.payload.references_all == ("cap:cap@ec.gc.ca:2.49.0.1.124.a3f342a4.2012",
                                        "cap:cap@ec.gc.ca:2.49.0.1.124.60f31a3a.2012")
    assert set(a.texts) == {"en", "fr"}
    assert a.texts["en"].startswith("severe thunderstorm watch\n\nThis is a test")
    assert a.texts["fr"].startswith("veille d'orages violents\n\nC'est l'épreuve")
    assert "Surveiller les conditions locales" in a.texts["fr"]
    assert a.headline_ja == "" and a.body_ja == ""
    assert a.kind is Kind.WEATHER_WARNING
    assert a.severity is Severity.MINOR and a.urgency is Urgency.PAST
    assert a.issued == datetime(2012, 5, 2, 23, 21, 4, tzinfo=UTC)
    assert a.expires == datetime(2012, 5, 3, 0, 20, tzinfo=UTC)
    assert a.test is False
    assert a.payload.languages == ("en", "fr")
    assert a.areas == ("Windsor - Leamington - Essex County", "Chatham-Kent - Rondeau Park",
                       "Windsor - Leamington - comté d'Essex", "Chatham-Kent - parc Rondeau")


def test_earthquake_and_tsunami_kinds(kumamoto: Jurisdiction) -> None:
    [eq] = parse_cap(read("earthquake.cap"), kumamoto)
    assert eq.kind is Kind.EARTHQUAKE
    [ts] = parse_cap(read("wcatwc-warning.cap"), kumamoto)
    assert ts.kind is Kind.TSUNAMI and ts.severity is Severity.EXTREME
    assert ts.msg_type is MsgType.UPDATE and ts.references == "cap:PAAQ:PAAQ-1-lqw6d6"


def test_noaa_errors_are_tolerated(kumamoto: Jurisdiction) -> None:
    [a] = parse_cap(read("noaa_errors.cap"), kumamoto)
    assert a.msg_type is MsgType.ALERT and a.references is None  # empty <references/>
    assert a.severity is Severity.UNKNOWN and a.urgency is Urgency.UNKNOWN


def test_invalid_cap_has_a_clear_reason(kumamoto: Jurisdiction) -> None:
    with pytest.raises(IngestError, match=r"missing required <scope>"):
        parse_cap(read("invalid.cap"), kumamoto)


@pytest.mark.parametrize("name", ["xee.cap", "xee.atom"])
def test_xxe_samples_are_refused_without_reading_anything(
        name: str, kumamoto: Jurisdiction, monkeypatch: pytest.MonkeyPatch) -> None:
    data = read(name)
    touched: list[Any] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        touched.append(args)
        raise AssertionError(f"I/O attempted: {args!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    with pytest.raises(HostileDocument, match="DOCTYPE"):
        parse_cap(data, kumamoto)
    with pytest.raises(HostileDocument):
        parse_cap_index(data)
    assert touched == []


def _cap(status: str = "Actual", msg_type: str = "Alert", refs: str = "",
         info: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KMM-1</identifier><sender>bousai@city.kumamoto.example</sender>
  <sent>2016-04-16T01:30:00+09:00</sent><status>{status}</status>
  <msgType>{msg_type}</msgType><scope>Public</scope>{refs}{info}
</alert>""".encode()


JA_INFO = """<info><language>ja-JP</language><category>Safety</category>
  <event>避難指示</event><urgency>Immediate</urgency><severity>Severe</severity>
  <certainty>Observed</certainty><expires>2016-04-16T09:00:00+09:00</expires>
  <headline>避難指示（北区）</headline><description>北区の一部に避難指示を発令しました。</description>
  <area><areaDesc>熊本市北区</areaDesc>
    <geocode><valueName>JIS</valueName><value>43105</value></geocode></area></info>
<info><language>en-US</language><category>Safety</category><event>Evacuation order</event>
  <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
  <headline>Evacuation order (Kita Ward)</headline></info>"""


def test_japanese_info_with_ward_geocode(kumamoto: Jurisdiction) -> None:
    [a] = parse_cap(_cap(info=JA_INFO), kumamoto)
    assert a.headline_ja == "避難指示（北区）"
    assert a.body_ja == "北区の一部に避難指示を発令しました。"
    assert set(a.texts) == {"ja", "en"}
    assert a.kind is Kind.EVACUATION
    assert a.wards == ("43105",) and a.in_jurisdiction is True
    assert a.severity is Severity.SEVERE and a.urgency is Urgency.IMMEDIATE
    assert isinstance(a.payload, Cap)
    assert a.payload.certainty is CapCertainty.OBSERVED


@pytest.mark.parametrize(("status", "test"), [("Actual", False), ("Exercise", True),
                                             ("Test", True)])
def test_status_sets_test_flag(status: str, test: bool, kumamoto: Jurisdiction) -> None:
    [a] = parse_cap(_cap(status=status, info=JA_INFO), kumamoto)
    assert a.test is test


@pytest.mark.parametrize("status", ["System", "Draft"])
def test_system_and_draft_are_never_alerts(status: str, kumamoto: Jurisdiction) -> None:
    with pytest.raises(IngestError, match=f"status '{status}' is not for the public"):
        parse_cap(_cap(status=status), kumamoto)


def test_cancel_needs_references(kumamoto: Jurisdiction) -> None:
    with pytest.raises(IngestError, match="Cancel has no usable <references>"):
        parse_cap(_cap(msg_type="Cancel"), kumamoto)
    refs = "<references>bousai@city.kumamoto.example,KMM-0,2016-04-16T01:00:00+09:00</references>"
    [a] = parse_cap(_cap(msg_type="Cancel", refs=refs), kumamoto)
    assert a.msg_type is MsgType.CANCEL
    assert a.references == "cap:bousai@city.kumamoto.example:KMM-0"


def test_ack_is_refused(kumamoto: Jurisdiction) -> None:
    with pytest.raises(IngestError, match="msgType 'Ack'"):
        parse_cap(_cap(msg_type="Ack"), kumamoto)


def _area(inner: str) -> bytes:
    return _cap(info=f"""<info><category>Met</category><event>Heavy rain</event>
      <urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty>
      <area><areaDesc>test area</areaDesc>{inner}</area></info>""")


def test_polygon_over_most_of_the_city(kumamoto: Jurisdiction) -> None:
    poly = "<polygon>32.70,130.60 32.70,130.80 32.83,130.80 32.83,130.60 32.70,130.60</polygon>"
    [a] = parse_cap(_area(poly), kumamoto)
    assert {"43101", "43102", "43103", "43104"} <= set(a.wards)
    # A CAP heavy-rain warning is a weather warning (config/data/cap_kinds.toml); the
    # heavy_rain kind is JMA's 記録的短時間大雨情報, which the policy sends by itself.
    assert a.kind is Kind.WEATHER_WARNING and a.in_jurisdiction is True


def test_circle_reaching_a_ward(kumamoto: Jurisdiction) -> None:
    [a] = parse_cap(_area("<circle>32.90,130.69 1.0</circle>"), kumamoto)
    assert "43105" in a.wards and "43104" not in a.wards
    [far] = parse_cap(_area("<circle>35.68,139.76 10</circle>"), kumamoto)  # Tokyo
    assert far.wards == () and far.in_jurisdiction is False


def test_city_geocode_means_every_ward(kumamoto: Jurisdiction) -> None:
    [a] = parse_cap(_area("<geocode><valueName>JIS</valueName><value>43100</value></geocode>"),
                    kumamoto)
    assert a.wards == kumamoto.ward_codes
    [other] = parse_cap(_area(
        "<geocode><valueName>SAME</valueName><value>43100</value></geocode>"), kumamoto)
    assert other.wards == ()  # value names that are not configured are not trusted


def test_geometry_helpers() -> None:
    square = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    assert in_ring(0.5, 0.5, square)
    assert not in_ring(1.5, 0.5, square)
    assert 95 < distance_km(32.80, 130.70, 33.65, 130.40) < 105  # 熊本 - 福岡, about 100 km


def test_language_tags() -> None:
    assert language_tag("en-CA") == "en"
    assert language_tag("ja-JP") == "ja"
    assert language_tag("zh-TW") == "zh-TW"
    assert language_tag("zh-hant") == "zh-hant"
    assert language_tag("") == "en"


def test_cap_index_links() -> None:
    links = parse_cap_index(read("weather_index.atom"))
    assert links == [
        "http://www.weather.gov/alerts-beta/wwacapget.php?x="
        "CT20100831030400OKXAirQualityAlertOKX20100901031500CT",
        "http://www.weather.gov/alerts-beta/wwacapget.php?x="
        "DC20100830203300LWXAirQualityAlertLWX20100901040000DC",
    ]
    assert parse_cap_index(read("amber.atom")) == ["http://doj.dc.gov/amber12345"]
    with pytest.raises(IngestError, match="not an Atom or RSS index"):
        parse_cap_index(read("canada.cap"))


def test_xmlsafe_errors() -> None:
    with pytest.raises(HostileDocument, match="more than the 10-byte limit"):
        parse_xml(b"<a>0123456789</a>", source="t", max_bytes=10)
    with pytest.raises(IngestError, match="empty document"):
        parse_xml(b"  ", source="t")
    with pytest.raises(IngestError, match="malformed XML"):
        parse_xml(b"<a><b></a>", source="t")
    with pytest.raises(HostileDocument):
        parse_xml(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', source="t")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>')
    with pytest.raises(HostileDocument):
        parse_xml(bomb, source="t")


def test_namespace_agnostic_helpers() -> None:
    root = parse_xml(b'<r xmlns="urn:a" xmlns:b="urn:b"><b:x><y> v </y></b:x></r>', source="t")
    assert text(root, "x", "y") == "v"
    assert child(root, "x", "z") is None
    assert text(root, "nope", default="d") == "d"
