"""JMA seismic notices: 南海トラフ地震臨時情報・関連解説情報 (VYSE50/51/52), 北海道・三陸沖
後発地震注意情報 (VYSE60), 長周期地震動 (VXSE62), 震源要素更新 (VXSE61), 地震の活動状況等
(VXSE56) and 沖合の津波観測 (VTSE52): every official sample, field by field, and bad input."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.domain import (
    HypocentreUpdate,
    Intensity,
    Kind,
    LongPeriodMotion,
    MegaquakeLevel,
    MegaquakeNotice,
    MegaquakeRegion,
    MsgType,
    OffshoreTsunami,
    SeismicActivity,
    Severity,
    Urgency,
)
from bot.errors import ConfigError, IngestError
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.policy import default_action, evaluate, load_rules
from tests.config_helpers import write_config
from tests.jma_helpers import ALL_WARDS, JMA, JST, load, one

TYPES = {"VYSE50": MegaquakeNotice, "VYSE51": MegaquakeNotice, "VYSE52": MegaquakeNotice,
         "VYSE60": MegaquakeNotice, "VXSE62": LongPeriodMotion, "VXSE61": HypocentreUpdate,
         "VXSE56": SeismicActivity, "VTSE52": OffshoreTsunami}
SAMPLES = sorted(p.name for p in JMA.iterdir()
                 if p.name.endswith(".xml") and p.name[-10:-4] in TYPES)
CONFIG = load_config()
RULES = load_rules(CONFIG)


@pytest.fixture(scope="module")
def kumamoto() -> Jurisdiction:
    return Jurisdiction.from_config(CONFIG)


def decide(a: object) -> tuple[str, str]:
    d = evaluate(a, RULES, default_action(CONFIG))  # type: ignore[arg-type]
    return d.action.value, d.rule_name


def test_all_36_samples_of_these_types_are_here() -> None:
    assert len(SAMPLES) == 36
    assert {name[-10:-4] for name in SAMPLES} == set(TYPES)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_parses_with_its_payload(name: str, kumamoto: Jurisdiction) -> None:
    [a] = parse_jma(load(name), kumamoto)
    kind = name[-10:-4]
    assert type(a.payload) is TYPES[kind]
    assert a.kind is (Kind.TSUNAMI if kind == "VTSE52" else Kind.EARTHQUAKE)
    assert a.issued.utcoffset() == timedelta(hours=9) and a.headline_ja
    assert a.payload.event_key and a.payload.event_key.startswith("jma:")
    if a.msg_type is not MsgType.ALERT:
        assert a.references
    # every one has a policy decision with a named rule (none falls to the default)
    action, rule = decide(a)
    assert rule != "default", (name, action)


def test_source_ids_identify_documents(kumamoto: Jurisdiction) -> None:
    by_id: dict[str, list[str]] = {}
    for n in SAMPLES:
        by_id.setdefault(parse_jma(load(n), kumamoto)[0].source_id, []).append(n)
    # JMA's sample set has the same 震源要素更新 twice (differing only in white space
    # and the encoding name): one document, one id.
    assert [names for names in by_id.values() if len(names) > 1] == [
        ["32-35_03_02_240613_VXSE61.xml", "32-35_07_09_240613_VXSE61.xml"]]


# ------------------------------------------------------------------ 南海トラフ

def test_megaquake_warning_field_by_field(kumamoto: Jurisdiction) -> None:
    a = one("74_01_04_200512_VYSE50.xml", kumamoto)
    p = a.payload
    assert isinstance(p, MegaquakeNotice)
    assert (p.region, p.level, p.code, p.keyword_ja) == (
        MegaquakeRegion.NANKAI, MegaquakeLevel.WARNING, "120", "巨大地震警戒")
    assert p.info_name_ja == "南海トラフ地震臨時情報" and p.notice == "nankai_warning"
    assert p.event_key == "jma:南海トラフ地震臨時情報"  # one series, whatever the EventID
    assert p.city_in_area is True  # [jurisdiction] nankai_trough_area (熊本市, 2025-07-01)
    assert p.text_ja.startswith("本日（●日）●●時●●分頃に")
    assert p.next_advisory_ja.startswith("今後は、「南海トラフ地震関連解説情報」")
    assert a.msg_type is MsgType.ALERT and a.references is None
    assert a.issued == datetime(2020, 5, 12, 16, 28, tzinfo=JST)
    assert a.expires == a.issued + timedelta(days=7)
    assert (a.severity, a.urgency) == (Severity.SEVERE, Urgency.FUTURE)
    assert a.wards == ALL_WARDS and a.in_jurisdiction
    assert a.source_id == "20200512162800:南海トラフ地震に関連する情報:20200512T162800:発表:" \
                          "南海トラフ地震臨時情報（巨大地震警戒）"
    assert decide(a) == ("auto", "nankai-megaquake-warning")


def test_megaquake_advisory_investigation_and_commentary(kumamoto: Jurisdiction) -> None:
    advisory = one("74_01_05_200512_VYSE50.xml", kumamoto)
    assert isinstance(advisory.payload, MegaquakeNotice)
    assert advisory.payload.level is MegaquakeLevel.ADVISORY and advisory.payload.code == "130"
    assert advisory.severity is Severity.MODERATE
    assert decide(advisory) == ("auto", "nankai-megaquake-advisory")
    investigating = one("74_01_01_200512_VYSE50.xml", kumamoto)
    assert isinstance(investigating.payload, MegaquakeNotice)
    assert investigating.payload.level is MegaquakeLevel.INVESTIGATING
    assert investigating.expires is None and investigating.severity is Severity.MINOR
    assert decide(investigating) == ("hold", "nankai-investigating")
    for name, code in (("75_01_01_200512_VYSE51.xml", "210"), ("75_01_04_200512_VYSE52.xml",
                                                                "200")):
        c = one(name, kumamoto)
        assert isinstance(c.payload, MegaquakeNotice)
        assert c.payload.level is MegaquakeLevel.COMMENTARY and c.payload.code == code
        assert c.payload.event_key == "jma:南海トラフ地震関連解説情報"
        assert decide(c) == ("hold", "nankai-commentary")


def test_investigation_completed_is_a_lift_of_the_series(kumamoto: Jurisdiction) -> None:
    a = one("74_01_07_200512_VYSE50.xml", kumamoto)
    p = a.payload
    assert isinstance(p, MegaquakeNotice)
    assert p.level is MegaquakeLevel.ENDED and p.code == "190" and p.keyword_ja == "調査終了"
    assert a.msg_type is MsgType.LIFT and a.references == "jma:南海トラフ地震臨時情報"
    assert decide(a) == ("follow", "corrections-and-cancellations")


def test_commentary_saying_the_call_ended_lifts_the_extra_information(
        kumamoto: Jurisdiction) -> None:
    data = load("75_01_03_200512_VYSE51.xml").replace(
        "引き続き、政府や自治体などからの呼びかけ等に応じた防災対応をとってください。".encode(),
        "政府による特別な注意の呼びかけは終了します。".encode(), 1)
    [a] = parse_jma(data, kumamoto)
    assert isinstance(a.payload, MegaquakeNotice)
    assert a.payload.level is MegaquakeLevel.CALL_ENDED
    assert a.msg_type is MsgType.LIFT and a.references == "jma:南海トラフ地震臨時情報"


def test_cancellation_refers_to_the_series(kumamoto: Jurisdiction) -> None:
    a = one("74_03_01_220318_VYSE50.xml", kumamoto)
    assert a.msg_type is MsgType.CANCEL and a.references == "jma:南海トラフ地震臨時情報"
    assert isinstance(a.payload, MegaquakeNotice)
    assert a.payload.keyword_ja == "調査中"  # from the head title: a 取消 has no body info
    assert a.headline_ja.endswith("は誤りですので取り消します。")


def test_city_outside_the_designated_area(kumamoto: Jurisdiction) -> None:
    outside = dataclasses.replace(kumamoto, nankai_trough_area=False)
    a = one("74_01_04_200512_VYSE50.xml", outside)
    assert a.in_jurisdiction is False and a.wards == ()
    assert decide(a) == ("ignore", "outside-jurisdiction")


def test_hokkaido_sanriku_notice(kumamoto: Jurisdiction) -> None:
    a = one("80_01_01_240821_VYSE60.xml", kumamoto)
    p = a.payload
    assert isinstance(p, MegaquakeNotice)
    assert (p.region, p.level) == (MegaquakeRegion.HOKKAIDO_SANRIKU, MegaquakeLevel.SUBSEQUENT)
    assert p.info_name_ja == "北海道・三陸沖後発地震注意情報" and p.code == ""
    assert p.city_in_area is False and a.in_jurisdiction is False  # 熊本 is not in it
    assert decide(a) == ("ignore", "outside-jurisdiction")
    inside = one("80_01_01_240821_VYSE60.xml",
                 dataclasses.replace(kumamoto, japan_kuril_trench_area=True))
    assert inside.in_jurisdiction and inside.wards == ALL_WARDS
    assert inside.expires == datetime(2024, 7, 25, 16, 30, tzinfo=JST)
    assert decide(inside) == ("auto", "hokkaido-sanriku-subsequent")


def test_unknown_keyword_is_refused_with_its_name(kumamoto: Jurisdiction) -> None:
    data = load("74_01_04_200512_VYSE50.xml").replace("<Name>巨大地震警戒</Name>".encode(),
                                                      "<Name>新しい区分</Name>".encode())
    with pytest.raises(IngestError, match="unknown keyword '新しい区分'"):
        parse_jma(data, kumamoto)


# ------------------------------------------------------------------ 長周期地震動

def test_long_period_motion_elsewhere(kumamoto: Jurisdiction) -> None:
    a = one("78_01_01_240613_VXSE62.xml", kumamoto)
    p = a.payload
    assert isinstance(p, LongPeriodMotion)
    assert p.max_class == 3 and p.max_intensity is Intensity.FIVE_LOWER
    assert p.local_class is None and p.area_class == {}
    assert p.hypocentre is not None and p.hypocentre.code == "286" and p.magnitude == 6.3
    assert p.origin_time == datetime(2020, 11, 21, 2, 23, tzinfo=JST)
    assert "階級３非常に大きな揺れ" in p.free_comment_ja.replace(" ", "")
    assert a.in_jurisdiction is False
    assert decide(a) == ("ignore", "outside-jurisdiction")


def test_long_period_motion_in_kumamoto(kumamoto: Jurisdiction) -> None:
    a = one("variants/kumamoto_78_01_01_240613_VXSE62.xml", kumamoto)
    p = a.payload
    assert isinstance(p, LongPeriodMotion)
    assert p.area_class == {"741": 3} and p.area_names_ja == {"741": "熊本県熊本"}
    assert p.local_class == 3 and p.local_intensity is Intensity.FOUR
    assert a.in_jurisdiction and a.wards == ALL_WARDS and a.areas == ("741",)
    assert a.severity is Severity.SEVERE
    assert decide(a) == ("auto", "long-period-class-2-or-more")
    low = one_bytes(load("variants/kumamoto_78_01_01_240613_VXSE62.xml").replace(
        b"<Code>741</Code><MaxInt>4</MaxInt><MaxLgInt>3</MaxLgInt>",
        b"<Code>741</Code><MaxInt>3</MaxInt><MaxLgInt>1</MaxLgInt>"), kumamoto)
    assert decide(low) == ("ignore", "long-period-class-1")


def one_bytes(data: bytes, jur: Jurisdiction) -> object:
    [a] = parse_jma(data, jur)
    return a


def test_long_period_class_off_the_scale_is_refused(kumamoto: Jurisdiction) -> None:
    data = load("78_01_01_240613_VXSE62.xml").replace(b"<MaxLgInt>3</MaxLgInt>",
                                                      b"<MaxLgInt>5</MaxLgInt>", 1)
    with pytest.raises(IngestError, match="long-period ground motion class '5' is not 0-4"):
        parse_jma(data, kumamoto)


# ------------------------------------------------------------------ 震源要素更新

def test_hypocentre_update_is_an_update_of_the_earthquake_report(
        kumamoto: Jurisdiction) -> None:
    a = one("32-35_03_02_240613_VXSE61.xml", kumamoto)
    p = a.payload
    assert isinstance(p, HypocentreUpdate)
    assert a.msg_type is MsgType.UPDATE and a.references == "jma:地震情報:20090811050711"
    assert p.event_key == "jma:震源要素更新のお知らせ:20090811050711"
    assert p.hypocentre is not None and (p.hypocentre.code, p.hypocentre.name_ja) == (
        "485", "駿河湾")
    assert p.hypocentre.depth_km == 20 and p.magnitude == 6.5 and p.magnitude_ja == "Ｍ６．５"
    assert p.origin_time == datetime(2009, 8, 11, 5, 7, tzinfo=JST)
    assert p.updated_at == datetime(2009, 8, 11, 6, 45, tzinfo=JST)
    assert p.free_comment_ja.startswith("度単位の震源要素は")
    assert decide(a) == ("follow", "corrections-and-cancellations")
    b = one("32-35_06_09_240613_VXSE61.xml", kumamoto)
    assert isinstance(b.payload, HypocentreUpdate) and b.payload.magnitude == 7.2
    assert b.references == "jma:地震情報:20080614084350"
    assert b.payload.hypocentre is not None and b.payload.hypocentre.name_ja == "岩手県内陸南部"


def test_hypocentre_update_cancellation_withdraws_no_earthquake_alert(
        kumamoto: Jurisdiction) -> None:
    a = one("32-35_06_10_100915_VXSE61.xml", kumamoto)
    assert a.msg_type is MsgType.CANCEL
    assert a.references == "jma:震源要素更新のお知らせ:20080614084350"  # not 地震情報


def test_hypocentre_update_without_hypocentre_is_refused(kumamoto: Jurisdiction) -> None:
    data = load("32-35_03_02_240613_VXSE61.xml")
    start, end = data.index(b"<Hypocenter>"), data.index(b"</Hypocenter>") + len(
        b"</Hypocenter>")
    with pytest.raises(IngestError, match="without Body/Earthquake/Hypocenter"):
        parse_jma(data[:start] + data[end:], kumamoto)


# ------------------------------------------------------------------ 地震の活動状況等

def test_seismic_activity_elsewhere_and_nankai_copies(kumamoto: Jurisdiction) -> None:
    izu = one("32-35_09_01_191111_VXSE56.xml", kumamoto)
    p = izu.payload
    assert isinstance(p, SeismicActivity)
    assert p.subject_ja == "伊豆東部の地震活動の見通しに関する情報（第１号）"
    assert not p.nankai_copy and not p.mentions_city and not izu.in_jurisdiction
    assert decide(izu) == ("ignore", "outside-jurisdiction")
    copy = one("74_02_04_200512_VXSE56.xml", kumamoto)
    assert isinstance(copy.payload, SeismicActivity)
    assert copy.payload.nankai_copy
    assert copy.payload.subject_ja == "南海トラフ地震臨時情報（巨大地震警戒）"
    assert decide(copy) == ("ignore", "seismic-activity-nankai-copy")


def test_seismic_activity_naming_the_city_is_held(kumamoto: Jurisdiction) -> None:
    a = one_bytes(kumamoto_activity(), kumamoto)
    assert isinstance(a.payload, SeismicActivity)  # type: ignore[attr-defined]
    assert a.payload.mentions_city and a.in_jurisdiction  # type: ignore[attr-defined]
    assert decide(a) == ("hold", "seismic-activity-mentions-city")


def kumamoto_activity() -> bytes:
    """The Izu sample with its place written as 熊本県熊本地方 (a test variant)."""
    return load("32-35_09_01_191111_VXSE56.xml").replace("伊豆東部".encode(),
                                                          "熊本県熊本地方".encode())


# ------------------------------------------------------------------ 沖合の津波観測

def test_offshore_tsunami_observations(kumamoto: Jurisdiction) -> None:
    a = one("32-39_12_05_250206_VTSE52.xml", kumamoto)
    p = a.payload
    assert isinstance(p, OffshoreTsunami)
    assert a.msg_type is MsgType.UPDATE and a.test is True  # 訓練
    assert a.references == "jma:津波警報・注意報・予報:20160901071000"
    assert [s.name_ja for s in p.stations][:2] == ["静岡御前崎沖", "三重尾鷲沖"]
    first = p.stations[0]
    assert (first.code, first.sensor_ja, first.initial_ja, first.max_height_m,
            first.max_height_ja, first.condition_ja) == (
        "38090", "ＧＰＳ波浪計", "押し", 1.8, "１．８ｍ", "重要")
    assert first.first_arrival == datetime(2016, 9, 1, 7, 10, tzinfo=JST)
    assert len(p.stations) == 8 and p.estimates[0].name_ja == "静岡県"
    assert decide(a) == ("follow", "corrections-and-cancellations")
    b = one("61_11_01_250206_VTSE52.xml", kumamoto)
    q = b.payload
    assert isinstance(q, OffshoreTsunami)
    assert [s.max_height_m for s in q.stations] == [None, None, None]
    assert q.stations[0].condition_ja == "観測中"
    assert q.estimates[0].height_m is None and q.estimates[0].height_ja == "巨大"
    assert q.comments[0].codes == ("0115",)
    assert q.magnitude is None and q.magnitude_ja == "Ｍ８を超える巨大地震"


# ------------------------------------------------------------------ configuration

def _config(tmp_path: Path, old: str, new: str) -> object:
    text = Path(CONFIG.path).read_text(encoding="utf-8")
    assert old in text
    return load_config(write_config(tmp_path, text.replace(old, new, 1)))


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ("nankai_trough_area = true", 'nankai_trough_area = "yes"',
     "jurisdiction.nankai_trough_area", "true or false"),
    ('place_words = ["熊本"]', "place_words = [1]", "jurisdiction.place_words",
     "non-empty strings"),
])
def test_bad_jurisdiction_settings_name_the_key(tmp_path: Path, old: str, new: str, key: str,
                                                message: str) -> None:
    cfg = _config(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message) as info:
        Jurisdiction.from_config(cfg)  # type: ignore[arg-type]
    assert info.value.key == key


@pytest.mark.parametrize(("rule", "key", "message"), [
    ("min_long_period_class = 5", "min_long_period_class", "integer from 1 to 4"),
    ('notice = ["nankai_maybe"]', "notice", "unknown value 'nankai_maybe'"),
])
def test_bad_notice_rules_name_the_key(tmp_path: Path, rule: str, key: str,
                                       message: str) -> None:
    head = Path(CONFIG.path).read_text(encoding="utf-8").split("[policy]")[0]
    cfg = load_config(write_config(
        tmp_path, head + f'[[policy.rules]]\nname = "x"\naction = "auto"\n{rule}\n'))
    with pytest.raises(ConfigError, match=message) as info:
        load_rules(cfg)
    assert info.value.key == f"policy.rules[0].{key}"
