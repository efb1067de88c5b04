"""JMA XML parsing, field by field: weather warnings, landslide alerts, volcanic
warnings and record short-term heavy rain."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from bot.config import load_config
from bot.domain import (
    HeavyRain,
    Kind,
    Landslide,
    LandslideStatus,
    MsgType,
    RainAmount,
    Severity,
    Urgency,
    Volcano,
    VolcanoStatus,
    WarningItem,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from tests.jma_helpers import ALL_WARDS, JMA, JST, one


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


# ------------------------------------------------------------ weather warning

def test_vpww53_emergency_warning_for_the_city_area(kumamoto: Jurisdiction) -> None:
    nara = replace(kumamoto, warning_area="2920100")  # the real sample is for 奈良市
    a = one("15_08_01_130412_VPWW53.xml", nara)
    p = a.payload
    assert isinstance(p, WeatherWarning)
    assert a.kind is Kind.WEATHER_WARNING
    assert a.source_id == "奈良県気象警報・注意報:気象警報・注意報:20110903T120000:発表"
    assert p.event_key == "jma:気象警報・注意報:奈良県気象警報・注意報"
    assert p.area_code == "2920100" and p.area_name_ja == "奈良市"
    assert p.warnings[0] == WarningItem(code="33", name_ja="大雨特別警報",
                                        level=WarningLevel.EMERGENCY, status=WarningStatus.ISSUED,
                                        status_ja="発表", previous_level=None)
    assert {(w.name_ja, w.level, w.status) for w in p.warnings[1:]} == {
        ("雷注意報", "advisory", "continued"), ("強風注意報", "advisory", "continued"),
        ("洪水注意報", "advisory", "continued")}
    assert p.changed is True
    assert a.severity is Severity.EXTREME and a.urgency is Urgency.IMMEDIATE
    assert a.in_jurisdiction is True and a.wards == ALL_WARDS and a.areas == ("2920100",)


def test_vpww53_downgrade_and_lift(kumamoto: Jurisdiction) -> None:
    nara = replace(kumamoto, warning_area="2920100")
    seen = set()
    for name in ("15_08_02_130412_VPWW53.xml", "15_08_03_160628_VPWW53.xml",
                 "15_08_04_160628_VPWW53.xml", "15_08_05_130412_VPWW53.xml"):
        for w in one(name, nara).payload.warnings:
            seen.add((w.status, w.previous_level))
    assert ("lifted", None) in seen
    assert any(status == "downgraded" and prev == "emergency" for status, prev in seen)
    lifted = one("15_08_05_130412_VPWW53.xml", nara)
    assert lifted.payload.warnings == (WarningItem(
        code="10", name_ja="大雨注意報", level=WarningLevel.ADVISORY,
        status=WarningStatus.LIFTED, status_ja="解除", previous_level=None),)
    assert lifted.severity is Severity.MINOR


def test_vpww54_h27_format(kumamoto: Jurisdiction) -> None:
    aizumi = replace(kumamoto, warning_area="3640300")
    a = one("15_15_01_220314_VPWW54.xml", aizumi)
    assert a.payload.warnings == (WarningItem(
        code="08", name_ja="高潮警報", level=WarningLevel.WARNING, status=WarningStatus.ISSUED,
        status_ja="発表", previous_level=None),)
    assert a.severity is Severity.SEVERE


def test_weather_report_for_another_prefecture_is_not_ours(kumamoto: Jurisdiction) -> None:
    a = one("15_15_01_220314_VPWW54.xml", kumamoto)
    assert isinstance(a.payload, WeatherWarning)
    assert a.in_jurisdiction is False and a.payload.warnings == () and a.wards == ()


# ------------------------------------------------------------------ landslide

def test_vxww50_landslide_alert(kumamoto: Jurisdiction) -> None:
    kitakyushu = replace(kumamoto, municipality_codes=frozenset({"4010000"}))
    a = one("17_01_01_190529_VXWW50.xml", kitakyushu)
    p = a.payload
    assert isinstance(p, Landslide)
    assert a.kind is Kind.LANDSLIDE
    assert a.source_id == "福岡県土砂災害警戒情報:土砂災害警戒情報:5:発表"
    assert p.status is LandslideStatus.CONTINUED and p.changed is False
    assert p.municipality_codes == ("4010000",)
    assert p.municipality_names_ja == ("北九州市",)
    assert p.target_area_ja == "福岡県"
    assert p.text_ja.startswith("＜概況＞")
    assert a.severity is Severity.SEVERE and a.in_jurisdiction is True
    fukuoka = replace(kumamoto, municipality_codes=frozenset({"4013000"}))
    assert one("17_01_01_190529_VXWW50.xml", fukuoka).payload.status is LandslideStatus.LIFTED
    assert one("17_01_01_190529_VXWW50.xml", kumamoto).in_jurisdiction is False


# -------------------------------------------------------------------- volcano

def test_vfvo50_level_5(kumamoto: Jurisdiction) -> None:
    hakone = replace(kumamoto, volcano_codes=frozenset({"315"}))
    a = one("45_02_01_200522_VFVO50.xml", hakone)
    p = a.payload
    assert isinstance(p, Volcano)
    assert a.kind is Kind.VOLCANO
    assert p.volcano_code == "315" and p.volcano_name_ja == "箱根山"
    assert p.level == 5 and p.previous_level == 1
    assert p.warning_code == "01" and p.warning_name_ja == "噴火警報"
    assert p.flash is False and p.status is VolcanoStatus.RAISED
    assert a.severity is Severity.EXTREME and a.urgency is Urgency.IMMEDIATE
    assert a.in_jurisdiction is True
    assert one("45_02_01_200522_VFVO50.xml", kumamoto).in_jurisdiction is False


def test_vfvo50_level_3_and_lifted(kumamoto: Jurisdiction) -> None:
    asama = one("45_01_01_200522_VFVO50.xml", kumamoto)
    assert asama.payload.level == 3 and asama.payload.warning_name_ja == "火口周辺警報"
    assert asama.severity is Severity.SEVERE
    lifted = one("45_03_01_200731_VFVO50.xml", kumamoto)
    assert lifted.payload.status is VolcanoStatus.LIFTED and lifted.payload.level == 1
    assert lifted.severity is Severity.MINOR


def test_vfvo56_eruption_flash_correction_and_cancel(kumamoto: Jurisdiction) -> None:
    ontake = replace(kumamoto, volcano_codes=frozenset({"312"}))
    flash = one("67_01_01_140927_VFVO56.xml", ontake)
    assert flash.payload.flash is True and flash.payload.volcano_code == "312"
    assert flash.payload.event_time == datetime(2014, 9, 27, 11, 53, tzinfo=JST)
    assert flash.urgency is Urgency.IMMEDIATE and flash.in_jurisdiction is True
    fix = one("67_01_03_140927_VFVO56.xml", ontake)
    assert fix.msg_type is MsgType.UPDATE
    assert fix.references == flash.payload.event_key == "jma:噴火速報:20140927120000_312"
    assert fix.payload.event_time == datetime(2014, 9, 27, 11, 52, tzinfo=JST)
    cancel = one("67_01_04_140927_VFVO56.xml", ontake)
    assert cancel.msg_type is MsgType.CANCEL
    assert cancel.references == flash.payload.event_key
    assert cancel.payload.volcano_code == "312" and cancel.payload.volcano_name_ja == "御嶽山"
    assert len({flash.source_id, fix.source_id, cancel.source_id}) == 3


# ----------------------------------------------------------------- heavy rain

def test_vpoa50_handmade_kumamoto(kumamoto: Jurisdiction) -> None:
    a = parse_jma((JMA / "handmade_VPOA50_kumamoto.xml").read_bytes(), kumamoto)[0]
    assert a.kind is Kind.HEAVY_RAIN
    assert a.headline_ja == "２２時熊本県記録的短時間大雨情報　熊本市北区付近で約１２０ミリ"
    assert isinstance(a.payload, HeavyRain)
    assert a.payload.amounts == (RainAmount(
        area_name_ja="熊本市北区付近", code="4310000",
        time=datetime(2016, 6, 20, 22, 0, tzinfo=JST), amount_mm=120.0,
        amount_ja="約１２０ミリ", type_ja="１時間降水量"),)
    assert a.in_jurisdiction is True and a.wards == ("43105",)
    assert a.severity is Severity.SEVERE


def test_vpoa50_elsewhere(kumamoto: Jurisdiction) -> None:
    a = parse_jma((JMA / "handmade_VPOA50_aso.xml").read_bytes(), kumamoto)[0]
    assert a.in_jurisdiction is False and a.wards == ()
