"""JMA XML parsing: every official sample, and field-by-field checks per report type."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.config import load_config
from bot.domain import Kind, MsgType, Severity, Urgency
from bot.errors import IngestError
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction

JMA = Path(__file__).resolve().parent / "fixtures" / "jma"
JST = timezone(timedelta(hours=9))
ALL_WARDS = ("43101", "43102", "43103", "43104", "43105")
SAMPLES = sorted(p.name.removesuffix(".gz") for p in JMA.iterdir()
                 if p.name.endswith((".xml", ".xml.gz")) and not p.name.startswith("handmade"))


def load(name: str) -> bytes:
    plain = JMA / name
    if plain.exists():
        return plain.read_bytes()
    return gzip.decompress((JMA / f"{name}.gz").read_bytes())


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


def one(name: str, jur: Jurisdiction):  # type: ignore[no-untyped-def]
    alerts = parse_jma(load(name), jur)
    assert len(alerts) == 1
    return alerts[0]


def test_all_160_official_samples_are_present() -> None:
    assert len(SAMPLES) == 160


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_parses_or_is_refused_with_a_reason(name: str, kumamoto: Jurisdiction
                                                          ) -> None:
    data = load(name)
    if "_VXSE43" in name or "_VXSE45" in name:
        with pytest.raises(IngestError, match="unsupported JMA document type '緊急地震速報"):
            parse_jma(data, kumamoto)
        return
    alerts = parse_jma(data, kumamoto)
    assert alerts
    for a in alerts:
        assert a.source == "jma"
        assert a.issued.utcoffset() == timedelta(hours=9)
        assert a.params["event_key"].startswith("jma:")
        assert a.headline_ja
        expected = {"VXSE": Kind.EARTHQUAKE, "VTSE": Kind.TSUNAMI, "VPWW": Kind.WEATHER_WARNING,
                    "VXWW": Kind.LANDSLIDE, "VFVO": Kind.VOLCANO}
        assert a.kind is expected[name.rsplit("_", 1)[1][:4]]
        if a.msg_type is not MsgType.ALERT:
            assert a.references == a.params["event_key"]


def test_source_ids_identify_documents(kumamoto: Jurisdiction) -> None:
    by_id: dict[str, list[str]] = {}
    for n in SAMPLES:
        if "_VXSE43" not in n and "_VXSE45" not in n:
            by_id.setdefault(parse_jma(load(n), kumamoto)[0].source_id, []).append(n)
    shared = sorted(names for names in by_id.values() if len(names) > 1)
    # VPWW53 and VPWW54 of one prefecture and time are the same information: one id.
    pairs = [names for names in shared if {n[-10:] for n in names} == {"VPWW53.xml",
                                                                       "VPWW54.xml"}]
    assert len(pairs) == 5
    # The JMA sample set also has variants of one scenario under one EventID/time.
    others = [names for names in shared if names not in pairs]
    assert others == [
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
    p = a.params
    assert p["info_kind"] == "intensity"
    assert p["event_key"] == "jma:震度速報:20090811050711"
    assert p["max_intensity"] == "6-"
    assert p["origin_time"] == "2009-08-11T05:07:00+09:00"
    assert p["epicenter_code"] is None and p["magnitude"] is None
    assert p["ward_intensity"] == {} and p["local_max_intensity"] is None
    assert a.severity is Severity.EXTREME  # 6弱, judged on the overall maximum here
    assert a.in_jurisdiction is False and a.wards == () and a.test is False


def test_vxse52_epicenter_report_is_a_drill(kumamoto: Jurisdiction) -> None:
    a = one("32-35_01_02_240613_VXSE52.xml", kumamoto)
    p = a.params
    assert a.test is True  # Control/Status 訓練
    assert p["info_kind"] == "epicenter"
    assert p["epicenter_code"] == "485" and p["epicenter_name_ja"] == "駿河湾"
    assert p["magnitude"] == "6.6" and p["magnitude_ja"] == "Ｍ６．６"
    assert p["depth_km"] == 10
    assert p["origin_time"] == "2009-10-01T13:45:00+09:00"
    assert p["tsunami"] == "none"  # old code 0203 with 津波の心配はありません
    assert p["tsunami_comment_ja"] == "この地震による津波の心配はありません。"
    assert "駿河湾" in a.body_ja and "6.6" in a.body_ja
    assert a.in_jurisdiction is False


def test_vxse53_felt_in_kumamoto(kumamoto: Jurisdiction) -> None:
    a = one("32-35_04_04_240613_VXSE53.xml", kumamoto)
    p = a.params
    assert a.source_id == "20100125161517:地震情報:1:発表:震源・震度情報"
    assert p["info_kind"] == "epicenter_intensity"
    assert p["epicenter_code"] == "820" and p["epicenter_name_ja"] == "大隅半島東方沖"
    assert p["magnitude"] == "5.3" and p["depth_km"] == 50
    assert p["max_intensity"] == "4"
    # 2010: 熊本市 was one municipality (4320100), before its wards existed
    assert p["ward_intensity"] == {}
    assert p["city_intensity"] == "1"
    assert p["area_intensity"] == {"741": "1"}
    assert p["local_max_intensity"] == "1"
    assert p["pref_intensity"] == "2"
    assert p["tsunami"] == "none"
    assert a.in_jurisdiction is True and a.wards == ALL_WARDS
    assert a.severity is Severity.MINOR and a.urgency is Urgency.PAST


def test_vxse53_ward_intensity_maps_jma_city_codes_to_jis(kumamoto: Jurisdiction) -> None:
    # The same real report, with 熊本市 written the way current reports write wards.
    data = load("32-35_04_04_240613_VXSE53.xml").replace(
        "<City><Name>熊本市</Name><Code>4320100</Code><MaxInt>1</MaxInt>".encode(),
        "<City><Name>熊本中央区</Name><Code>4310100</Code><MaxInt>5+</MaxInt>".encode())
    a = parse_jma(data, kumamoto)[0]
    assert a.params["ward_intensity"] == {"43101": "5+"}
    assert a.params["city_intensity"] == "5+"
    assert a.params["local_max_intensity"] == "5+"
    assert a.wards == ("43101",)
    assert "4310100" in a.areas
    assert a.severity is Severity.SEVERE and a.urgency is Urgency.IMMEDIATE
    assert "中央区震度5強" in a.body_ja


def test_vxse53_far_away_earthquake_is_out_of_jurisdiction(kumamoto: Jurisdiction) -> None:
    a = one("32-39_05_01_100831_VXSE53.xml", kumamoto)
    assert a.in_jurisdiction is False
    assert a.params["tsunami"] in ("none", "slight", "possible", "unknown", "warning")


@pytest.mark.parametrize(("name", "key"), [
    ("32-35_10_01_220510_VXSE51.xml", "jma:震度速報:20220509152315"),
    ("32-35_06_02_100915_VXSE52.xml", None),
    ("32-35_06_06_100915_VXSE53.xml", None),
])
def test_earthquake_cancellations(name: str, key: str | None, kumamoto: Jurisdiction) -> None:
    a = one(name, kumamoto)
    assert a.msg_type is MsgType.CANCEL
    assert a.references == a.params["event_key"]
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
    p = a.params
    assert p["info_kind"] == "warning"
    assert p["event_key"] == "jma:津波警報・注意報・予報:20160901071000"
    assert p["all_areas_count"] == 66
    assert p["local_kind"] == "warning" and p["highest_kind"] == "major_warning"
    ariake, amakusa = p["areas"]
    assert ariake == {"code": "712", "name_ja": "有明・八代海", "kind": "warning",
                      "kind_code": "51", "kind_name_ja": "津波警報", "last_kind": "none",
                      "first_arrival": "2016-09-01T09:00:00+09:00",
                      "arrival_condition_ja": None, "height_m": None, "height_ja": "高い"}
    assert amakusa["code"] == "740" and amakusa["first_arrival"] == "2016-09-01T08:50:00+09:00"
    assert p["magnitude"] is None and p["magnitude_ja"] == "Ｍ８を超える巨大地震"
    assert a.severity is Severity.SEVERE and a.urgency is Urgency.IMMEDIATE
    assert a.in_jurisdiction is True and a.wards == ALL_WARDS


def test_vtse41_major_warning_elsewhere_slight_change_here(kumamoto: Jurisdiction) -> None:
    a = one("32-39_11_02_250206_VTSE41.xml", kumamoto)
    p = a.params
    assert [x["kind"] for x in p["areas"]] == ["forecast", "forecast"]
    assert p["highest_kind"] == "major_warning"
    assert a.severity is Severity.MINOR
    assert a.in_jurisdiction is True  # 若干の海面変動 on our coasts: an operator decides


def test_vtse41_valid_date_time_becomes_expires(kumamoto: Jurisdiction) -> None:
    a = one("32-39_11_13_250206_VTSE41.xml", kumamoto)
    assert a.expires == datetime(2011, 3, 14, 18, 0, tzinfo=JST)


def test_vtse51_tsunami_information_heights(kumamoto: Jurisdiction) -> None:
    a = one("32-39_12_08_250206_VTSE51.xml", kumamoto)
    p = a.params
    assert p["info_kind"] == "information"
    assert a.source_id == ("20160901071000:津波情報:3:発表:"
                           "各地の満潮時刻・津波到達予想時刻に関する情報")
    assert [(x["code"], x["height_m"], x["height_ja"]) for x in p["areas"]] == [
        ("712", "3", "３ｍ"), ("740", "3", "３ｍ")]
    assert p["magnitude"] == "9.1"
    assert "有明・八代海" in a.body_ja and "３ｍ" in a.body_ja


def test_tsunami_cancellation(kumamoto: Jurisdiction) -> None:
    a = one("38-39_03_01_210805_VTSE41.xml", kumamoto)
    assert a.msg_type is MsgType.CANCEL
    assert a.references == "jma:津波警報・注意報・予報:20210805103531"
    assert a.headline_ja == "津波注意報を取り消します。"
    assert a.body_ja == "先ほどの、津波注意報を取り消します。"


# ------------------------------------------------------------ weather warning

def test_vpww53_emergency_warning_for_the_city_area(kumamoto: Jurisdiction) -> None:
    nara = replace(kumamoto, warning_area="2920100")  # the real sample is for 奈良市
    a = one("15_08_01_130412_VPWW53.xml", nara)
    p = a.params
    assert a.kind is Kind.WEATHER_WARNING
    assert a.source_id == "奈良県気象警報・注意報:気象警報・注意報:20110903T120000:発表"
    assert p["event_key"] == "jma:気象警報・注意報:奈良県気象警報・注意報"
    assert p["area_code"] == "2920100" and p["area_name_ja"] == "奈良市"
    assert p["warnings"][0] == {"code": "33", "name_ja": "大雨特別警報", "level": "emergency",
                                "status": "issued", "status_ja": "発表", "previous_level": None}
    assert {(w["name_ja"], w["level"], w["status"]) for w in p["warnings"][1:]} == {
        ("雷注意報", "advisory", "continued"), ("強風注意報", "advisory", "continued"),
        ("洪水注意報", "advisory", "continued")}
    assert p["changed"] is True
    assert a.severity is Severity.EXTREME and a.urgency is Urgency.IMMEDIATE
    assert a.in_jurisdiction is True and a.wards == ALL_WARDS and a.areas == ("2920100",)


def test_vpww53_downgrade_and_lift(kumamoto: Jurisdiction) -> None:
    nara = replace(kumamoto, warning_area="2920100")
    seen = set()
    for name in ("15_08_02_130412_VPWW53.xml", "15_08_03_160628_VPWW53.xml",
                 "15_08_04_160628_VPWW53.xml", "15_08_05_130412_VPWW53.xml"):
        for w in one(name, nara).params["warnings"]:
            seen.add((w["status"], w["previous_level"]))
    assert ("lifted", None) in seen
    assert any(status == "downgraded" and prev == "emergency" for status, prev in seen)
    lifted = one("15_08_05_130412_VPWW53.xml", nara)
    assert lifted.params["warnings"] == [{"code": "10", "name_ja": "大雨注意報",
                                         "level": "advisory", "status": "lifted",
                                         "status_ja": "解除", "previous_level": None}]
    assert lifted.severity is Severity.MINOR


def test_vpww54_h27_format(kumamoto: Jurisdiction) -> None:
    aizumi = replace(kumamoto, warning_area="3640300")
    a = one("15_15_01_220314_VPWW54.xml", aizumi)
    assert a.params["warnings"] == [{"code": "08", "name_ja": "高潮警報", "level": "warning",
                                     "status": "issued", "status_ja": "発表",
                                     "previous_level": None}]
    assert a.severity is Severity.SEVERE


def test_weather_report_for_another_prefecture_is_not_ours(kumamoto: Jurisdiction) -> None:
    a = one("15_15_01_220314_VPWW54.xml", kumamoto)
    assert a.in_jurisdiction is False and a.params["warnings"] == [] and a.wards == ()


# ------------------------------------------------------------------ landslide

def test_vxww50_landslide_alert(kumamoto: Jurisdiction) -> None:
    kitakyushu = replace(kumamoto, municipality_codes=frozenset({"4010000"}))
    a = one("17_01_01_190529_VXWW50.xml", kitakyushu)
    p = a.params
    assert a.kind is Kind.LANDSLIDE
    assert a.source_id == "福岡県土砂災害警戒情報:土砂災害警戒情報:5:発表"
    assert p["status"] == "continued" and p["changed"] is False
    assert p["municipality_codes"] == ["4010000"]
    assert p["municipality_names_ja"] == ["北九州市"]
    assert p["target_area_ja"] == "福岡県"
    assert p["text_ja"].startswith("＜概況＞")
    assert a.severity is Severity.SEVERE and a.in_jurisdiction is True
    fukuoka = replace(kumamoto, municipality_codes=frozenset({"4013000"}))
    assert one("17_01_01_190529_VXWW50.xml", fukuoka).params["status"] == "lifted"
    assert one("17_01_01_190529_VXWW50.xml", kumamoto).in_jurisdiction is False


# -------------------------------------------------------------------- volcano

def test_vfvo50_level_5(kumamoto: Jurisdiction) -> None:
    hakone = replace(kumamoto, volcano_codes=frozenset({"315"}))
    a = one("45_02_01_200522_VFVO50.xml", hakone)
    p = a.params
    assert a.kind is Kind.VOLCANO
    assert p["volcano_code"] == "315" and p["volcano_name_ja"] == "箱根山"
    assert p["level"] == 5 and p["previous_level"] == 1
    assert p["warning_code"] == "01" and p["warning_name_ja"] == "噴火警報"
    assert p["flash"] is False and p["status"] == "raised"
    assert a.severity is Severity.EXTREME and a.urgency is Urgency.IMMEDIATE
    assert a.in_jurisdiction is True
    assert one("45_02_01_200522_VFVO50.xml", kumamoto).in_jurisdiction is False


def test_vfvo50_level_3_and_lifted(kumamoto: Jurisdiction) -> None:
    asama = one("45_01_01_200522_VFVO50.xml", kumamoto)
    assert asama.params["level"] == 3 and asama.params["warning_name_ja"] == "火口周辺警報"
    assert asama.severity is Severity.SEVERE
    lifted = one("45_03_01_200731_VFVO50.xml", kumamoto)
    assert lifted.params["status"] == "lifted" and lifted.params["level"] == 1
    assert lifted.severity is Severity.MINOR


def test_vfvo56_eruption_flash_correction_and_cancel(kumamoto: Jurisdiction) -> None:
    ontake = replace(kumamoto, volcano_codes=frozenset({"312"}))
    flash = one("67_01_01_140927_VFVO56.xml", ontake)
    assert flash.params["flash"] is True and flash.params["volcano_code"] == "312"
    assert flash.params["event_time"] == "2014-09-27T11:53:00+09:00"
    assert flash.urgency is Urgency.IMMEDIATE and flash.in_jurisdiction is True
    fix = one("67_01_03_140927_VFVO56.xml", ontake)
    assert fix.msg_type is MsgType.UPDATE
    assert fix.references == flash.params["event_key"] == "jma:噴火速報:20140927120000_312"
    assert fix.params["event_time"] == "2014-09-27T11:52:00+09:00"
    cancel = one("67_01_04_140927_VFVO56.xml", ontake)
    assert cancel.msg_type is MsgType.CANCEL
    assert cancel.references == flash.params["event_key"]
    assert cancel.params["volcano_code"] == "312" and cancel.params["volcano_name_ja"] == "御嶽山"
    assert len({flash.source_id, fix.source_id, cancel.source_id}) == 3


# ----------------------------------------------------------------- heavy rain

def test_vpoa50_handmade_kumamoto(kumamoto: Jurisdiction) -> None:
    a = parse_jma((JMA / "handmade_VPOA50_kumamoto.xml").read_bytes(), kumamoto)[0]
    assert a.kind is Kind.HEAVY_RAIN
    assert a.headline_ja == "２２時熊本県記録的短時間大雨情報　熊本市北区付近で約１２０ミリ"
    assert a.params["info_kind"] == "heavy_rain"
    assert a.params["amounts"] == [{"area_name_ja": "熊本市北区付近", "code": "4310000",
                                    "time": "2016-06-20T22:00:00+09:00", "amount_mm": 120.0,
                                    "amount_ja": "約１２０ミリ", "type_ja": "１時間降水量"}]
    assert a.in_jurisdiction is True and a.wards == ("43105",)
    assert a.severity is Severity.SEVERE


def test_vpoa50_elsewhere(kumamoto: Jurisdiction) -> None:
    a = parse_jma((JMA / "handmade_VPOA50_aso.xml").read_bytes(), kumamoto)[0]
    assert a.in_jurisdiction is False and a.wards == ()


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
