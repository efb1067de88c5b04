"""The weather family of the second JMA sample batch: the R06 warnings (VPWW55-61),
記録的短時間大雨情報 (VPOA50, real samples), 大雨危険度通知 (VPRN50, refused), typhoon
storm probability (VPTA50) and typhoon forecasts (VPTW60-62): field by field on the
real samples, and Kumamoto variants (area codes changed in test code) rendered in every
language and channel."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.domain import (
    Alert,
    HeavyRain,
    Kind,
    MsgType,
    PolicyAction,
    Severity,
    StormProbability,
    Subscriber,
    Typhoon,
    WarningLevel,
    WarningStatus,
    WeatherWarning,
)
from bot.errors import ConfigError, IngestError
from bot.freshness import Freshness
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.intake import Intake
from bot.policy import default_action, evaluate, load_rules
from bot.render import Renderer, load_renderer
from bot.store import subscribers as sub_store
from channels.lengths import measure
from tests.harness import harness
from tests.jma_helpers import ALL_WARDS, JMA, JST, load
from tests.test_render_jma import CHANNELS
from tests.test_render_words import bad_patterns, source_texts

SECOND_BATCH = sorted(p.name.removesuffix(".gz") for p in JMA.iterdir() if p.name.startswith(
    ("15_16_", "15_17_", "18_0", "73_", "76_", "10_0")))


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def jur(config: Config) -> Jurisdiction:
    return Jurisdiction.from_config(config)


@pytest.fixture(scope="module")
def renderer(config: Config) -> Renderer:
    return load_renderer(config)


def parse(data: bytes | str, jur: Jurisdiction) -> Alert:
    alerts = parse_jma(data.encode() if isinstance(data, str) else data, jur)
    assert len(alerts) == 1
    return alerts[0]


def variant(name: str, *pairs: tuple[str, str]) -> str:
    """A Kumamoto variant of a real sample: each (old, new) text replaced."""
    text = load(name).decode()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def municipality(name: str, code: str) -> tuple[str, str]:
    """Replace a municipality's entry (name and code) with 熊本市 4310000."""
    return f"<Name>{name}</Name>\n<Code>{code}</Code>", "<Name>熊本市</Name>\n<Code>4310000</Code>"


# ------------------------------------------------------------ every sample

def test_the_second_batch_is_all_here() -> None:
    assert len(SECOND_BATCH) == 38  # 37 new, with the transition VPWW54 of 2025


@pytest.mark.parametrize("name", SECOND_BATCH)
def test_every_sample_is_parsed_or_refused_with_a_named_reason(name: str, jur: Jurisdiction
                                                                ) -> None:
    if name.endswith("_VPRN50.xml"):
        with pytest.raises(IngestError) as err:
            parse_jma(load(name), jur)
        assert "refused JMA document type '大雨危険度通知' (VPRN50)" in err.value.reason
        assert "レベル3-5 warnings" in err.value.reason
        return
    a = parse(load(name), jur)
    assert a.source == "jma" and a.issued.tzinfo is not None
    if "_VPWW5" in name or "_VPWW6" in name or "_VPOA50" in name:
        assert not a.in_jurisdiction and a.wards == ()  # 宗谷, 京都, 島根, 大阪, 北海道
    if ("_VPWW5" in name and "VPWW54" not in name) or "_VPWW6" in name:
        assert isinstance(a.payload, WeatherWarning) and a.payload.system == "r06"


# ------------------------------------------------------------ R06 field by field

def test_r06_heavy_rain_matsue_field_by_field(jur: Jurisdiction) -> None:
    """15_17_01_250630_VPWW55, 島根県, 2024-11-02 11:19, read as if 松江市 were the city."""
    matsue = dataclasses.replace(jur, warning_area="3220100")
    a = parse(load("15_17_01_250630_VPWW55.xml"), matsue)
    assert a.kind is Kind.WEATHER_WARNING and a.msg_type is MsgType.ALERT
    assert a.source_id == "島根県大雨警報・注意報:気象警報・注意報:20241102T111900:発表"
    assert a.issued == dt.datetime(2024, 11, 2, 11, 19, tzinfo=JST)
    assert a.headline_ja == "東部、西部では、低い土地の浸水や河川の増水に警戒して下さい。"
    p = a.payload
    assert isinstance(p, WeatherWarning)
    assert (p.system, p.phenomenon_ja, p.area_code, p.area_name_ja) == (
        "r06", "大雨", "3220100", "松江市")
    [w] = p.warnings
    assert (w.code, w.name_ja, w.level, w.status, w.status_ja, w.alert_level) == (
        "03", "レベル３大雨警報", WarningLevel.WARNING, WarningStatus.CONTINUED, "継続", 3)
    assert p.changed is False and p.change_status_ja == "変化無"
    assert a.severity is Severity.SEVERE and a.in_jurisdiction and a.wards == ALL_WARDS


