"""Every alert kind renders in all 16 languages on every channel: official terms,
no raw keys, no leftover placeholders, every part within the channel's limit."""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import TEMPLATES_DIR, Config, load_config
from bot.domain import Alert, Evacuation, EvacuationLevel, Kind, MsgType
from bot.render import Renderer, load_renderer, terms
from bot.render.catalog import Catalogs
from bot.render.timefmt import format_jst
from channels.base import Limits
from channels.lengths import LengthUnit, measure
from channels.telegram import TelegramChannel
from tests.render_alerts import ALERTS, EARTHQUAKE, ISSUED, ORIGIN, alert, at

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
    assert "架空の警報" in text  # a code without a catalog name keeps JMA's name
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
    assert "Warning (架空の警報) (issued)" in text
    for level, name in ((3, "Evacuation of Elderly People, etc."),
                        (4, "Evacuation Instruction"), (5, "Emergency Safety Measure")):
        a = alert(Kind.EVACUATION, Evacuation(level=EvacuationLevel(level)), source="operator")
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
        cancel = renderer.text(ALERTS["earthquake_cancel"], language)[0].split("\n")
        assert cancel[0] == cats.text(language, "cancel.title.no_area",
                                      subject=cats.text(language, "subject.earthquake"))
        assert cancel[1] == cats.text(language, "cancel.body")
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


def test_typed_values_render_as_jma_writes_them(renderer: Renderer) -> None:
    en, _ = renderer.text(EARTHQUAKE, "en")
    assert "Magnitude: 7.3" in en
    assert "Magnitude: 7.0" in renderer.text(ALERTS["earthquake_update"], "en")[0]
    tsunami, _ = renderer.text(ALERTS["tsunami"], "en")
    assert "Expected height: 3 m" in tsunami and "Expected height: 1 m" in tsunami
    # JMA writes １０ｍ超 as 10 with the description: "over 10 m", never "10 m".
    over, _ = renderer.text(ALERTS["tsunami_over_10m"], "en")
    assert "Expected height: over 10 m" in over


def test_a_kind_without_its_payload_shows_the_sources_words(renderer: Renderer) -> None:
    """A CAP tsunami warning is not rendered as a JMA forecast with no areas, and an
    earthquake notice typed by staff keeps the staff's text."""
    cap, _ = renderer.text(ALERTS["tsunami_from_cap"], "en")
    assert "Tsunami warning for the coast" in cap
    assert renderer.catalogs.text("en", "tsunami.title.forecast") not in cap
    staff, _ = renderer.text(ALERTS["earthquake_typed_by_staff"], "ja")
    assert "市内で強い揺れがありました。" in staff
    # A CAP alert leads with the sender's headline (the key fact a notification shows),
    # not with a report title of ours.
    evacuation, _ = renderer.text(ALERTS["evacuation_from_cap"], "ja")
    assert evacuation.splitlines()[0] == "避難指示（北区）"
    assert renderer.catalogs.text("ja", "evacuation.title") not in evacuation
    assert "北区の一部に避難指示を発令しました。" in evacuation
