"""CAP documents: 1.0/1.1/1.2, ``<alerts>`` collections and EDXL-DE envelopes, the
CAP kinds table (``[data] cap_kinds``), and the policy for the city's own CAP alerts."""

from __future__ import annotations

import builtins
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.domain import Cap, Kind, MsgType, PolicyAction, Severity
from bot.errors import HostileDocument, IngestError
from bot.ingest import detect_and_parse
from bot.ingest.cap import parse_cap
from bot.ingest.jurisdiction import Jurisdiction
from bot.policy import Rule, evaluate, load_rules

CAP = Path(__file__).resolve().parent / "fixtures" / "cap"
CONFIG = load_config()
JUR = Jurisdiction.from_config(CONFIG)
RULES = load_rules(CONFIG)
SENDER = "bousai@city.kumamoto.example"


def read(name: str) -> bytes:
    return (CAP / name).read_bytes()


def one(name: str) -> Any:
    [alert] = parse_cap(read(name), JUR)
    return alert


def decide(alert: Any) -> tuple[str, str]:
    d = evaluate(alert, RULES, "hold")
    return d.action.value, d.rule_name


# ------------------------------------------------------- the city's landslide CAP


def test_the_city_landslide_alert_is_held_for_an_operator_not_ignored() -> None:
    a = one("kumamoto_landslide.cap")
    assert a.kind is Kind.LANDSLIDE and a.msg_type is MsgType.ALERT
    assert a.wards == ("43101",) and a.in_jurisdiction is True
    assert a.severity is Severity.SEVERE and a.test is False
    # Was ("ignore", "unchanged-reissue"): CAP has no JMA 継続 flag.
    assert decide(a) == ("hold", "default")


@pytest.mark.parametrize(("name", "msg_type"), [
    ("kumamoto_landslide_update.cap", MsgType.UPDATE),
    ("kumamoto_landslide_cancel.cap", MsgType.LIFT),  # responseType AllClear: it ended
])
def test_its_update_and_all_clear_follow_the_original(name: str, msg_type: MsgType) -> None:
    a = one(name)
    assert a.msg_type is msg_type and a.wards == ("43101",)
    assert a.references == f"cap:{SENDER}:JP-KUMAMOTO-CITY-2024-0712-0001"
    assert decide(a) == ("follow", "corrections-and-cancellations")


def test_unchanged_reissue_is_for_jma_reports_only() -> None:
    a = one("kumamoto_landslide.cap")
    rule = next(r for r in RULES if r.name == "unchanged-reissue")
    assert rule.mismatch(a) == "source"
    # and without the source condition, "changed" alone does not read a CAP as unchanged
    bare = Rule(name="u", action=PolicyAction.IGNORE, kind=rule.kind, changed=False)
    assert bare.mismatch(a) == "changed"
    assert Rule(name="c", action=PolicyAction.AUTO, changed=True).mismatch(a) == "changed"


# ----------------------------------------------------------------------- kinds


@pytest.mark.parametrize(("name", "kind"), [
    ("kumamoto_landslide.cap", Kind.LANDSLIDE),
    ("kumamoto_bushfire.cap", Kind.EVACUATION),        # a fire to leave: evacuation
    ("kumamoto_inundation_cap11.cap", Kind.WEATHER_WARNING),  # 浸水 (category Safety)
    ("kumamoto_drill_cap10.cap", Kind.DRILL),          # 総合防災訓練 (category Safety)
    ("canada.cap", Kind.WEATHER_WARNING),              # Met: thunderstorm
    ("weather.cap", Kind.WEATHER_WARNING),             # Flash Flood Watch
    ("wcatwc-warning.cap", Kind.TSUNAMI),
    ("earthquake.cap", Kind.EARTHQUAKE),
])
def test_kinds_from_the_config_table(name: str, kind: Kind) -> None:
    assert one(name).kind is kind


def _variant(name: str, *changes: tuple[str, str]) -> Any:
    data = read(name).decode()
    for old, new in changes:
        assert old in data
        data = data.replace(old, new)
    [alert] = parse_cap(data.encode(), JUR)
    return alert


def test_a_bushfire_is_never_a_weather_warning() -> None:
    # the same fire without an order to leave: its categories say Met first
    a = _variant("kumamoto_bushfire.cap", ("<responseType>Evacuate</responseType>",
                                           "<responseType>Monitor</responseType>"))
    assert a.kind is Kind.OTHER


@pytest.mark.parametrize(("event", "category", "kind"), [
    ("Wildfire", "Fire", Kind.OTHER),
    ("Inundation", "Safety", Kind.WEATHER_WARNING),
    ("Flood Warning", "Env", Kind.WEATHER_WARNING),
    ("Evacuation exercise", "Safety", Kind.DRILL),
    ("避難訓練", "Safety", Kind.DRILL),
    ("避難指示", "Safety", Kind.EVACUATION),
    ("避難所開設", "Safety", Kind.SHELTER),
    ("土砂災害警戒", "Geo", Kind.LANDSLIDE),
    ("Debris flow", "Geo", Kind.LANDSLIDE),
    ("Sinkhole", "Geo", Kind.OTHER),
    ("Rail disruption", "Transport", Kind.OTHER),
    ("断水", "Infra", Kind.LIFELINE),
    ("Boil water notice", "Infra", Kind.LIFELINE),
    ("Terrain survey", "Met", Kind.WEATHER_WARNING),   # "rain" must start a word
    ("Terrain survey", "Other", Kind.OTHER),
])
def test_event_words_then_categories(event: str, category: str, kind: Kind) -> None:
    a = _variant("kumamoto_inundation_cap11.cap", ("<event>道路の浸水</event>",
                                                   f"<event>{event}</event>"),
                 ("<category>Safety</category>", f"<category>{category}</category>"))
    assert a.kind is kind, event


