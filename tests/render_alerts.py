"""Alerts of every kind for the rendering tests, built with the typed payloads."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from bot.domain import (
    Alert,
    AlertPayload,
    Cap,
    CapInfo,
    CapScope,
    CapStatus,
    CityNotice,
    Earthquake,
    EarthquakeReport,
    Evacuation,
    EvacuationLevel,
    FreeText,
    HeavyRain,
    Hypocentre,
    Intensity,
    Kind,
    Landslide,
    LandslideStatus,
    Lifeline,
    MsgType,
    Shelter,
    ShelterAction,
    Tsunami,
    TsunamiArea,
    TsunamiKind,
    TsunamiOutlook,
    Utility,
    Volcano,
    WarningItem,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)

ALL_WARDS = ("43101", "43102", "43103", "43104", "43105")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


ISSUED = at("2016-04-16T01:30:00+09:00")
ORIGIN = "2016-04-16T01:25:00+09:00"


def alert(kind: Kind, payload: AlertPayload | None = None, **kw: Any) -> Alert:
    return Alert(source=kw.pop("source", "jma"), source_id=kw.pop("source_id", f"{kind}-1"),
                 kind=kind, issued=ISSUED, payload=payload or FreeText(), **kw)


INT = Intensity
EARTHQUAKE = alert(Kind.EARTHQUAKE, Earthquake(
    report=EarthquakeReport.EPICENTER_INTENSITY, origin_time=at(ORIGIN),
    hypocentre=Hypocentre(code="741", name_ja="熊本県熊本地方", depth_km=12), magnitude=7.3,
    max_intensity=INT.SEVEN,
    ward_intensity={"43101": INT.SIX_UPPER, "43102": INT.SIX_UPPER, "43103": INT.SIX_UPPER,
                    "43104": INT.SIX_UPPER, "43105": INT.SIX_LOWER},
    tsunami=TsunamiOutlook.SLIGHT, tsunami_comment_ja="この地震による津波の心配はありません。",
), wards=ALL_WARDS)


def area(code: str, name_ja: str, kind: TsunamiKind, **kw: Any) -> TsunamiArea:
    return TsunamiArea(code=code, name_ja=name_ja, kind=kind, **kw)


def warning(code: str, name_ja: str, level: str, status: str) -> WarningItem:
    return WarningItem(code=code, name_ja=name_ja, level=WarningLevel(level),
                       status=WarningStatus(status))


ALERTS: dict[str, Alert] = {
    "earthquake": EARTHQUAKE,
    "earthquake_intensity": alert(Kind.EARTHQUAKE, Earthquake(
        report=EarthquakeReport.INTENSITY, origin_time=at(ORIGIN), max_intensity=INT.FIVE_LOWER,
        ward_intensity={"43101": INT.FIVE_LOWER, "43104": INT.FOUR},
        tsunami=TsunamiOutlook.UNKNOWN,
    ), wards=("43101", "43104")),
    "earthquake_epicenter": alert(Kind.EARTHQUAKE, Earthquake(
        report=EarthquakeReport.EPICENTER, origin_time=at(ORIGIN),
        hypocentre=Hypocentre(code="741", depth_km=0), magnitude=3.1,
        tsunami=TsunamiOutlook.NONE,
    )),
    # An epicenter code without a dictionary entry, and a ward of another city.
    "earthquake_sparse": alert(Kind.EARTHQUAKE, Earthquake(
        hypocentre=Hypocentre(code="99999"), magnitude=None,
        ward_intensity={"13101": INT.THREE})),
    "earthquake_update": alert(Kind.EARTHQUAKE, replace(EARTHQUAKE.payload, magnitude=7.0),
                               msg_type=MsgType.UPDATE, references="earthquake-1",
                               source_id="earthquake-2"),
    "earthquake_cancel": alert(Kind.EARTHQUAKE, Earthquake(), msg_type=MsgType.CANCEL,
                               references="earthquake-1", source_id="earthquake-3"),
    "eew": alert(Kind.EEW, Earthquake(hypocentre=Hypocentre(code="741"))),
    "tsunami": alert(Kind.TSUNAMI, Tsunami(areas=(
        area("712", "有明・八代海", TsunamiKind.WARNING, kind_code="51",
             first_arrival=at("2016-04-16T02:00:00+09:00"), arrival_condition_ja=None,
             height_m=3, height_ja="３ｍ"),
        area("740", "熊本県天草灘沿岸", TsunamiKind.ADVISORY, kind_code="62",
             first_arrival=None, arrival_condition_ja="津波到達中と推測", height_m=1,
             height_ja="１ｍ"),
    ))),
    "tsunami_major": alert(Kind.TSUNAMI, Tsunami(areas=(
        area("712", "有明・八代海", TsunamiKind.MAJOR_WARNING, height_m=None, height_ja="巨大",
             arrival_condition_ja="ただちに津波来襲と予測"),
    ))),
    "tsunami_over_10m": alert(Kind.TSUNAMI, Tsunami(areas=(
        area("740", "熊本県天草灘沿岸", TsunamiKind.MAJOR_WARNING, height_m=10,
             height_over=True, height_ja="１０ｍ超"),
    ))),
    "tsunami_lifted": alert(Kind.TSUNAMI, Tsunami(areas=(
        area("712", "有明・八代海", TsunamiKind.LIFTED),
        area("740", "熊本県天草灘沿岸", TsunamiKind.FORECAST),
    ))),
    "tsunami_elsewhere": alert(Kind.TSUNAMI, Tsunami(areas=tuple(
        area(str(100 + i), f"沿岸{i}", TsunamiKind.ADVISORY) for i in range(8)
    ))),
    "weather": alert(Kind.WEATHER_WARNING, WeatherWarning(area_code="4310000", warnings=(
        warning("33", "大雨特別警報", "emergency", "issued"),
        warning("04", "洪水警報", "warning", "continued"),
        warning("14", "雷注意報", "advisory", "issued"),
        warning("15", "強風注意報", "advisory", "lifted"),
        warning("98", "架空の警報", "warning", "issued"),
    ))),
    "weather_lifted": alert(Kind.WEATHER_WARNING, WeatherWarning(warnings=(
        warning("03", "大雨警報", "warning", "lifted"),
    )), wards=("43105",)),
    "landslide": alert(Kind.LANDSLIDE, Landslide(
        status=LandslideStatus.ISSUED, text_ja="土砂災害の危険度が非常に高まっています。"),
        wards=("43105", "43103")),
    "landslide_lifted": alert(Kind.LANDSLIDE, Landslide(status=LandslideStatus.LIFTED)),
    "volcano": alert(Kind.VOLCANO, Volcano(volcano_code="503", volcano_name_ja="阿蘇山",
                                           level=3, warning_code="02",
                                           warning_name_ja="火口周辺警報", flash=False)),
    "volcano_flash": alert(Kind.VOLCANO, Volcano(volcano_code="503", volcano_name_ja="阿蘇山",
                                                 level=None, flash=True)),
    "heavy_rain": alert(Kind.HEAVY_RAIN, HeavyRain(text_ja="熊本市北区付近で約１２０ミリ",
                                                   area_names_ja=("熊本市北区付近",)),
                        wards=("43105",)),
    "evacuation": alert(Kind.EVACUATION, Evacuation(level=EvacuationLevel.EVACUATE),
                        source="operator", wards=("43104",),
                        headline_ja="南区に避難指示", body_ja="加勢川の水位が上がっています。",
                        texts={"en": "The Kase River is rising."}),
    "evacuation_5": alert(Kind.EVACUATION, Evacuation(level=EvacuationLevel.EMERGENCY_SAFETY),
                          source="operator"),
    "evacuation_3": alert(Kind.EVACUATION, Evacuation(level=EvacuationLevel.ELDERLY_EVACUATE),
                          source="operator"),
    "shelter": alert(Kind.SHELTER, Shelter(action=ShelterAction.OPENED,
                                           shelter_ids=("00000264",)),
                     source="operator", wards=("43105",)),
    "shelter_closed": alert(Kind.SHELTER, Shelter(action=ShelterAction.CLOSED,
                                                  shelter_ids=("nope",)),
                            source="operator"),
    "lifeline": alert(Kind.LIFELINE, Lifeline(utility=Utility.WATER), source="operator",
                      body_ja="給水所を開設しました。"),
    "city_notice": alert(Kind.CITY_NOTICE, CityNotice(), source="operator",
                         headline_ja="ごみ収集の変更", body_ja="明日のごみ収集は中止します。"),
    "drill": alert(Kind.DRILL, source="operator", test=True, body_ja="これは訓練です。"),
    # Kinds with a composer of their own, but without its payload: the source's words.
    "earthquake_typed_by_staff": alert(Kind.EARTHQUAKE, source="cli",
                                       body_ja="市内で強い揺れがありました。"),
    "tsunami_from_cap": alert(Kind.TSUNAMI, Cap(
        identifier="T-1", sender="tsunami@example.org", sent=ISSUED,
        status=CapStatus.ACTUAL, scope=CapScope.PUBLIC,
        infos=(CapInfo(language="en", event="Tsunami Warning",
                       headline="Tsunami warning for the coast"),)),
        source="cap", texts={"en": "Tsunami warning for the coast"}),
    "evacuation_from_cap": alert(Kind.EVACUATION, Cap(
        identifier="KMM-1", sender="bousai@city.kumamoto.example", sent=ISSUED,
        status=CapStatus.ACTUAL, scope=CapScope.PUBLIC,
        infos=(CapInfo(language="ja", event="避難指示", headline="避難指示（北区）",
                       description="北区の一部に避難指示を発令しました。"),)),
        source="cap", wards=("43105",), headline_ja="避難指示（北区）",
        body_ja="北区の一部に避難指示を発令しました。"),
}


def follow_up(original: Alert, msg_type: MsgType, text_ja: str, **kw: Any) -> Alert:
    """A lifting or cancellation as ``bousai alert lift|cancel`` builds it: the original's
    kind, payload, wards and headline, the operator's text as the body."""
    return replace(original, source="cli", source_id=f"{original.source_id}-{msg_type}",
                   msg_type=msg_type, references=original.source_id,
                   issued=at("2016-04-16T09:00:00+09:00"), body_ja=text_ja,
                   texts=kw.pop("texts", {}), **kw)


EVACUATION_4 = replace(ALERTS["evacuation"], wards=("43101",))
ALERTS |= {
    "evacuation_lift": follow_up(EVACUATION_4, MsgType.LIFT, "中央区の避難指示を解除しました。"),
    "evacuation_cancel": follow_up(EVACUATION_4, MsgType.CANCEL,
                                   "訓練用の文を誤って送信しました。"),
    "shelter_lift": follow_up(ALERTS["shelter"], MsgType.LIFT, "TKUプラザを閉鎖しました。"),
    "weather_lift": follow_up(ALERTS["weather"], MsgType.LIFT, "警報は解除されました。",
                              wards=ALL_WARDS),
    "city_notice_cancel": follow_up(ALERTS["city_notice"], MsgType.CANCEL, "誤送信です。"),
}
