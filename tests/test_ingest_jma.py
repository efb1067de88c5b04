"""JMA XML parsing: every official sample, and field-by-field checks of the earthquake
and tsunami reports (weather, landslide, volcano and heavy rain: test_ingest_jma_weather)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.config import load_config
from bot.domain import (
    EarlyWarning,
    Earthquake,
    EarthquakeReport,
    HeavyRain,
    Intensity,
    Kind,
    Landslide,
    MsgType,
    Severity,
    Tsunami,
    TsunamiArea,
    TsunamiKind,
    TsunamiOutlook,
    TsunamiReport,
    Typhoon,
    Urgency,
    Volcano,
    WeatherWarning,
)
from bot.errors import IngestError
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from tests.jma_helpers import ALL_WARDS, JMA, JST, load, one

# The seismic notices (megaquake, long-period, hypocentre update, activity, offshore
# tsunami) have their own payloads and tests: tests/test_ingest_jma_seis_notice.py.
NOTICE_TYPES = ("_VYSE5", "_VYSE60", "_VXSE61", "_VXSE62", "_VXSE56", "_VTSE52")
SAMPLES = sorted(p.name.removesuffix(".gz") for p in JMA.iterdir()
                 if p.name.endswith((".xml", ".xml.gz")) and not p.name.startswith("handmade")
                 and not any(t in p.name for t in NOTICE_TYPES))


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


def test_all_official_samples_are_present() -> None:
    # 160 of the first batch, 37 of the second (R06 warnings, VPOA50, VPRN50, typhoons),
    # and the earthquake early warnings (VXSE43/44/45)
    assert len(SAMPLES) == 230


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_parses_or_is_refused_with_a_reason(name: str, kumamoto: Jurisdiction
                                                          ) -> None:
    data = load(name)
    if "_VPRN50" in name:
        with pytest.raises(IngestError, match=r"refused JMA document type '大雨危険度通知' "
                                              r"\(VPRN50\): a nationwide snapshot"):
            parse_jma(data, kumamoto)
        return
    alerts = parse_jma(data, kumamoto)
    assert alerts
    type_code = name.rsplit("_", 1)[1].removesuffix(".xml")
    for a in alerts:
        assert a.source == "jma"
        assert a.issued.utcoffset() == timedelta(hours=9)
        assert a.payload.event_key is not None and a.payload.event_key.startswith("jma:")
        assert a.headline_ja
        eew = type_code in ("VXSE43", "VXSE44", "VXSE45")
        expected = {"VXSE": Kind.EEW if eew else Kind.EARTHQUAKE, "VTSE": Kind.TSUNAMI,
                    "VPWW": Kind.WEATHER_WARNING, "VXWW": Kind.LANDSLIDE, "VFVO": Kind.VOLCANO,
                    "VPOA": Kind.HEAVY_RAIN, "VPTA": Kind.WEATHER_WARNING,
                    "VPTW": Kind.WEATHER_WARNING}
        kind = Kind.LANDSLIDE if type_code == "VPWW56" else expected[type_code[:4]]
        assert a.kind is kind
        payloads = {Kind.EARTHQUAKE: Earthquake, Kind.TSUNAMI: Tsunami,
                    Kind.WEATHER_WARNING: WeatherWarning, Kind.LANDSLIDE: Landslide,
                    Kind.VOLCANO: Volcano, Kind.HEAVY_RAIN: HeavyRain, Kind.EEW: EarlyWarning}
        payload = (Typhoon if type_code[:4] in ("VPTA", "VPTW")
                   else WeatherWarning if type_code == "VPWW56" else payloads[a.kind])
        assert type(a.payload) is payload
        if a.msg_type is not MsgType.ALERT:
            assert a.references == a.payload.event_key


def test_source_ids_identify_documents(kumamoto: Jurisdiction) -> None:
    by_id: dict[str, list[str]] = {}
    for n in SAMPLES:
        if "_VPRN50" not in n:
            by_id.setdefault(parse_jma(load(n), kumamoto)[0].source_id, []).append(n)
    shared = sorted(names for names in by_id.values() if len(names) > 1)
    # VPWW53 and VPWW54 of one prefecture and time are the same information: one id.
    pairs = [names for names in shared if {n[-10:] for n in names} == {"VPWW53.xml",
                                                                       "VPWW54.xml"}]
    assert len(pairs) == 5
    # The JMA sample set also has variants of one scenario under one EventID/time.
    others = [names for names in shared if names not in pairs]
    # The second batch has two editions (2024-12 and 2025-06) of several R06 samples and
    # typhoon reports under one EventID/Serial: the same document for the ledger.
    assert others == [
        ["10_04_03_170913_VPTW60.xml", "10_04_04_170913_VPTW60.xml"],
        ["10_04_05_170913_VPTW60.xml", "10_04_06_170913_VPTW60.xml"],
        ["10_05_02_200826_VPTW60.xml", "10_05_03_200826_VPTW60.xml"],
        ["15_16_02_241031_VPWW57.xml", "15_16_02_250630_VPWW57.xml"],
        ["15_16_04_241226_VPWW58.xml", "15_16_04_250630_VPWW58.xml"],
        ["15_16_07_241226_VPWW61.xml", "15_16_07_250630_VPWW61.xml"],
        ["15_16_08_241226_VPWW57.xml", "15_16_08_250630_VPWW57.xml"],
        ["15_17_01_241226_VPWW55.xml", "15_17_01_250630_VPWW55.xml"],
        ["15_17_01_241226_VPWW56.xml", "15_17_01_250630_VPWW56.xml"],
        ["32-35_01_01_100806_VXSE51.xml", "32-35_07_01_100915_VXSE51.xml",
         "32-35_07_02_100915_VXSE51.xml", "32-35_07_03_100915_VXSE51.xml"],
        ["67_01_01_140927_VFVO56.xml", "67_01_02_140927_VFVO56.xml"],
    ]
    tsunami_info = [i for i, names in by_id.items() if "38-39_03_02_210805_VTSE51.xml" in names
                    or "38-39_03_03_210805_VTSE51.xml" in names]
    assert len(tsunami_info) == 2


# ----------------------------------------------------------------- earthquake

def test_vxse51_intensity_report(kumamoto: Jurisdiction) -> None:
    a = one("32-35_01_01_100806_VXSE51.xml", kumamoto)
    assert a.source_id == "20090811050711:震度速報:20090811T050900:発表"
    assert a.kind is Kind.EARTHQUAKE and a.msg_type is MsgType.ALERT
    assert a.issued == datetime(2009, 8, 11, 5, 9, tzinfo=JST)
    assert a.headline_ja.startswith("１１日０５時０７分ころ、地震による強い揺れを感じました。")
    p = a.payload
    assert isinstance(p, Earthquake)
    assert p.report is EarthquakeReport.INTENSITY
    assert p.event_key == "jma:震度速報:20090811050711"
    assert p.max_intensity is Intensity.SIX_LOWER
    assert p.origin_time == datetime(2009, 8, 11, 5, 7, tzinfo=JST)
    assert p.hypocentre is None and p.magnitude is None
    assert p.ward_intensity == {} and p.local_max_intensity is None
    assert a.severity is Severity.EXTREME  # 6弱, judged on the overall maximum here
    assert a.in_jurisdiction is False and a.wards == () and a.test is False


def test_vxse52_epicenter_report_is_a_drill(kumamoto: Jurisdiction) -> None:
    a = one("32-35_01_02_240613_VXSE52.xml", kumamoto)
    p = a.payload
    assert isinstance(p, Earthquake) and p.hypocentre is not None
    assert a.test is True  # Control/Status 訓練
    assert p.report is EarthquakeReport.EPICENTER
    assert p.hypocentre.code == "485" and p.hypocentre.name_ja == "駿河湾"
    assert p.magnitude == 6.6 and p.magnitude_ja == "Ｍ６．６"
    assert p.hypocentre.depth_km == 10
    assert p.origin_time == datetime(2009, 10, 1, 13, 45, tzinfo=JST)
    assert p.tsunami is TsunamiOutlook.NONE  # old code 0203 with 津波の心配はありません
    assert p.tsunami_comment_ja == "この地震による津波の心配はありません。"
    assert "駿河湾" in a.body_ja and "6.6" in a.body_ja
    assert a.in_jurisdiction is False


def test_vxse53_felt_in_kumamoto(kumamoto: Jurisdiction) -> None:
    a = one("32-35_04_04_240613_VXSE53.xml", kumamoto)
    p = a.payload
    assert isinstance(p, Earthquake) and p.hypocentre is not None
    assert a.source_id == "20100125161517:地震情報:1:発表:震源・震度情報"
    assert p.report is EarthquakeReport.EPICENTER_INTENSITY
    assert p.hypocentre.code == "820" and p.hypocentre.name_ja == "大隅半島東方沖"
    assert p.magnitude == 5.3 and p.hypocentre.depth_km == 50
    assert p.max_intensity is Intensity.FOUR
    # 2010: 熊本市 was one municipality (4320100), before its wards existed
    assert p.ward_intensity == {}
    assert p.city_intensity is Intensity.ONE
    assert p.area_intensity == {"741": Intensity.ONE}
    assert p.local_max_intensity is Intensity.ONE
    assert p.pref_intensity is Intensity.TWO
    assert p.tsunami is TsunamiOutlook.NONE
    assert a.in_jurisdiction is True and a.wards == ALL_WARDS
    assert a.severity is Severity.MINOR and a.urgency is Urgency.PAST


def test_vxse53_ward_intensity_maps_jma_city_codes_to_jis(kumamoto: Jurisdiction) -> None:
    # The same real report, with 熊本市 written the way current reports write wards.
    data = load("32-35_04_04_240613_VXSE53.xml").replace(
        "<City><Name>熊本市</Name><Code>4320100</Code><MaxInt>1</MaxInt>".encode(),
        "<City><Name>熊本中央区</Name><Code>4310100</Code><MaxInt>5+</MaxInt>".encode())
    a = parse_jma(data, kumamoto)[0]
    assert isinstance(a.payload, Earthquake)
    assert a.payload.ward_intensity == {"43101": Intensity.FIVE_UPPER}
    assert a.payload.city_intensity is Intensity.FIVE_UPPER
    assert a.payload.local_max_intensity is Intensity.FIVE_UPPER
    assert a.wards == ("43101",)
    assert "4310100" in a.areas
    assert a.severity is Severity.SEVERE and a.urgency is Urgency.IMMEDIATE
    assert "中央区震度5強" in a.body_ja


def test_vxse53_far_away_earthquake_is_out_of_jurisdiction(kumamoto: Jurisdiction) -> None:
    a = one("32-39_05_01_100831_VXSE53.xml", kumamoto)
    assert a.in_jurisdiction is False
    assert isinstance(a.payload, Earthquake)
    assert a.payload.tsunami in set(TsunamiOutlook)


@pytest.mark.parametrize(("name", "key"), [
    ("32-35_10_01_220510_VXSE51.xml", "jma:震度速報:20220509152315"),
    ("32-35_06_02_100915_VXSE52.xml", None),
    ("32-35_06_06_100915_VXSE53.xml", None),
])
def test_earthquake_cancellations(name: str, key: str | None, kumamoto: Jurisdiction) -> None:
    a = one(name, kumamoto)
    assert a.msg_type is MsgType.CANCEL
    assert a.references == a.payload.event_key
    if key:
        assert a.references == key
    assert "取り消" in a.headline_ja
    assert a.severity is Severity.MINOR
    assert a.in_jurisdiction is True  # the store follows the original


# -------------------------------------------------------------------- tsunami

def test_vtse41_tsunami_warning_for_kumamoto_coasts(kumamoto: Jurisdiction) -> None:
    a = one("32-39_12_02_250206_VTSE41.xml", kumamoto)
    assert a.kind is Kind.TSUNAMI and a.test is True
    assert a.areas == ("712", "740")
    p = a.payload
    assert isinstance(p, Tsunami)
    assert p.report is TsunamiReport.WARNING
    assert p.event_key == "jma:津波警報・注意報・予報:20160901071000"
    assert p.all_areas_count == 66
    assert p.local_kind is TsunamiKind.WARNING and p.highest_kind is TsunamiKind.MAJOR_WARNING
    ariake, amakusa = p.areas
    assert ariake == TsunamiArea(code="712", name_ja="有明・八代海", kind=TsunamiKind.WARNING,
                                 kind_code="51", kind_name_ja="津波警報",
                                 last_kind=TsunamiKind.NONE,
                                 first_arrival=datetime(2016, 9, 1, 9, 0, tzinfo=JST),
                                 arrival_condition_ja=None, height_m=None, height_ja="高い")
    assert amakusa.code == "740"
    assert amakusa.first_arrival == datetime(2016, 9, 1, 8, 50, tzinfo=JST)
    assert p.magnitude is None and p.magnitude_ja == "Ｍ８を超える巨大地震"
    assert a.severity is Severity.SEVERE and a.urgency is Urgency.IMMEDIATE
    assert a.in_jurisdiction is True and a.wards == ALL_WARDS


def test_vtse41_major_warning_elsewhere_slight_change_here(kumamoto: Jurisdiction) -> None:
    a = one("32-39_11_02_250206_VTSE41.xml", kumamoto)
    p = a.payload
    assert isinstance(p, Tsunami)
    assert [x.kind for x in p.areas] == [TsunamiKind.FORECAST, TsunamiKind.FORECAST]
    assert p.highest_kind is TsunamiKind.MAJOR_WARNING
    assert a.severity is Severity.MINOR
    assert a.in_jurisdiction is True  # 若干の海面変動 on our coasts: an operator decides


def test_vtse41_valid_date_time_becomes_expires(kumamoto: Jurisdiction) -> None:
    a = one("32-39_11_13_250206_VTSE41.xml", kumamoto)
    assert a.expires == datetime(2011, 3, 14, 18, 0, tzinfo=JST)


def test_vtse51_tsunami_information_heights(kumamoto: Jurisdiction) -> None:
    a = one("32-39_12_08_250206_VTSE51.xml", kumamoto)
    p = a.payload
    assert isinstance(p, Tsunami)
    assert p.report is TsunamiReport.INFORMATION
    assert a.source_id == ("20160901071000:津波情報:3:発表:"
                           "各地の満潮時刻・津波到達予想時刻に関する情報")
    assert [(x.code, x.height_m, x.height_over, x.height_ja) for x in p.areas] == [
        ("712", 3.0, False, "３ｍ"), ("740", 3.0, False, "３ｍ")]
    assert p.magnitude == 9.1
    assert "有明・八代海" in a.body_ja and "３ｍ" in a.body_ja


def test_tsunami_cancellation(kumamoto: Jurisdiction) -> None:
    a = one("38-39_03_01_210805_VTSE41.xml", kumamoto)
    assert a.msg_type is MsgType.CANCEL
    assert a.references == "jma:津波警報・注意報・予報:20210805103531"
    assert a.headline_ja == "津波注意報を取り消します。"
    assert a.body_ja == "先ほどの、津波注意報を取り消します。"


# --------------------------------------------------------------------- errors

def test_not_a_jma_report(kumamoto: Jurisdiction) -> None:
    with pytest.raises(IngestError, match="not a JMA report"):
        parse_jma(b"<Report><Control/></Report>", kumamoto)


def test_unknown_info_type(kumamoto: Jurisdiction) -> None:
    data = load("32-35_01_01_100806_VXSE51.xml").replace(
        "<InfoType>発表</InfoType>".encode(), "<InfoType>遅延</InfoType>".encode())
    with pytest.raises(IngestError, match="unknown InfoType"):
        parse_jma(data, kumamoto)


def test_missing_report_time(kumamoto: Jurisdiction) -> None:
    data = load("32-35_01_01_100806_VXSE51.xml").replace(
        b"<ReportDateTime>2009-08-11T05:09:00+09:00</ReportDateTime>", b"")
    with pytest.raises(IngestError, match="ReportDateTime"):
        parse_jma(data, kumamoto)