# ------------------------------------------------------------- CAP 1.0 and 1.1


def test_cap_11_and_10_documents() -> None:
    flood = one("kumamoto_inundation_cap11.cap")
    assert flood.wards == ("43104",) and flood.test is False
    assert isinstance(flood.payload, Cap) and flood.payload.languages == ("ja",)
    drill = one("kumamoto_drill_cap10.cap")
    assert drill.test is True and drill.wards == JUR.ward_codes
    assert isinstance(drill.payload, Cap) and drill.payload.certainty is not None


def test_cap_10_references_name_the_identifier_only() -> None:
    a = _variant("kumamoto_drill_cap10.cap", ("<msgType>Alert</msgType>",
                                              "<msgType>Cancel</msgType><references>"
                                              "JP-KUMAMOTO-CITY-2024-0901-0300</references>"))
    assert a.references == f"cap:{SENDER}:JP-KUMAMOTO-CITY-2024-0901-0300"


def test_other_cap_namespaces_are_refused_with_the_known_ones() -> None:
    data = read("kumamoto_landslide.cap").replace(b"emergency:cap:1.2", b"emergency:cap:2.0")
    with pytest.raises(IngestError, match=r"not a CAP alert.*cap:1\.2"):
        parse_cap(data, JUR)
    with pytest.raises(IngestError, match=r"not a CAP alert"):
        detect_and_parse(data, JUR, origin="t")


def test_the_namespace_of_cap_10_as_published() -> None:
    data = read("kumamoto_drill_cap10.cap").replace(
        b"urn:oasis:names:tc:emergency:cap:1.0", b"http://www.incident.com/cap/1.0")
    [a] = parse_cap(data, JUR)
    assert a.kind is Kind.DRILL


# --------------------------------------------------- collections and envelopes


def test_an_alerts_collection_gives_every_alert() -> None:
    rain, wind = parse_cap(read("kumamoto_alerts.xml"), JUR)
    assert (rain.kind, rain.wards) == (Kind.WEATHER_WARNING, ("43104",))
    assert (wind.kind, wind.wards) == (Kind.WEATHER_WARNING, JUR.ward_codes)
    assert wind.source_id == f"{SENDER}:JP-KUMAMOTO-CITY-2024-0712-0502"
    via_detect = detect_and_parse(read("kumamoto_alerts.xml"), JUR, origin="smhi-style")
    assert [a.source_id for a in via_detect] == [rain.source_id, wind.source_id]
    with pytest.raises(IngestError, match="holds no CAP alert"):
        parse_cap(b"<alerts><alert><identifier>x</identifier></alert></alerts>", JUR)


def test_an_edxl_de_envelope_gives_its_cap_alert() -> None:
    [a] = parse_cap(read("kumamoto_edxl.xml"), JUR)
    assert a.kind is Kind.EVACUATION and a.wards == ("43105",) and a.test is False
    assert isinstance(a.payload, Cap) and a.payload.languages == ("ja", "en", "vi")
    [b] = detect_and_parse(read("kumamoto_edxl.xml"), JUR, origin="edxl")
    assert b == a


@pytest.mark.parametrize("status", ["Exercise", "Test"])
def test_an_exercise_envelope_makes_its_alerts_tests(status: str) -> None:
    data = read("kumamoto_edxl.xml").replace(
        b"<distributionStatus>Actual", f"<distributionStatus>{status}".encode())
    [a] = parse_cap(data, JUR)
    assert a.test is True


def test_envelopes_that_are_not_for_the_public_or_empty_are_refused() -> None:
    data = read("kumamoto_edxl.xml")
    with pytest.raises(IngestError, match="distributionStatus 'System'"):
        parse_cap(data.replace(b"<distributionStatus>Actual", b"<distributionStatus>System"),
                  JUR)
    start, end = data.index(b"<contentObject>"), data.index(b"</contentObject>")
    empty = data[:start] + data[end + len(b"</contentObject>"):]
    with pytest.raises(IngestError, match="carries no CAP alert"):
        parse_cap(empty, JUR)


_DOCTYPE = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
            b'<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>\n')


@pytest.mark.parametrize("name", ["kumamoto_edxl.xml", "kumamoto_alerts.xml",
                                  "kumamoto_inundation_cap11.cap", "kumamoto_drill_cap10.cap"])
def test_hostile_documents_are_refused_on_every_new_path(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = read(name).split(b"?>", 1)[1]
    data = _DOCTYPE + body.replace(b"<description>", b"<description>&xxe;&lol2;", 1)
    touched: list[Any] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        touched.append(args)
        raise AssertionError(f"I/O attempted: {args!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    with pytest.raises(HostileDocument):
        parse_cap(data, JUR)
    with pytest.raises(HostileDocument):
        detect_and_parse(data, JUR, origin="hostile")
    assert touched == []
