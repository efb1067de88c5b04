"""Typed payloads: every kind parsed from the real JMA/CAP/RSS documents round-trips
through its JSON form (and through the database); rows written before payloads were
typed still load; values of the wrong type are refused with a clear error."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import load_config
from bot.domain import (
    PAYLOAD_TYPES,
    Alert,
    AlertPayload,
    Cap,
    CapCategory,
    CapCertainty,
    CityNotice,
    EarlyWarning,
    Earthquake,
    Evacuation,
    EvacuationLevel,
    FreeText,
    HeavyRain,
    Hypocentre,
    HypocentreUpdate,
    Intensity,
    Kind,
    Landslide,
    Lifeline,
    LongPeriodMotion,
    MegaquakeNotice,
    MsgType,
    OffshoreTsunami,
    SeismicActivity,
    Shelter,
    ShelterAction,
    Tsunami,
    TsunamiArea,
    TsunamiKind,
    Typhoon,
    Utility,
    Volcano,
    WeatherWarning,
    payload_from_json,
)
from bot.errors import ValidationError
from bot.ingest.cap import parse_cap
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.rss import parse_city_feed
from bot.store.alerts import alerts, find_original, get_alert, insert_alert

FIX = Path(__file__).resolve().parent / "fixtures"
JUR = Jurisdiction.from_config(load_config())
JST = dt.timezone(dt.timedelta(hours=9))
JMA_SAMPLES = sorted(p.name.removesuffix(".gz") for p in (FIX / "jma").iterdir()
                     if p.name.endswith((".xml", ".xml.gz")) and "_VPRN50" not in p.name)
CAP_SAMPLES = ["canada.cap", "earthquake.cap", "no_optional_fields.cap", "noaa_errors.cap",
               "wcatwc-warning.cap", "weather.cap"]
LEGACY = json.loads((FIX / "legacy" / "params_before_payloads.json").read_text("utf-8"))


def jma_bytes(name: str) -> bytes:
    path = FIX / "jma" / name
    if path.exists():
        return path.read_bytes()
    return gzip.decompress((FIX / "jma" / f"{name}.gz").read_bytes())


def jma(name: str, jur: Jurisdiction = JUR) -> Alert:
    [alert] = parse_jma(jma_bytes(name), jur)
    return alert


def assert_round_trip(alert: Alert) -> None:
    data = alert.payload.to_json()
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)  # strict JSON, as stored
    back = payload_from_json(json.loads(text), kind=alert.kind, source=alert.source)
    assert type(back) is type(alert.payload)
    assert back == alert.payload
    assert back.to_json() == data
    assert data["payload"] == alert.payload.TYPE and "event_key" in data


@pytest.mark.parametrize("name", JMA_SAMPLES)
def test_every_jma_sample_round_trips(name: str) -> None:
    assert_round_trip(jma(name))


@pytest.mark.parametrize("name", CAP_SAMPLES)
def test_every_cap_sample_round_trips(name: str) -> None:
    [alert] = parse_cap((FIX / "cap" / name).read_bytes(), JUR)
    assert isinstance(alert.payload, Cap)
    assert_round_trip(alert)


@pytest.mark.parametrize("name", ["city_notices.rss", "city_notices_en.atom"])
def test_city_feeds_round_trip(name: str) -> None:
    for alert in parse_city_feed((FIX / "rss" / name).read_bytes(), feed_name="city",
                                 jurisdiction=JUR):
        assert isinstance(alert.payload, CityNotice)
        assert_round_trip(alert)


def test_the_samples_cover_every_parsed_payload_class() -> None:
    seen = {type(jma(n).payload) for n in JMA_SAMPLES}
    assert seen == {Earthquake, EarlyWarning, Tsunami, WeatherWarning, Landslide, Volcano,
                    HeavyRain, MegaquakeNotice, LongPeriodMotion, HypocentreUpdate,
                    SeismicActivity, OffshoreTsunami, Typhoon}


def test_local_values_round_trip_too() -> None:
    """Ward intensities, areas and observations are only filled for the jurisdiction."""
    data = jma_bytes("32-35_04_04_240613_VXSE53.xml").replace(
        "<City><Name>熊本市</Name><Code>4320100</Code><MaxInt>1</MaxInt>".encode(),
        "<City><Name>熊本中央区</Name><Code>4310100</Code><MaxInt>5+</MaxInt>".encode())
    [quake] = parse_jma(data, JUR)
    assert isinstance(quake.payload, Earthquake)
    assert quake.payload.ward_intensity == {"43101": Intensity.FIVE_UPPER}
    assert_round_trip(quake)
    # 伊豆諸島 in the sample's tsunami information: tide stations with observations.
    izu = replace(JUR, tsunami_areas=("320",))
    tsunami = jma("32-39_12_10_250206_VTSE51.xml", izu)
    assert isinstance(tsunami.payload, Tsunami) and tsunami.payload.areas
    assert len(tsunami.payload.observations) > 3
    assert tsunami.payload.observations[0].max_height_m == 2.4
    assert_round_trip(tsunami)


def test_tsunami_over_ten_metres_is_marked() -> None:
    """JMA writes １０ｍ超 as the number 10 with that description."""
    everywhere = replace(JUR, tsunami_areas=tuple(str(c) for c in range(100, 1000)))
    over = [a for n in JMA_SAMPLES if "VTSE41" in n
            for a in jma(n, everywhere).payload.areas  # type: ignore[union-attr]
            if a.height_ja == "１０ｍ超"]
    assert over and all(a.height_m == 10.0 and a.height_over for a in over)


STAFF: dict[str, tuple[Kind, AlertPayload]] = {
    "evacuation": (Kind.EVACUATION, Evacuation(level=EvacuationLevel.EVACUATE)),
    "shelter": (Kind.SHELTER, Shelter(shelter_ids=("00000264",), action=ShelterAction.OPENED)),
    "lifeline": (Kind.LIFELINE, Lifeline(utility=Utility.WATER)),
    "city_notice": (Kind.CITY_NOTICE, CityNotice()),
    "drill": (Kind.DRILL, FreeText()),
    "earthquake": (Kind.EARTHQUAKE, FreeText()),
}


def staff_alert(kind: Kind, payload: AlertPayload, **kw: Any) -> Alert:
    return Alert(source="cli", source_id=kw.pop("source_id", f"{kind}-staff"), kind=kind,
                 payload=payload, issued=dt.datetime(2016, 4, 16, 1, 30, tzinfo=JST), **kw)


@pytest.mark.parametrize("name", sorted(STAFF))
def test_staff_payloads_round_trip(name: str) -> None:
    assert_round_trip(staff_alert(*STAFF[name]))


# ------------------------------------------------------------------ legacy rows

# Payload fields added after the legacy rows were written, with their defaults.
ADDED_SINCE_LEGACY: dict[str, Any] = {
    "comments": (), "free_comment_ja": "", "volcanic_eruption": False,
    "elsewhere_kind": None, "elsewhere_areas_ja": (),
}


def as_legacy(payload: AlertPayload) -> AlertPayload:
    """``payload`` as an old row holds it: the fields added since at their defaults."""
    added = {k: v for k, v in ADDED_SINCE_LEGACY.items() if hasattr(payload, k)}
    return replace(payload, **added)

@pytest.mark.parametrize(("name", "jur"), [
    ("32-35_04_04_240613_VXSE53.xml", JUR),
    ("32-35_01_01_100806_VXSE51.xml", JUR),
    ("32-39_12_02_250206_VTSE41.xml", JUR),
    ("32-39_12_08_250206_VTSE51.xml", JUR),
    ("15_08_01_130412_VPWW53.xml", replace(JUR, warning_area="2920100")),
    ("17_01_01_190529_VXWW50.xml", replace(JUR, municipality_codes=frozenset({"4010000"}))),
    ("45_02_01_200522_VFVO50.xml", JUR),
    ("67_01_01_140927_VFVO56.xml", JUR),
    ("handmade_VPOA50_kumamoto.xml", JUR),
])
def test_legacy_jma_rows_load_as_todays_parser_reads_the_same_document(
        name: str, jur: Jurisdiction) -> None:
    """tests/fixtures/legacy holds the params the code before typed payloads stored
    for these documents; reading them gives what the parser gives today, except the
    fields added since (JMA's comments, what is in force elsewhere), which such a row
    cannot hold and which load as their defaults."""
    row = LEGACY[name]
    loaded = payload_from_json(row["params"], kind=row["kind"], source=row["source"])
    assert loaded == as_legacy(jma(name, jur).payload)


def test_legacy_earthquake_details() -> None:
    row = LEGACY["32-35_04_04_240613_VXSE53.xml"]
    p = payload_from_json(row["params"], kind="earthquake", source="jma")
    assert isinstance(p, Earthquake)
    assert p.magnitude == 5.3  # stored as the text "5.3"
    assert p.hypocentre == Hypocentre(code="820", name_ja="大隅半島東方沖", lat=30.9,
                                      lon=131.1, depth_km=50)
    assert p.area_intensity == {"741": Intensity.ONE}
    quake = LEGACY["32-35_01_01_100806_VXSE51.xml"]["params"]
    assert payload_from_json(quake, kind="earthquake", source="jma").hypocentre is None  # type: ignore[union-attr]


def test_legacy_tsunami_height_over_ten_metres() -> None:
    params = json.loads(json.dumps(LEGACY["32-39_12_02_250206_VTSE41.xml"]["params"]))
    params["areas"][0] |= {"height_m": "10", "height_ja": "１０ｍ超"}
    p = payload_from_json(params, kind="tsunami", source="jma")
    assert isinstance(p, Tsunami)
    assert p.areas[0].height_m == 10.0 and p.areas[0].height_over is True
    assert p.areas[1].height_m is None and p.areas[1].height_over is False


def test_legacy_cap_row_keeps_what_it_stored() -> None:
    row = LEGACY["cap/canada.cap"]
    p = payload_from_json(row["params"], kind=row["kind"], source="cap")
    assert isinstance(p, Cap)
    [today] = parse_cap((FIX / "cap" / "canada.cap").read_bytes(), JUR)
    assert isinstance(today.payload, Cap)
    for field in ("event_key", "identifier", "sender", "sent", "status", "scope", "note",
                  "references_all", "event", "categories", "certainty", "sender_name",
                  "web"):
        assert getattr(p, field) == getattr(today.payload, field), field
    assert [i.language for i in p.infos] == ["en", "fr"]
    assert p.categories == (CapCategory.MET,) and p.certainty is CapCertainty.OBSERVED


def test_legacy_rss_row() -> None:
    row = LEGACY["rss/city_notices.rss"]
    p = payload_from_json(row["params"], kind=row["kind"], source=row["source"])
    [today, _] = parse_city_feed((FIX / "rss" / "city_notices.rss").read_bytes(),
                                 feed_name="city", jurisdiction=JUR)
    assert p == today.payload


@pytest.mark.parametrize(("kind", "params", "expected"), [
    ("evacuation", {"level": 4}, Evacuation(level=EvacuationLevel.EVACUATE)),
    ("evacuation", {"level": 5, "reason_ja": "誤って送信しました"},
     Evacuation(level=EvacuationLevel.EMERGENCY_SAFETY)),
    ("shelter", {"shelter_id": "00000264", "action": "opened"},
     Shelter(shelter_ids=("00000264",), action=ShelterAction.OPENED)),
    ("lifeline", {"utility": "gas"}, Lifeline(utility=Utility.GAS)),
    ("city_notice", {}, CityNotice()),
    ("drill", {}, FreeText()),
    ("earthquake", {}, FreeText()),  # typed at the CLI: no structured values
    ("other", {"reason_ja": "取消"}, FreeText()),
])
def test_legacy_staff_rows(kind: str, params: dict[str, Any], expected: AlertPayload) -> None:
    assert payload_from_json(params, kind=kind, source="cli") == expected


def test_stored_rows_round_trip_and_old_rows_load(engine: sa.Engine) -> None:
    samples = [jma("32-39_12_02_250206_VTSE41.xml"), jma("32-35_04_04_240613_VXSE53.xml"),
               *(staff_alert(k, p, source_id=f"staff-{n}") for n, (k, p) in STAFF.items())]
    [cap] = parse_cap((FIX / "cap" / "canada.cap").read_bytes(), JUR)
    samples.append(replace(cap, msg_type=MsgType.ALERT, references=None))
    with engine.begin() as conn:
        ids = [insert_alert(conn, a) for a in samples]
        row = LEGACY["32-35_04_04_240613_VXSE53.xml"]
        old_id = insert_alert(conn, replace(samples[1], source_id="old-row"))
        conn.execute(sa.update(alerts).where(alerts.c.id == old_id)
                     .values(params=row["params"]))
    with engine.connect() as conn:
        for alert_id, alert in zip(ids, samples, strict=True):
            assert get_alert(conn, alert_id).payload == alert.payload
        assert get_alert(conn, old_id).payload == as_legacy(samples[1].payload)
        # The store still finds an original by the payload's event key.
        found = find_original(conn, samples[0].payload.event_key)
        assert found is not None and found.id == ids[0]


# ------------------------------------------------------------------ strictness

@pytest.mark.parametrize(("build", "message"), [
    (lambda: Earthquake(magnitude="7.3"), "Earthquake.magnitude must be a finite number"),
    (lambda: Earthquake(magnitude=float("inf")), "must be a finite number"),
    (lambda: Earthquake(max_intensity="8"), "Earthquake.max_intensity: unknown seismic"),
    (lambda: Earthquake(ward_intensity={"43101": "5"}), r"ward_intensity\['43101'\].*ambig"),
    (lambda: Earthquake(origin_time="2016-04-16T01:25:00"), "must be timezone-aware"),
    (lambda: Earthquake(hypocentre={"depth_km": -1}), "must not be negative"),
    (lambda: TsunamiArea(code="712", kind="huge"), "TsunamiArea.kind: 'huge' is not one of"),
    (lambda: TsunamiArea.from_json({"kind": "warning"}), "TsunamiArea.code is required"),
    (lambda: TsunamiArea(code=None, kind=TsunamiKind.WARNING), "TsunamiArea.code is required"),
    (lambda: Volcano(level=6), "Volcano.level must be 1 to 5"),
    (lambda: Volcano(flash="yes"), "Volcano.flash must be true or false"),
    (lambda: Evacuation(level=2), "Evacuation.level: 2 is not one of 3, 4, 5"),
    (lambda: Evacuation(level=True), "Evacuation.level: True is not one of"),
    (lambda: Shelter(shelter_ids=(), action="opened"), "at least one shelter"),
    (lambda: Lifeline(utility="internet"), "'internet' is not one of"),
    (lambda: WeatherWarning(warnings=[{"code": "03"}]),
     r"WeatherWarning.warnings\[0\]: WarningItem.level is required"),
])
def test_wrong_values_are_a_clear_validation_error(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


def test_payload_json_problems_are_named() -> None:
    with pytest.raises(ValidationError, match="unknown payload type 'quake'"):
        payload_from_json({"payload": "quake"}, kind="earthquake", source="jma")
    with pytest.raises(ValidationError, match="must be a JSON object"):
        payload_from_json(["x"], kind="earthquake", source="jma")
    with pytest.raises(ValidationError, match="'tsunami' payload is not a 'earthquake'"):
        Earthquake.from_json({"payload": "tsunami"})
    # A key a newer version wrote is left out rather than refused.
    assert Earthquake.from_json({"payload": "earthquake", "future": 1}) == Earthquake()
    assert set(PAYLOAD_TYPES) == {"earthquake", "eew", "tsunami", "weather_warning", "landslide",
                                  "volcano", "heavy_rain", "typhoon", "evacuation", "shelter",
                                  "lifeline", "city_notice", "cap", "free_text",
                                  "megaquake", "long_period", "hypocentre_update",
                                  "seismic_activity", "offshore_tsunami", "safety_check"}


def test_an_alert_refuses_a_payload_of_another_kind() -> None:
    with pytest.raises(ValidationError, match="a Tsunami payload cannot carry kind "
                                              "'earthquake'"):
        staff_alert(Kind.EARTHQUAKE, Tsunami())
    with pytest.raises(ValidationError, match=r"payload must be one of bot\.domain\.payloads"):
        staff_alert(Kind.EARTHQUAKE, {"level": 4})  # type: ignore[arg-type]
    assert staff_alert(Kind.EEW, Earthquake()).kind is Kind.EEW
    assert staff_alert(Kind.TSUNAMI, FreeText()).payload == FreeText()
