"""Policy: the default rules for 熊本市 against real parsed documents, and rule loading."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.domain import (
    Alert,
    AlertPayload,
    Earthquake,
    FreeText,
    Intensity,
    Kind,
    Landslide,
    LandslideStatus,
    MsgType,
    PolicyAction,
    Severity,
    Tsunami,
    TsunamiArea,
    TsunamiKind,
    Volcano,
    VolcanoStatus,
    WarningItem,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.errors import ConfigError
from bot.ingest.cap import parse_cap
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.ingest.rss import parse_city_feed
from bot.policy import Rule, default_action, evaluate, load_rules
from tests.config_helpers import write_config

FIX = Path(__file__).resolve().parent / "fixtures"
JST = timezone(timedelta(hours=9))
CONFIG = load_config()
RULES = load_rules(CONFIG)
JUR = Jurisdiction.from_config(CONFIG)


def jma(name: str, jur: Jurisdiction = JUR, patch: tuple[str, str] | None = None) -> Alert:
    path = FIX / "jma" / name
    data = path.read_bytes() if path.exists() else gzip.decompress(
        (FIX / "jma" / f"{name}.gz").read_bytes())
    if patch:
        data = data.replace(patch[0].encode(), patch[1].encode())
    return parse_jma(data, jur)[0]


def decide(alert: Alert) -> tuple[str, str]:
    d = evaluate(alert, RULES, default_action(CONFIG))
    assert d.reason
    return d.action, d.rule_name


def synthetic(kind: Kind, payload: AlertPayload | None = None, **kw: Any) -> Alert:
    return Alert(source="jma", source_id="x", kind=kind, payload=payload or FreeText(),
                 issued=datetime(2016, 4, 16, 1, 25, tzinfo=JST), **kw)


def test_earthquake_intensity_4_in_a_ward_is_auto() -> None:
    a = jma("32-35_04_04_240613_VXSE53.xml", patch=(
        "<City><Name>熊本市</Name><Code>4320100</Code><MaxInt>1</MaxInt>",
        "<City><Name>熊本東区</Name><Code>4310200</Code><MaxInt>4</MaxInt>"))
    assert decide(a) == ("auto", "earthquake-intensity-4-or-more")


def test_weak_local_earthquake_is_held() -> None:
    assert decide(jma("32-35_04_04_240613_VXSE53.xml")) == ("hold", "default")


def test_earthquake_elsewhere_is_ignored() -> None:
    assert decide(jma("32-35_01_01_100806_VXSE51.xml")) == ("ignore", "outside-jurisdiction")


def test_cancellations_and_corrections_follow() -> None:
    assert decide(jma("32-35_10_01_220510_VXSE51.xml")) == (
        "follow", "corrections-and-cancellations")
    assert decide(jma("67_01_03_140927_VFVO56.xml")) == (
        "follow", "corrections-and-cancellations")


NARA = replace(JUR, warning_area="2920100")


def test_emergency_warning_issued_is_auto() -> None:
    assert decide(jma("15_08_01_130412_VPWW53.xml", NARA)) == ("auto", "weather-warning-issued")


def test_warning_issued_h27_format_is_auto() -> None:
    a = jma("15_15_01_220314_VPWW54.xml", replace(JUR, warning_area="3640300"))
    assert decide(a) == ("auto", "weather-warning-issued")


def w(level: str, status: str) -> WarningItem:
    return WarningItem(code="03", name_ja="大雨警報", level=WarningLevel(level),
                       status=WarningStatus(status), status_ja="", previous_level=None)


@pytest.mark.parametrize(("warnings", "changed", "expected"), [
    ([w("warning", "continued")], True, ("auto", "weather-warning-continued-with-changes")),
    ([w("warning", "continued")], False, ("ignore", "unchanged-reissue")),
    ([w("warning", "lifted")], True, ("auto", "weather-warning-lifted")),
    ([w("advisory", "downgraded")], True, ("auto", "weather-warning-downgraded")),
    ([w("emergency", "upgraded")], True, ("auto", "weather-warning-issued")),
    ([w("advisory", "issued")], True, ("hold", "default")),
    ([w("advisory", "lifted")], True, ("hold", "default")),
])
def test_weather_warning_rules(warnings: list[WarningItem], changed: bool,
                               expected: tuple[str, str]) -> None:
    a = synthetic(Kind.WEATHER_WARNING, WeatherWarning(warnings=tuple(warnings),
                                                       changed=changed))
    assert decide(a) == expected


def test_a_report_of_nothing_but_lifts_follows_the_warning_it_lifts() -> None:
    # Every warning for the city 解除: a lift of the series' earlier report, sent where
    # that report went (and only if it went out), like corrections and cancellations.
    lifted = jma("15_08_05_130412_VPWW53.xml", NARA)
    assert lifted.msg_type is MsgType.LIFT
    assert decide(lifted) == ("follow", "corrections-and-cancellations")


def test_tsunami_warning_on_kumamoto_coasts_is_auto() -> None:
    assert decide(jma("32-39_12_02_250206_VTSE41.xml")) == ("auto", "tsunami-local-coasts")


def test_slight_sea_level_change_on_kumamoto_coasts_is_held() -> None:
    assert decide(jma("32-39_11_02_250206_VTSE41.xml")) == ("hold", "default")


def test_tsunami_lifted_on_kumamoto_coasts_is_auto() -> None:
    a = synthetic(Kind.TSUNAMI, Tsunami(areas=(TsunamiArea(code="712",
                                                           kind=TsunamiKind.LIFTED),)))
    assert decide(a) == ("auto", "tsunami-local-coasts")


def aso(level: int | None, flash: bool = False) -> Alert:
    return synthetic(Kind.VOLCANO, Volcano(volcano_code="503", volcano_name_ja="阿蘇山",
                                           level=level, flash=flash,
                                           status=VolcanoStatus.RAISED))


def test_aso_level_3_is_auto_level_2_is_held() -> None:
    assert decide(aso(3)) == ("auto", "aso-level-3-or-more")
    assert decide(aso(2)) == ("hold", "default")


def test_aso_eruption_flash_is_auto() -> None:
    assert decide(aso(None, flash=True)) == ("auto", "aso-eruption-flash")


def test_other_volcano_level_5_is_ignored() -> None:
    assert decide(jma("45_02_01_200522_VFVO50.xml")) == ("ignore", "outside-jurisdiction")


def test_landslide_alert_for_the_city() -> None:
    kitakyushu = replace(JUR, municipality_codes=frozenset({"4010000"}))
    continued = jma("17_01_01_190529_VXWW50.xml", kitakyushu)
    assert decide(continued) == ("ignore", "unchanged-reissue")
    issued = synthetic(Kind.LANDSLIDE, Landslide(status=LandslideStatus.ISSUED, changed=True))
    assert decide(issued) == ("auto", "landslide-alert")
    lifted = synthetic(Kind.LANDSLIDE, Landslide(status=LandslideStatus.LIFTED, changed=True))
    assert decide(lifted) == ("auto", "landslide-alert")
    # JMA's 解除 for the city is a lift: it follows the alert it ends.
    lifted = jma("17_01_01_190529_VXWW50.xml", replace(JUR, municipality_codes=frozenset(
        {"4013000"})))
    assert lifted.msg_type is MsgType.LIFT
    assert decide(lifted) == ("follow", "corrections-and-cancellations")


def test_heavy_rain_in_the_city_is_auto_elsewhere_ignored() -> None:
    assert decide(jma("handmade_VPOA50_kumamoto.xml")) == ("auto", "record-short-heavy-rain")
    assert decide(jma("handmade_VPOA50_aso.xml")) == ("ignore", "outside-jurisdiction")


def test_city_notice_is_held() -> None:
    notices = parse_city_feed((FIX / "rss" / "city_notices.rss").read_bytes(),
                              feed_name="city", jurisdiction=JUR)
    assert decide(notices[0]) == ("hold", "city-notice")


def test_cap_outside_is_ignored() -> None:
    [a] = parse_cap((FIX / "cap" / "weather.cap").read_bytes(), JUR)
    assert decide(a) == ("ignore", "outside-jurisdiction")


def test_first_match_wins_and_conditions_combine() -> None:
    rules = [Rule(name="tests", action="ignore", test=True, source=frozenset({"jma"})),
             Rule(name="severe", action="auto", min_severity=Severity.SEVERE),
             Rule(name="rest", action="hold")]
    a = synthetic(Kind.OTHER, test=True, severity="extreme")
    assert evaluate(a, rules).rule_name == "tests"
    assert evaluate(replace(a, test=False), rules).rule_name == "severe"
    assert evaluate(replace(a, test=False, severity="minor"), rules).rule_name == "rest"
    assert evaluate(a, []).action == "hold"
    cancel = synthetic(Kind.OTHER, msg_type=MsgType.CANCEL, references="k")
    assert evaluate(cancel, RULES).action == "follow"


def _config_with(tmp_path: Path, policy: str) -> Any:
    text = (Path(CONFIG.path).read_text(encoding="utf-8").split("[policy]")[0] + policy)
    return load_config(write_config(tmp_path, text))


@pytest.mark.parametrize(("policy", "key", "message"), [
    ('[[policy.rules]]\nname = "a"\naction = "send"\n', "policy.rules[0].action", "one of"),
    ('[[policy.rules]]\naction = "auto"\n', "policy.rules[0].name", "name"),
    ('[[policy.rules]]\nname = "a"\naction = "auto"\nkind = ["quake"]\n',
     "policy.rules[0].kind", "unknown value 'quake'"),
    ('[[policy.rules]]\nname = "a"\naction = "auto"\nmin_intensity = "8"\n',
     "policy.rules[0].min_intensity", "must be one of"),
    ('[[policy.rules]]\nname = "a"\naction = "auto"\nmin_volcano_level = 9\n',
     "policy.rules[0].min_volcano_level", "1 to 5"),
    ('[[policy.rules]]\nname = "a"\naction = "auto"\nshaking = true\n',
     "policy.rules[0].shaking", "unknown condition"),
    ('[[policy.rules]]\nname = "a"\naction = "auto"\ntest = "yes"\n',
     "policy.rules[0].test", "true or false"),
    ('[[policy.rules]]\nname = "a"\naction = "auto"\n[[policy.rules]]\nname = "a"\n'
     'action = "hold"\n', "policy.rules[1].name", "used twice"),
    ('[policy]\ndefault_action = "maybe"\n', "policy.default_action", "one of"),
])
def test_load_rules_names_the_bad_key(tmp_path: Path, policy: str, key: str,
                                      message: str) -> None:
    cfg = _config_with(tmp_path, policy)
    with pytest.raises(ConfigError, match=message) as info:
        load_rules(cfg)
    assert info.value.key == key


def test_default_rules_load() -> None:
    names = [r.name for r in RULES]
    # Follow-ups first; a VXSE56 copy of a 南海トラフ notice is ignored by its own name
    # before the jurisdiction rule would ignore it anonymously.
    assert names[:3] == ["corrections-and-cancellations", "seismic-activity-nankai-copy",
                         "outside-jurisdiction"]
    assert default_action(CONFIG) == "hold"


def test_min_intensity_uses_the_one_scale_and_zero_means_any_reported_intensity(
        tmp_path: Path) -> None:
    cfg = _config_with(tmp_path, '[[policy.rules]]\nname = "any"\naction = "auto"\n'
                                 'min_intensity = "0"\n[[policy.rules]]\nname = "strong"\n'
                                 'action = "auto"\nmin_intensity = "5弱"\n')
    any_, strong = load_rules(cfg)
    assert any_.min_intensity is Intensity.ZERO and strong.min_intensity is Intensity.FIVE_LOWER
    felt = synthetic(Kind.EARTHQUAKE, Earthquake(local_max_intensity=Intensity.ONE))
    unknown = synthetic(Kind.EARTHQUAKE, Earthquake(local_max_intensity=None))
    upper = synthetic(Kind.EARTHQUAKE, Earthquake(local_max_intensity=Intensity.FIVE_UPPER))
    assert any_.mismatch(felt) is None and any_.mismatch(unknown) == "min_intensity"
    assert strong.mismatch(felt) == "min_intensity" and strong.mismatch(upper) is None


def test_actions_are_an_enum_with_the_stored_string_values() -> None:
    assert [a.value for a in PolicyAction] == ["auto", "hold", "ignore", "follow"]
    assert all(isinstance(r.action, PolicyAction) for r in RULES)
    assert default_action(CONFIG) is PolicyAction.HOLD
    d = evaluate(jma("32-35_04_04_240613_VXSE53.xml"), RULES, "hold")
    assert d.action is PolicyAction.HOLD and d.action == "hold"
    assert Rule(name="r", action="ignore").action is PolicyAction.IGNORE  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'send' is not a valid PolicyAction"):
        Rule(name="r", action="send")  # type: ignore[arg-type]


def test_content_conditions_read_the_typed_payload_and_need_its_class() -> None:
    [cap] = parse_cap((FIX / "cap" / "wcatwc-warning.cap").read_bytes(), JUR)
    assert cap.kind is Kind.TSUNAMI
    local = replace(cap, in_jurisdiction=True, msg_type=MsgType.ALERT, references=None)
    rule = next(r for r in RULES if r.name == "tsunami-local-coasts")
    assert rule.mismatch(local) == "tsunami_kinds"  # a CAP alert has no JMA areas
    assert decide(local) == ("hold", "default")
    assert Rule(name="f", action=PolicyAction.AUTO, flash=False).mismatch(local) is None
    assert Rule(name="c", action=PolicyAction.AUTO, changed=True).mismatch(local) == "changed"


def test_statuses_must_be_landslide_or_volcano_statuses(tmp_path: Path) -> None:
    cfg = _config_with(tmp_path, '[[policy.rules]]\nname = "a"\naction = "auto"\n'
                                 'statuses = ["raised", "issued"]\n')
    assert load_rules(cfg)[0].statuses == frozenset({"raised", "issued"})
    cfg = _config_with(tmp_path, '[[policy.rules]]\nname = "a"\naction = "auto"\n'
                                 'statuses = ["erupted"]\n')
    with pytest.raises(ConfigError, match="unknown value 'erupted'"):
        load_rules(cfg)