def test_r06_level_4_upgrade_wakkanai_field_by_field(jur: Jurisdiction) -> None:
    """15_16_03_241226_VPWW55, 宗谷地方: 稚内市 goes from レベル３ to レベル４大雨危険警報."""
    wakkanai = dataclasses.replace(jur, warning_area="0121400")
    p = parse(load("15_16_03_241226_VPWW55.xml"), wakkanai).payload
    assert isinstance(p, WeatherWarning) and p.area_name_ja == "稚内市"
    [w] = p.warnings
    assert (w.code, w.name_ja, w.level, w.status, w.previous_level, w.alert_level) == (
        "43", "レベル４大雨危険警報", WarningLevel.DANGER, WarningStatus.UPGRADED,
        WarningLevel.WARNING, 4)
    assert p.top_alert_level == 4 and p.changed


def test_r06_landslide_and_storm_kinds(jur: Jurisdiction) -> None:
    unnan = dataclasses.replace(jur, warning_area="3220900")
    a = parse(load("15_17_01_250630_VPWW56.xml"), unnan)
    assert a.kind is Kind.LANDSLIDE and isinstance(a.payload, WeatherWarning)
    assert a.payload.phenomenon_ja == "土砂災害"
    assert [(w.code, w.alert_level, w.level) for w in a.payload.warnings] == [
        ("49", 4, WarningLevel.DANGER)]
    assert a.severity is Severity.EXTREME
    wakkanai = dataclasses.replace(jur, warning_area="0121400")
    storm = parse(load("15_16_04_241226_VPWW58.xml"), wakkanai).payload
    assert isinstance(storm, WeatherWarning) and storm.phenomenon_ja == "暴風"
    assert [(w.code, w.alert_level, w.level) for w in storm.warnings] == [
        ("05", None, WarningLevel.WARNING)]


def test_only_the_citys_codes_lead_to_messages(jur: Jurisdiction) -> None:
    """Another municipality of the same report is ignored; a ward's own code counts."""
    text = variant("15_16_03_241226_VPWW55.xml", municipality("稚内市", "0121400"))
    assert parse(text, jur).in_jurisdiction
    elsewhere = text.replace("<Code>4310000</Code>", "<Code>4320200</Code>")  # 八代市
    assert not parse(elsewhere, jur).in_jurisdiction
    ward = text.replace("<Name>熊本市</Name>\n<Code>4310000</Code>",
                        "<Name>熊本市南区</Name>\n<Code>4310400</Code>")
    a = parse(ward, jur)
    assert a.in_jurisdiction and a.wards == ("43104",)


# ------------------------------------------------------------ VPOA50, VPRN50

def test_vpoa50_real_samples_field_by_field(jur: Jurisdiction) -> None:
    a = parse(load("18_03_01_190412_VPOA50.xml"), jur)
    p = a.payload
    assert isinstance(p, HeavyRain)
    assert a.source_id.startswith("JPSP201903281834_201903281953:記録的短時間大雨情報:2:")
    assert p.area_names_ja == ("石狩地方", "後志地方", "札幌市中央区付近", "小樽市付近")
    at = dt.datetime(2019, 3, 28, 19, 40, tzinfo=JST)
    assert [(r.area_name_ja, r.amount_mm, r.amount_ja, r.time) for r in p.amounts] == [
        ("札幌市中央区付近", 100.0, "約１００ミリ", at), ("小樽市付近", 90.0, "約９０ミリ", at)]
    assert not a.in_jurisdiction
    kyoto = parse(load("18_02_01_111226_VPOA50.xml"), jur).payload
    assert isinstance(kyoto, HeavyRain)
    assert [(r.area_name_ja, r.amount_mm, r.amount_ja) for r in kyoto.amounts] == [
        ("舞鶴市西部付近", 120.0, "１２０ミリ以上"), ("上京区付近", 90.0, "約９０ミリ")]
    # 上京区 is Kyoto's: a bare ward name counts only in the city's prefecture
    kita = variant("18_02_01_111226_VPOA50.xml", ("上京区付近", "北区付近"))
    assert not parse(kita, jur).in_jurisdiction


