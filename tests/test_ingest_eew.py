"""Earthquake early warnings (緊急地震速報 VXSE43/44/45): real JMA samples field by
field, the policy, one alarm per earthquake, and the text a resident reads."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import load_config
from bot.domain import (
    Alert,
    EarlyWarning,
    Intensity,
    Kind,
    MsgType,
    PolicyAction,
    Severity,
    Urgency,
)
from bot.fakes.dmdata import as_if_now
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.intake import Intake
from bot.policy import evaluate, load_rules
from bot.render import load_renderer
from channels.lengths import measure
from tests.harness import harness
from tests.jma_helpers import ALL_WARDS, JMA, JST, load, one
from tests.test_render_jma import CHANNELS, LANGUAGES

CONFIG = load_config()
JUR = Jurisdiction.from_config(CONFIG)
RULES = load_rules(CONFIG)
EVENT = "20240417231454"
EEW_SAMPLES = sorted(p.name for p in JMA.iterdir()
                     if p.name.endswith(("VXSE43.xml", "VXSE44.xml", "VXSE45.xml")))


def eew(name: str) -> tuple[Alert, EarlyWarning]:
    a = one(name, JUR)
    assert isinstance(a.payload, EarlyWarning)
    return a, a.payload


def test_every_sample_is_parsed() -> None:
    assert len(EEW_SAMPLES) == 3 + 33 + 33
    for name in EEW_SAMPLES:
        a, p = eew(name)
        assert a.kind is Kind.EEW and p.forecast == (not name.endswith("VXSE43.xml"))
        assert p.event_key == f"jma:{p.jma_title}:{EVENT}"


def test_warning_without_kumamoto() -> None:
    a, p = eew("37_01_01_240613_VXSE43.xml")
    assert a.source_id == f"{EVENT}:緊急地震速報（警報）:1:発表"
    assert (a.msg_type, a.in_jurisdiction, a.severity, a.urgency) == (
        MsgType.ALERT, False, Severity.MINOR, Urgency.PAST)
    assert a.issued == dt.datetime(2024, 4, 17, 23, 14, 59, tzinfo=JST)
    assert a.expires == a.issued + dt.timedelta(minutes=10)
    assert a.headline_ja == "豊後水道で地震　四国　九州　中国で強い揺れ"
    assert (p.forecast, p.serial, p.final, p.warned_areas, p.newly_warned, p.areas) == (
        False, 1, False, (), False, ())
    assert p.regions_ja == ("四国", "九州", "中国")
    assert p.origin_time == dt.datetime(2024, 4, 17, 23, 14, 48, tzinfo=JST)
    assert p.hypocentre is not None and (p.hypocentre.code, p.hypocentre.name_ja,
                                         p.hypocentre.depth_km) == ("681", "豊後水道", 30)
    assert (p.magnitude, p.magnitude_ja) == (5.8, "Ｍ５．８")
    assert (p.max_from, p.max_to, p.max_to_over) == (Intensity.FIVE_LOWER,
                                                     Intensity.FIVE_LOWER, False)
    assert (p.jma_info_kind, p.jma_title, p.jma_status) == ("緊急地震速報", "緊急地震速報（警報）",
                                                            "通常")


def test_second_warning_newly_names_kumamoto() -> None:
    a, p = eew("37_01_02_240613_VXSE43.xml")
    assert (a.in_jurisdiction, a.severity, a.urgency) == (True, Severity.EXTREME,
                                                          Urgency.IMMEDIATE)
    assert a.wards == ALL_WARDS and a.areas == ("741",)
    assert (p.serial, p.warned_areas, p.newly_warned) == (2, ("741",), True)
    assert p.max_from == Intensity.SIX_LOWER and p.magnitude == 6.6
    assert p.hypocentre is not None and p.hypocentre.depth_km == 40
    (area,) = p.areas
    assert (area.code, area.name_ja, area.intensity_from, area.intensity_to, area.to_over,
            area.warning) == ("741", "熊本県熊本", Intensity.FOUR, Intensity.FOUR, False, True)
    assert area.condition_ja == "" and area.arrival is not None
    assert "熊本県熊本：震度4程度" in a.body_ja
    assert a.priority == 100  # before anything else in the queue


def test_cancellation_refers_to_the_warning_only() -> None:
    a, p = eew("37_01_03_240613_VXSE43.xml")
    assert a.msg_type is MsgType.CANCEL and a.in_jurisdiction
    assert a.references == f"jma:緊急地震速報（警報）:{EVENT}" == p.event_key
    assert a.headline_ja == "緊急地震速報（警報）を取り消します。"
    assert "先ほどの、緊急地震速報（警報）を取り消します。" in a.body_ja
    forecast_cancel, _ = eew("36_01_33_240613_VXSE44.xml")
    assert forecast_cancel.references == f"jma:緊急地震速報（予報）:{EVENT}" != a.references


@pytest.mark.parametrize("name", ["36_01_20_240613_VXSE44.xml", "77_01_20_240613_VXSE45.xml"])
def test_forecasts_for_kumamoto(name: str) -> None:
    a, p = eew(name)
    assert (a.in_jurisdiction, a.severity, p.forecast, p.serial) == (True, Severity.MODERATE,
                                                                     True, 20)
    assert p.warned_areas == () and a.areas == ("741",)
    (area,) = p.areas
    assert (area.code, area.intensity_from, area.intensity_to) == ("741", Intensity.FOUR,
                                                                   Intensity.FOUR)
    assert area.arrival == dt.datetime(2024, 4, 17, 23, 15, 25, tzinfo=JST)
    assert p.max_from == Intensity.SIX_LOWER


@pytest.mark.parametrize("name", ["36_01_01_240613_VXSE44.xml", "77_01_03_240613_VXSE45.xml"])
def test_early_forecasts_without_kumamoto(name: str) -> None:
    a, p = eew(name)
    assert not a.in_jurisdiction and p.areas == () and a.wards == ()


def test_later_forecasts_say_the_shaking_has_arrived() -> None:
    for name in ("36_01_22_240613_VXSE44.xml", "77_01_32_240613_VXSE45.xml"):
        assert eew(name)[1].areas[0].condition_ja == "既に主要動到達と推測"


def test_policy_sends_the_warning_and_records_forecasts_only() -> None:
    def decide(name: str) -> tuple[PolicyAction, str]:
        d = evaluate(one(name, JUR), RULES)
        return d.action, d.rule_name

    assert decide("37_01_02_240613_VXSE43.xml") == (PolicyAction.AUTO, "eew-city")
    assert decide("37_01_01_240613_VXSE43.xml") == (PolicyAction.IGNORE,
                                                    "outside-jurisdiction")
    assert decide("37_01_03_240613_VXSE43.xml") == (PolicyAction.FOLLOW,
                                                    "corrections-and-cancellations")
    for name in ("36_01_20_240613_VXSE44.xml", "77_01_20_240613_VXSE45.xml"):
        assert decide(name) == (PolicyAction.IGNORE, "eew-forecast")


def _later_report(serial: int, *, newly: bool) -> bytes:
    """第2報 as a later report: the serial, and JMA's LastKind for the city's area."""
    xml = load("37_01_02_240613_VXSE43.xml").decode()
    xml = xml.replace("<Serial>2</Serial>", f"<Serial>{serial}</Serial>")
    if not newly:
        xml = xml.replace("<LastKind><Name>なし</Name><Code>00</Code></LastKind>",
                          "<LastKind><Name>緊急地震速報（警報）</Name><Code>31</Code></LastKind>")
    return xml.encode()


def test_one_alarm_per_earthquake_unless_the_city_newly_enters(db_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with harness(db_url) as h:
        intake = Intake.for_service(h.service)

        def feed(data: bytes, seconds: int) -> dict[str, object]:
            return intake.process(as_if_now(data, now + dt.timedelta(seconds=seconds)),
                                  "test")[0]

        first = feed(load("37_01_02_240613_VXSE43.xml"), 0)
        assert (first["policy"], first["rule"], first["status"]) == ("auto", "eew-city",
                                                                     "queued")
        repeat = feed(_later_report(3, newly=False), 5)
        assert (repeat["policy"], repeat["rule"]) == ("ignore", "eew-repeat")
        assert f"alert {first['id']}" in str(repeat["reason"])
        again = feed(_later_report(4, newly=True), 9)  # left the warning and came back
        assert (again["policy"], again["rule"]) == ("auto", "eew-city")
        assert feed(load("37_01_02_240613_VXSE43.xml"), 0)["duplicate"] is True


def test_the_eew_in_every_language_and_channel() -> None:
    renderer = load_renderer(CONFIG)
    a = parse_jma(load("37_01_02_240613_VXSE43.xml"), JUR)[0]
    firsts = {}
    for language in LANGUAGES:
        for channel, limits in CHANNELS.items():
            r = renderer.render(a, language, channel, limits)
            for part in r.parts:
                assert measure(part, limits.length_unit) <= limits.text_limit
                assert "{" not in part and "eew." not in part
            if channel != "x":  # X splits CJK text into a thread; the lead is in part 1
                assert len(r.parts) == 1, (language, channel)
        firsts[language] = renderer.render(a, language, "telegram", CHANNELS["telegram"]
                                           ).parts[0].splitlines()
    assert firsts["en"][:6] == [
        "Strong shaking expected in Kumamoto City. Protect yourself now.",
        "[Earthquake Early Warning]",
        "Expected in Kumamoto City: Seismic intensity 4",
        "Epicenter: Bungosuido Strait",  # JMA's dictionary
        "Magnitude: 6.6",
        "Strong shaking is expected. Protect your head and take cover under a sturdy table.",
    ]
    assert firsts["en"][0] == "Strong shaking expected in Kumamoto City. Protect yourself now."
    assert firsts["ja"][0] == "熊本市で強い揺れに警戒してください。今すぐ身を守ってください。"
    assert "熊本市で予想される揺れ：震度4" in firsts["ja"]
    assert firsts["vi"][0].startswith("Dự kiến rung lắc mạnh tại")
    assert firsts["ko"][0].endswith("지금 바로 몸을 보호하십시오.")
    assert len({lines[0] for lines in firsts.values()}) == len(LANGUAGES)


def test_forecast_wording_and_arrived_note() -> None:
    renderer = load_renderer(CONFIG)
    a = parse_jma(load("77_01_22_240613_VXSE45.xml"), JUR)[0]
    text = renderer.render(a, "en", "telegram", CHANNELS["telegram"]).parts[0]
    lines = text.splitlines()
    assert lines[0] == "Shaking expected in Kumamoto City (earthquake early warning, forecast)."
    assert "The strong shaking may already have arrived." in lines
    assert "Protect your head" not in text  # a forecast does not tell people to take cover
