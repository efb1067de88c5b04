"""Every alert kind renders in all 16 languages on every channel: official terms,
no raw keys, no leftover placeholders, every part within the channel's limit."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import TEMPLATES_DIR, Config, load_config
from bot.domain import Alert, Kind, MsgType
from bot.render import Renderer, load_renderer, terms
from bot.render.catalog import Catalogs
from bot.render.timefmt import format_jst
from channels.base import LengthUnit, Limits, measure
from channels.telegram import TelegramChannel

JST = dt.timezone(dt.timedelta(hours=9))
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "jma"
LANGUAGES = (
    "ja", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "tl",
    "ne", "id", "th", "pt", "es", "my", "km", "mn",
)
ALL_WARDS = ("43101", "43102", "43103", "43104", "43105")


def _limits(module: str, cls: str, text_limit: int, unit: LengthUnit) -> Limits:
    try:
        mod = importlib.import_module(module)
        limits: Limits = getattr(mod, cls).spec.limits
        return limits
    except (ImportError, AttributeError):
        return Limits(text_limit=text_limit, length_unit=unit, recipients_per_request=1,
                      parts_per_request=1, max_parts=None, requests_per_second=1.0)


CHANNELS = {
    "telegram": TelegramChannel.spec.limits,
    "line": _limits("channels.line", "LineChannel", 5000, LengthUnit.UTF16),
    "x": _limits("channels.x", "XChannel", 280, LengthUnit.WEIGHTED),
}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


ISSUED = at("2016-04-16T01:30:00+09:00")
ORIGIN = "2016-04-16T01:25:00+09:00"


def alert(kind: Kind, params: dict[str, Any], **kw: Any) -> Alert:
    return Alert(source=kw.pop("source", "jma"), source_id=kw.pop("source_id", f"{kind}-1"),
                 kind=kind, issued=ISSUED, params=params, **kw)


EARTHQUAKE = alert(Kind.EARTHQUAKE, {
    "info_kind": "epicenter_intensity", "origin_time": ORIGIN, "epicenter_code": "741",
    "epicenter_name_ja": "熊本県熊本地方", "magnitude": "7.3", "depth_km": 12,
    "max_intensity": "7",
    "ward_intensity": {"43101": "6+", "43102": "6+", "43103": "6+", "43104": "6+",
                       "43105": "6-"},
    "tsunami": "slight", "tsunami_comment_ja": "この地震による津波の心配はありません。",
}, wards=ALL_WARDS)

ALERTS: dict[str, Alert] = {
    "earthquake": EARTHQUAKE,
    "earthquake_intensity": alert(Kind.EARTHQUAKE, {
        "info_kind": "intensity", "origin_time": ORIGIN, "max_intensity": "5-",
        "ward_intensity": {"43101": "5-", "43104": "4"}, "tsunami": "unknown",
    }, wards=("43101", "43104")),
    "earthquake_epicenter": alert(Kind.EARTHQUAKE, {
        "info_kind": "epicenter", "origin_time": ORIGIN, "epicenter_code": "741",
        "magnitude": "3.1", "depth_km": 0, "tsunami": "none",
    }),
    "earthquake_sparse": alert(Kind.EARTHQUAKE, {"epicenter_code": "99999", "magnitude": None,
                                                 "ward_intensity": "garbage"}),
    "earthquake_update": alert(Kind.EARTHQUAKE, {**EARTHQUAKE.params, "magnitude": "7.0"},
                               msg_type=MsgType.UPDATE, references="earthquake-1",
                               source_id="earthquake-2"),
    "earthquake_cancel": alert(Kind.EARTHQUAKE, {}, msg_type=MsgType.CANCEL,
                               references="earthquake-1", source_id="earthquake-3"),
    "eew": alert(Kind.EEW, {"epicenter_code": "741"}),
    "tsunami": alert(Kind.TSUNAMI, {"areas": [
        {"code": "712", "name_ja": "有明・八代海", "kind": "warning", "kind_code": "51",
         "first_arrival": "2016-04-16T02:00:00+09:00", "arrival_condition_ja": None,
         "height_m": "3", "height_ja": "３ｍ"},
        {"code": "740", "name_ja": "熊本県天草灘沿岸", "kind": "advisory", "kind_code": "62",
         "first_arrival": None, "arrival_condition_ja": "津波到達中と推測", "height_m": "1",
         "height_ja": "１ｍ"},
    ]}),
    "tsunami_major": alert(Kind.TSUNAMI, {"areas": [
        {"code": "712", "name_ja": "有明・八代海", "kind": "major_warning", "height_m": None,
         "height_ja": "巨大", "arrival_condition_ja": "ただちに津波来襲と予測"},
    ]}),
    "tsunami_lifted": alert(Kind.TSUNAMI, {"areas": [
        {"code": "712", "name_ja": "有明・八代海", "kind": "lifted"},
        {"code": "740", "name_ja": "熊本県天草灘沿岸", "kind": "forecast"},
    ]}),
    "tsunami_elsewhere": alert(Kind.TSUNAMI, {"areas": [
        {"code": str(100 + i), "name_ja": f"沿岸{i}", "kind": "advisory"} for i in range(8)
    ]}),
    "weather": alert(Kind.WEATHER_WARNING, {"area_code": "4310000", "warnings": [
        {"code": "33", "name_ja": "大雨特別警報", "level": "emergency", "status": "issued"},
        {"code": "04", "name_ja": "洪水警報", "level": "warning", "status": "continued"},
        {"code": "14", "name_ja": "雷注意報", "level": "advisory", "status": "issued"},
        {"code": "15", "name_ja": "強風注意報", "level": "advisory", "status": "lifted"},
        {"code": "43", "name_ja": "大雨危険警報", "level": "warning", "status": "issued"},
    ]}),
    "weather_lifted": alert(Kind.WEATHER_WARNING, {"warnings": [
        {"code": "03", "name_ja": "大雨警報", "level": "warning", "status": "lifted"},
    ]}, wards=("43105",)),
    "landslide": alert(Kind.LANDSLIDE, {"status": "issued",
                                        "text_ja": "土砂災害の危険度が非常に高まっています。"},
                       wards=("43105", "43103")),
    "landslide_lifted": alert(Kind.LANDSLIDE, {"status": "lifted"}),
    "volcano": alert(Kind.VOLCANO, {"volcano_code": "503", "volcano_name_ja": "阿蘇山",
                                    "level": 3, "warning_code": "02",
                                    "warning_name_ja": "火口周辺警報", "flash": False}),
    "volcano_flash": alert(Kind.VOLCANO, {"volcano_code": "503", "volcano_name_ja": "阿蘇山",
                                          "level": None, "flash": True}),
    "heavy_rain": alert(Kind.HEAVY_RAIN, {"text_ja": "熊本市北区付近で約１２０ミリ",
                                          "area_names_ja": ["熊本市北区付近"]},
                        wards=("43105",)),
    "evacuation": alert(Kind.EVACUATION, {"level": 4}, source="operator", wards=("43104",),
                        headline_ja="南区に避難指示", body_ja="加勢川の水位が上がっています。",
                        texts={"en": "The Kase River is rising."}),
    "evacuation_5": alert(Kind.EVACUATION, {"level": 5}, source="operator"),
    "evacuation_3": alert(Kind.EVACUATION, {"level": "3"}, source="operator"),
    "shelter": alert(Kind.SHELTER, {"action": "opened", "shelter_id": "00000264"},
                     source="operator", wards=("43105",)),
    "shelter_closed": alert(Kind.SHELTER, {"action": "closed", "shelter_id": "nope"},
                            source="operator"),
    "lifeline": alert(Kind.LIFELINE, {"utility": "water"}, source="operator",
                      body_ja="給水所を開設しました。"),
    "city_notice": alert(Kind.CITY_NOTICE, {}, source="operator", headline_ja="ごみ収集の変更",
                         body_ja="明日のごみ収集は中止します。"),
    "drill": alert(Kind.DRILL, {}, source="operator", test=True, body_ja="これは訓練です。"),
}


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def renderer(config: Config) -> Renderer:
    return load_renderer(config)


@pytest.fixture(scope="module")
def keys() -> frozenset[str]:
    cats = Catalogs.load(TEMPLATES_DIR, ("ja",))
    return frozenset(cats.by_language["ja"].messages)


def check(renderer: Renderer, a: Alert, language: str, channel: str,
          keys: frozenset[str]) -> str:
    limits = CHANNELS[channel]
    r = renderer.render(a, language, channel, limits)
    assert r.parts
    for part, length in zip(r.parts, r.lengths, strict=True):
        assert length == measure(part, limits.length_unit) <= limits.text_limit
    text = "\n".join(r.parts)
    assert "{" not in text and "}" not in text, text
    leaked = [k for k in keys if k in text]
    assert not leaked, f"raw message keys in output: {leaked}"
    return text


@pytest.mark.parametrize("channel", sorted(CHANNELS))
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(ALERTS))
def test_every_kind_renders(name: str, language: str, channel: str, renderer: Renderer,
                            keys: frozenset[str]) -> None:
    check(renderer, ALERTS[name], language, channel, keys)


@pytest.fixture(scope="module")
def epicenters() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(
        (ROOT / "bot" / "data" / "epicenters.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("language", LANGUAGES)
def test_earthquake_content(language: str, renderer: Renderer, config: Config,
                            epicenters: dict[str, dict[str, str]]) -> None:
    text, _ = renderer.text(EARTHQUAKE, language)
    field = config.language(language).jma_field  # the languages table
    assert field is not None and field == terms.DICTIONARY_FIELDS[language]
    assert epicenters["741"][field].strip() in text
    cats = renderer.catalogs
    assert cats.text(language, "intensity.6+") in text
    assert cats.text(language, "intensity.7") in text
    assert format_jst(at(ORIGIN), language) in text
    assert format_jst(ISSUED, language) in text
    assert config.ward("43105").names[language] in text  # 6 Lower: Kita Ward alone
    assert config.city_display_name(language) in text
    assert not cats.gaps


def test_earthquake_in_english_and_japanese(renderer: Renderer) -> None:
    en, _ = renderer.text(EARTHQUAKE, "en")
    assert "Epicenter: Kumamoto Region, Kumamoto Prefecture\n" in en
    assert "Seismic intensity 6 Upper: Chuo Ward, Higashi Ward, Nishi Ward, Minami Ward" in en
    assert "Seismic intensity 6 Lower: Kita Ward" in en
    assert "Apr 16, 2016" in en and "1:25" in en and "JST" in en
    ja, _ = renderer.text(EARTHQUAKE, "ja")
    assert "震源地：熊本県熊本地方" in ja
    assert "震度6強：中央区、東区、西区、南区" in ja
    assert "4月16日 1時25分" in ja


@pytest.mark.parametrize("language", LANGUAGES)
def test_tsunami_and_warning_names(language: str, renderer: Renderer) -> None:
    cats = renderer.catalogs
    text, _ = renderer.text(ALERTS["tsunami"], language)
    assert terms.tsunami_area_name("712", language) in text  # type: ignore[operator]
    assert terms.tsunami_area_name("740", language) in text  # type: ignore[operator]
    assert cats.text(language, "tsunami.kind.warning") in text
    assert format_jst(at("2016-04-16T02:00:00+09:00"), language) in text
    text, _ = renderer.text(ALERTS["weather"], language)
    for code in ("33", "04", "14", "15"):
        assert cats.text(language, f"warning.{code}") in text
    assert "大雨危険警報" in text  # a code without a catalog name keeps JMA's name
    text, _ = renderer.text(ALERTS["volcano"], language)
    assert terms.volcano_name("503", language) in text  # type: ignore[operator]
    assert cats.text(language, "volcano.level.3") in text


def test_official_english_names(renderer: Renderer) -> None:
    text, _ = renderer.text(ALERTS["tsunami"], "en")
    assert "Ariake and Yatsushiro Seas: Tsunami Warning" in text
    assert "Kumamoto Prefecture Amakusa-nada Coast: Tsunami Advisory" in text
    text, _ = renderer.text(ALERTS["weather"], "en")
    assert "Heavy Rain Emergency Warning (issued)" in text
    assert "Flood Warning (continued)" in text
    assert "Warning (大雨危険警報) (issued)" in text
    for level, name in ((3, "Evacuation of Elderly People, etc."),
                        (4, "Evacuation Instruction"), (5, "Emergency Safety Measure")):
        a = alert(Kind.EVACUATION, {"level": level}, source="operator")
        assert name in renderer.text(a, "en")[0]


def test_place_names_come_from_the_catalogs(renderer: Renderer) -> None:
    cats = renderer.catalogs
    text, _ = renderer.text(ALERTS["tsunami"], "th")
    assert cats.text("th", "term.tsunami_area.712") in text
    assert cats.text("th", "term.tsunami_area.740") in text
    text, _ = renderer.text(ALERTS["volcano"], "km")
    assert cats.text("km", "term.volcano.503") in text


def test_shelter_shows_name_address_and_map(renderer: Renderer) -> None:
    text, _ = renderer.text(ALERTS["shelter"], "vi")
    assert "TKUプラザ" in text
    assert "熊本県熊本市北区徳王1丁目8-1" in text
    assert "https://www.google.com/maps/search/?api=1&query=32.83955795,130.70778" in text
    assert renderer.catalogs.text("vi", "shelter.title.opened") in text


def test_free_text_without_translator(renderer: Renderer) -> None:
    a = ALERTS["evacuation"]
    vi, mt = renderer.text(a, "vi")
    assert not mt
    assert "The Kase River is rising." in vi  # the operator's English, with a note
    assert renderer.catalogs.text("vi", "note.translation_unavailable") in vi
    easy, _ = renderer.text(a, "ja-easy")
    assert "加勢川の水位が上がっています。" in easy
    assert renderer.catalogs.text("ja-easy", "note.translation_unavailable") not in easy


def test_update_cancel_and_test_banners(renderer: Renderer) -> None:
    for language in LANGUAGES:
        cats = renderer.catalogs
        assert cats.text(language, "common.update_lead") in renderer.text(
            ALERTS["earthquake_update"], language)[0]
        assert cats.text(language, "common.cancel_lead") in renderer.text(
            ALERTS["earthquake_cancel"], language)[0]
        assert cats.text(language, "common.test_banner") in renderer.text(
            ALERTS["drill"], language)[0]


def test_long_text_is_split_into_an_x_thread(renderer: Renderer) -> None:
    r = renderer.render(EARTHQUAKE, "ja", "x", CHANNELS["x"])
    assert len(r.parts) > 1
    assert r.parts[0].endswith(f"(1/{len(r.parts)})")


# ---------------------------------------------------------------- fallback


def _po(language: str, messages: dict[str, str]) -> str:
    lines = ['msgid ""', 'msgstr ""', f'"Language: {language}\\n"',
             '"Content-Type: text/plain; charset=UTF-8\\n"', '"X-Native-Review: no\\n"', ""]
    for k, v in messages.items():
        lines += [f'msgid "{k}"', f'msgstr "{v}"', ""]
    return "\n".join(lines)


def test_missing_message_falls_back_to_english_then_easy_japanese(tmp_path: Path) -> None:
    catalogs = {
        "ja": {"a.key": "日本語", "b.key": "日本語B", "c.key": "日本語C"},
        "ja-easy": {"a.key": "にほんご", "b.key": "にほんごB", "c.key": "にほんごC"},
        "en": {"a.key": "English", "c.key": "English C"},
        "zh-Hans": {"a.key": "简体", "b.key": "简体B", "c.key": "简体C"},
        "zh-Hant": {"a.key": "繁體"},
    }
    for tag, messages in catalogs.items():
        (tmp_path / f"{tag}.po").write_text(_po(tag, messages), encoding="utf-8")
    cats = Catalogs.load(tmp_path, catalogs, ("en", "ja-easy"))
    assert cats.text("zh-Hant", "a.key") == "繁體"
    assert cats.text("zh-Hant", "c.key") == "English C"  # never 简体C
    assert cats.text("zh-Hant", "b.key") == "にほんごB"  # not in en either
    assert cats.gaps == {("zh-Hant", "c.key"), ("zh-Hant", "b.key")}


# ---------------------------------------------------------------- real JMA samples

HAS_PARSER = importlib.util.find_spec("bot.ingest.jma") is not None


def _samples() -> Iterator[Path]:
    if FIXTURES.is_dir():
        yield from sorted(p for p in FIXTURES.iterdir() if p.name.endswith((".xml", ".xml.gz")))


def _kumamoto_alerts(config: Config) -> list[tuple[str, Alert]]:
    from bot.errors import BousaiError
    from bot.ingest.jma import parse_jma
    from bot.ingest.jurisdiction import Jurisdiction

    jur = Jurisdiction.from_config(config)
    out: list[tuple[str, Alert]] = []
    for path in _samples():
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        try:
            alerts = parse_jma(data, jur)
        except BousaiError:
            continue
        out.extend((path.name, a) for a in alerts if a.in_jurisdiction)
    return out


@pytest.mark.skipif(not HAS_PARSER, reason="bot.ingest.jma is not there yet")
def test_real_kumamoto_samples_render_everywhere(renderer: Renderer, config: Config,
                                                 keys: frozenset[str]) -> None:
    samples = _kumamoto_alerts(config)
    assert samples, "expected JMA samples that concern 熊本"
    kinds = set()
    for _name, a in samples:
        kinds.add(a.kind)
        for language in LANGUAGES:
            for channel in CHANNELS:
                check(renderer, a, language, channel, keys)
    assert {Kind.EARTHQUAKE, Kind.TSUNAMI} <= kinds
    tsunami = next(a for _n, a in samples if a.kind is Kind.TSUNAMI
                   and a.msg_type is MsgType.ALERT)
    text, _ = renderer.text(tsunami, "en")
    assert "Ariake and Yatsushiro Seas" in text