def kumamoto_rain() -> str:
    return variant("18_03_01_190412_VPOA50.xml", ("札幌市中央区付近", "熊本市北区付近"),
                   ("北海道", "熊本県"), ("<Name>石狩地方</Name>\n<Code>016010</Code>",
                                        "<Name>熊本地方</Name>\n<Code>430010</Code>"))


def test_vpoa50_in_kumamoto_names_the_ward(jur: Jurisdiction) -> None:
    a = parse(kumamoto_rain(), jur)
    assert a.in_jurisdiction and a.wards == ("43105",)
    bare = parse(kumamoto_rain().replace("熊本市北区付近", "北区付近"), jur)
    assert bare.in_jurisdiction and bare.wards == ("43105",)


# ------------------------------------------------------------ typhoons

def test_vpta50_storm_probability_for_kumamoto_city(jur: Jurisdiction) -> None:
    """The real sample (typhoon 2001 DAMREY, a JMA test scenario) lists 熊本市 430011."""
    a = parse(load("76_01_01_200630_VPTA50.xml"), jur)
    p = a.payload
    assert isinstance(p, Typhoon) and a.kind is Kind.WEATHER_WARNING
    assert (p.report, p.number, p.name, p.name_kana, p.area_code, p.area_name_ja) == (
        "probability", "2001", "DAMREY", "ダムレイ", "430011", "熊本市")
    assert p.probabilities == tuple(StormProbability(hours=h, percent=v) for h, v in (
        (24, 0), (48, 25), (72, 97), (96, 97), (120, 97)))
    assert p.max_percent == 97 and p.number_short == "1"
    assert a.in_jurisdiction and a.wards == ALL_WARDS
    elsewhere = dataclasses.replace(jur, typhoon_areas=frozenset({"011011"}))  # 宗谷北部: 0 %
    assert not parse(load("76_01_01_200630_VPTA50.xml"), elsewhere).in_jurisdiction


def test_vptw60_forecast_reaches_kumamoto(jur: Jurisdiction) -> None:
    """TALIM (1718) on 2017-09-13: the storm-warning area of a later forecast covers 熊本."""
    a = parse(load("10_04_03_170913_VPTW60.xml"), jur)
    p = a.payload
    assert isinstance(p, Typhoon) and p.report == "forecast"
    assert (p.number, p.name) == ("1718", "TALIM")
    assert p.reaches_city and p.reach_area_ja == "暴風警戒域"
    assert p.reach_time is not None and p.reach_time > a.issued
    assert p.pressure_hpa is not None and p.max_wind_ms is not None
    assert a.in_jurisdiction and a.wards == ALL_WARDS
    far = parse(load("10_04_02_170910_VPTW60.xml"), jur)  # still far south
    assert isinstance(far.payload, Typhoon) and not far.payload.reaches_city
    assert not far.in_jurisdiction
    nowhere = dataclasses.replace(jur, point=(21.31, -157.86))  # Honolulu
    assert not parse(load("10_04_03_170913_VPTW60.xml"), nowhere).in_jurisdiction


def test_vptw_tropical_depression_and_center(jur: Jurisdiction) -> None:
    a = parse(load("10_05_02_200826_VPTW60.xml"), jur)
    p = a.payload
    assert isinstance(p, Typhoon)
    assert a.msg_type is MsgType.UPDATE  # 訂正
    assert (p.center_lat, p.center_lon, p.pressure_hpa, p.max_wind_ms) == (17.8, 143.0, 1002, 15)
    assert p.class_ja == "熱帯低気圧(TD)" and p.number == ""


def test_city_point_must_be_latitude_longitude(tmp_path: Path) -> None:
    src = Path(load_config().path).read_text("utf-8").replace(
        "city_point = [32.8032, 130.7079]", 'city_point = "kumamoto"')
    cfg = tmp_path / "bousai.toml"
    cfg.write_text(src, "utf-8")
    for name in ("data",):
        (tmp_path / name).symlink_to(Path(load_config().path).parent / name)
    with pytest.raises(ConfigError, match=r"jurisdiction.city_point .*\[latitude, longitude\]"):
        Jurisdiction.from_config(load_config(cfg))


# ------------------------------------------------------------ policy

def test_policy_level_4_and_5_auto_level_3_held(config: Config, jur: Jurisdiction) -> None:
    rules, default = load_rules(config), default_action(config)

    def action(text: str) -> tuple[PolicyAction, str]:
        d = evaluate(parse(text, jur), rules, default)
        return d.action, d.rule_name

    level4 = variant("15_16_03_241226_VPWW55.xml", municipality("稚内市", "0121400"))
    assert action(level4) == (PolicyAction.AUTO, "level-4-5-issued")
    level5 = level4.replace("レベル４大雨危険警報</Name>\n<Code>43</Code>",
                            "レベル５大雨特別警報</Name>\n<Code>33</Code>")
    assert action(level5) == (PolicyAction.AUTO, "level-4-5-issued")
    level3 = level4.replace("レベル４大雨危険警報</Name>\n<Code>43</Code>\n<Status>発表",
                            "レベル３大雨警報</Name>\n<Code>03</Code>\n<Status>発表")
    level3 = level3.replace("<LastKind>\n<Name>レベル３大雨警報</Name>\n<Code>03</Code>",
                            "<LastKind>\n<Name>レベル２大雨注意報</Name>\n<Code>10</Code>")
    assert action(level3) == (PolicyAction.HOLD, "level-3-issued")
    storm = variant("15_16_04_241226_VPWW58.xml", municipality("稚内市", "0121400"))
    assert action(storm) == (PolicyAction.AUTO, "weather-warning-issued")
    ignored = load("15_16_03_241226_VPWW55.xml").decode()
    assert action(ignored) == (PolicyAction.IGNORE, "outside-jurisdiction")


def test_policy_typhoons_held_above_the_threshold(config: Config, jur: Jurisdiction) -> None:
    rules, default = load_rules(config), default_action(config)
    prob = parse(load("76_01_01_200630_VPTA50.xml"), jur)
    assert evaluate(prob, rules, default).rule_name == "typhoon-storm-probability"
    low = dataclasses.replace(prob, payload=dataclasses.replace(prob.payload, max_percent=30))
    assert evaluate(low, rules, default).action is PolicyAction.IGNORE
    track = parse(load("10_04_03_170913_VPTW60.xml"), jur)
    assert evaluate(track, rules, default).rule_name == "typhoon-forecast-reaches-city"


# ------------------------------------------------------------ rendering

def kumamoto_variants() -> dict[str, str]:
    return {
        "r06_level4_rain": variant("15_16_03_241226_VPWW55.xml",
                                   municipality("稚内市", "0121400")),
        "r06_level4_landslide": variant("15_17_01_250630_VPWW56.xml",
                                        municipality("雲南市", "3220900")),
        "r06_level3_rain": variant("15_17_01_250630_VPWW55.xml",
                                   municipality("松江市", "3220100")),
        "r06_storm": variant("15_16_04_241226_VPWW58.xml", municipality("稚内市", "0121400")),
        "r06_surge": variant("15_16_08_241226_VPWW57.xml", municipality("稚内市", "0121400")),
        "r06_waves": variant("15_16_05_241226_VPWW59.xml", municipality("稚内市", "0121400")),
        "r06_snow": variant("15_16_06_241226_VPWW60.xml", municipality("稚内市", "0121400")),
        "r06_other": variant("15_16_07_241226_VPWW61.xml", municipality("稚内市", "0121400")),
        "heavy_rain": kumamoto_rain(),
        "typhoon_probability": load("76_01_01_200630_VPTA50.xml").decode(),
        "typhoon_forecast": load("10_04_03_170913_VPTW60.xml").decode(),
    }


VARIANTS = kumamoto_variants()
LANGUAGES = load_config().languages


@pytest.fixture(scope="module")
def variants(jur: Jurisdiction) -> dict[str, Alert]:
    return {name: parse(text, jur) for name, text in VARIANTS.items()}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_kumamoto_variants_render_everywhere(name: str, variants: dict[str, Alert],
                                             renderer: Renderer) -> None:
    a = variants[name]
    assert a.in_jurisdiction, name
    for language in LANGUAGES:
        for channel, limits in CHANNELS.items():
            r = renderer.render(a, language, channel, limits)
            assert r.parts, (name, language, channel)
            for part in r.parts:
                assert measure(part, limits.length_unit) <= limits.text_limit
                assert "{" not in part and "r06." not in part and "typhoon." not in part
        text, _ = renderer.text(a, language)
        assert "warning." not in text and "heavy_rain." not in text
        assert not bad_patterns(text, language, source_texts(a)), (name, language)


def first_line(renderer: Renderer, a: Alert, language: str) -> str:
    return renderer.text(a, language)[0].splitlines()[0]


def test_first_line_is_the_key_fact(variants: dict[str, Alert], renderer: Renderer) -> None:
    en = {name: first_line(renderer, a, "en") for name, a in variants.items()}
    assert en["r06_level4_rain"] == ("[Level 4] Heavy Rain Danger Warning for Kumamoto City: "
                                     "everyone must evacuate from dangerous places now.")
    assert en["r06_level4_landslide"].startswith("[Level 4] Landslide Danger Warning for "
                                                 "Kumamoto City: everyone must evacuate")
    assert en["r06_level3_rain"].startswith("[Level 3] Heavy Rain Warning for Kumamoto City: "
                                            "elderly people")
    assert en["r06_storm"] == "Storm Warning for Kumamoto City."
    assert en["heavy_rain"] == "Record heavy rain: about 100 mm in one hour in Kita Ward."
    assert en["typhoon_probability"] == (
        "Typhoon No. 1: 97% chance that Kumamoto City will be in the storm zone (winds of "
        "25 m/s or more) within 72 hours. Prepare now.")
    assert en["typhoon_forecast"].startswith("Typhoon No. 18: Kumamoto City may be in the "
                                             "storm zone (winds of 25 m/s or more) around ")
    ja = {name: first_line(renderer, a, "ja") for name, a in variants.items()}
    assert ja["r06_level4_rain"] == (
        "【レベル4】熊本市に大雨危険警報。危険な場所から全員避難してください。")
    assert ja["heavy_rain"] == "記録的短時間大雨：北区で1時間に約100ミリ。"
    vi = {name: first_line(renderer, a, "vi") for name, a in variants.items()}
    assert vi["r06_level4_rain"] == ("[Cấp 4] Cảnh báo nguy hiểm mưa lớn tại Thành phố "
                                     "Kumamoto: tất cả mọi người hãy sơ tán khỏi nơi nguy "
                                     "hiểm ngay.")


def test_level_5_says_a_disaster_may_be_happening(jur: Jurisdiction,
                                                  renderer: Renderer) -> None:
    text = VARIANTS["r06_level4_rain"].replace(
        "レベル４大雨危険警報</Name>\n<Code>43</Code>",
        "レベル５大雨特別警報</Name>\n<Code>33</Code>")
    a = parse(text, jur)
    assert a.severity is Severity.EXTREME
    en, _ = renderer.text(a, "en")
    assert en.splitlines()[0] == ("[Level 5] Heavy Rain Emergency Warning for Kumamoto City: "
                                  "a disaster may already be happening. Secure your life now.")
    assert "Alert Level 5 (emergency safety measures)" in en
    ja, _ = renderer.text(a, "ja")
    assert ja.splitlines()[0].startswith("【レベル5】熊本市に大雨特別警報。災害が発生している")


# ------------------------------------------------------------ end to end

def test_level_4_warning_reaches_telegram_in_ja_en_vi(db_url: str) -> None:
    """A R06 レベル4大雨危険警報 for 熊本市: ingest -> policy (auto) -> lifecycle ->
    dispatcher -> the fake Telegram Bot API, through python-telegram-bot."""
    with harness(db_url) as h:
        subs = [Subscriber(channel="telegram", user_id=uid, language=lang, wards=("43104",))
                for uid, lang in (("810001", "ja"), ("810002", "en"), ("810003", "vi"))]
        with h.engine.begin() as conn:
            sub_store.import_batch(conn, subs)
        jur = Jurisdiction.from_config(h.config)
        doc = VARIANTS["r06_level4_rain"].encode()
        intake = Intake(service=h.service, jurisdiction=jur, rules=load_rules(h.config),
                        default=default_action(h.config),
                        freshness=Freshness.from_config(h.config))
        intake.as_of = intake.parse(doc, "VPWW55")[0].issued + dt.timedelta(minutes=3)
        [record] = intake.process(doc, "VPWW55")
        assert (record["policy"], record["rule"], record["status"]) == (
            "auto", "level-4-5-issued", "queued")
        assert h.run_until_idle()
        by_chat = {m.chat_id: m.text for m in h.telegram.sent}
        assert sorted(by_chat) == ["810001", "810002", "810003"]
        assert by_chat["810001"].splitlines()[0] == (
            "【レベル4】熊本市に大雨危険警報。危険な場所から全員避難してください。")
        assert by_chat["810002"].splitlines()[0] == (
            "[Level 4] Heavy Rain Danger Warning for Kumamoto City: everyone must evacuate "
            "from dangerous places now.")
        assert by_chat["810003"].splitlines()[0].startswith(
            "[Cấp 4] Cảnh báo nguy hiểm mưa lớn tại Thành phố Kumamoto")
        assert "Alert Level 4" in by_chat["810002"] and "警戒レベル4" in by_chat["810001"]
        # the same document again (another feed's copy) is recognised, not sent twice
        [again] = intake.process(doc, "VPWW55-copy")
        assert again.get("duplicate") is True
