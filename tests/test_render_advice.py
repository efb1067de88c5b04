"""Every line a resident reads is tied to a fact in the source document.

Checked on the text itself, in several languages, against real JMA documents (and
Kumamoto variants of them, tests/fixtures/SOURCES.md):

* a far earthquake (震度1 in 南区 while tsunami advisories were in force elsewhere,
  the Noto case) gives no coast advice and no aftershock advice;
* coast advice only when a tsunami notice covers one of the city's coasts;
* a report JMA issued for a volcanic eruption (シベルチ火山, Kamchatka, 2023-04-10)
  says it was an eruption, in every language, with JMA's own words;
* a 津波情報 (VTSE51) says Major Tsunami Warning when one is in force;
* the first line (all a phone notification shows) is the key fact for the city.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.domain import Alert, Earthquake, Intensity, Kind
from bot.ingest.jurisdiction import Jurisdiction
from bot.render import Renderer, load_renderer
from bot.render.catalog import Catalogs
from tests.jma_helpers import one
from tests.render_alerts import EARTHQUAKE, alert

LANGUAGES = (
    "ja", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "tl",
    "ne", "id", "th", "pt", "es", "my", "km", "mn",
)
# The word for the coast in some languages: no such word where no coast is concerned.
COAST = {"en": "coast", "ja": "海岸", "vi": "bờ biển", "zh-Hans": "海岸", "ne": "किनार"}
FAR_QUAKE = "variants/kumamoto_32-35_07_06_240613_VXSE53.xml"  # 駿河湾 2009 + 南区 震度1
ERUPTION = "variants/reconstructed_230410_VXSE53_shiveluch.xml"
MAJOR_IN_740 = "variants/kumamoto_32-39_11_08_250206_VTSE51.xml"
EPICENTERS = Path(__file__).resolve().parent.parent / "bot" / "data" / "epicenters.json"
ADVICE = ("earthquake.advice.strong", "earthquake.advice.moderate", "earthquake.tsunami.warning",
          "earthquake.tsunami.possible", "tsunami.advice.warning", "tsunami.advice.advisory",
          "tsunami.advice.forecast", "tsunami.advice.lifted")
EVACUATE = ("jma_comment.0121", "jma_comment.0122", "jma_comment.0123", "jma_comment.0131",
            "jma_comment.0141", "jma_comment.0149", "tsunami.advice.warning",
            "tsunami.advice.advisory")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def renderer(config: Config) -> Renderer:
    return load_renderer(config)


@pytest.fixture(scope="module")
def cats(renderer: Renderer) -> Catalogs:
    return renderer.catalogs


@pytest.fixture(scope="module")
def jur(config: Config) -> Jurisdiction:
    return Jurisdiction.from_config(config)


def lines(renderer: Renderer, a: Alert, language: str) -> list[str]:
    text, _ = renderer.text(a, language)
    return text.splitlines()


def body(renderer: Renderer, a: Alert, language: str) -> list[str]:
    """The text without the drill banners of a drill sample."""
    banner = renderer.catalogs.text(language, "common.test_banner")
    return [line for line in lines(renderer, a, language) if line != banner]


def coast_name(cats: Catalogs, code: str, language: str) -> str:
    return cats.text(language, f"term.tsunami_area.{code}")


# ---------------------------------------------------------------- the far earthquake


@pytest.mark.parametrize("language", LANGUAGES)
def test_far_earthquake_gives_no_coast_and_no_aftershock_advice(
        language: str, renderer: Renderer, cats: Catalogs, config: Config,
        jur: Jurisdiction) -> None:
    a = one(FAR_QUAKE, jur)
    assert a.in_jurisdiction and a.wards == ("43104",)
    text = "\n".join(lines(renderer, a, language))
    for key in ADVICE:
        assert cats.text(language, key) not in text, key
    if language in COAST:
        assert COAST[language] not in text.casefold()
    # JMA's own words are carried: warnings are in force (somewhere), an EEW was issued.
    assert cats.text(language, "jma_comment.0211") in text
    assert cats.text(language, "jma_comment.0241") in text
    first = lines(renderer, a, language)[0]
    fact = cats.text(language, "earthquake.fact.wards",
                     intensity=cats.text(language, "intensity.1"),
                     wards=config.ward("43104").names[language])
    assert first == cats.text(language, "earthquake.lead", fact=fact)


def test_far_earthquake_in_english_and_japanese(renderer: Renderer, jur: Jurisdiction) -> None:
    a = one(FAR_QUAKE, jur)
    en = lines(renderer, a, "en")
    assert en[0] == "Earthquake: Seismic intensity 1 in Minami Ward"
    assert "Stay away from the coast" not in "\n".join(en)
    assert "aftershock" not in "\n".join(en)
    assert lines(renderer, a, "ja")[0] == "【地震】南区で震度1"


# ---------------------------------------------------------------- advice by the city's intensity


def quake(**city: Intensity) -> Alert:
    wards = {"chuo": "43101", "minami": "43104"}
    return alert(Kind.EARTHQUAKE, replace(
        EARTHQUAKE.payload, ward_intensity={wards[k]: v for k, v in city.items()},
        max_intensity=Intensity.SEVEN))


@pytest.mark.parametrize("language", ("ja", "en", "vi", "zh-Hans", "ne"))
@pytest.mark.parametrize(("city", "advice", "now"), [
    ({"chuo": Intensity.FIVE_LOWER, "minami": Intensity.FOUR}, "earthquake.advice.strong",
     "earthquake.now.strong"),
    ({"chuo": Intensity.FOUR}, "earthquake.advice.moderate", "earthquake.now.moderate"),
    ({"minami": Intensity.THREE}, None, None),
    ({}, None, None),
])
def test_aftershock_advice_follows_the_citys_intensity(
        language: str, city: dict[str, Intensity], advice: str | None, now: str | None,
        renderer: Renderer, cats: Catalogs, config: Config) -> None:
    """Maximum 震度7 elsewhere in every case: only the city's own intensity counts."""
    got = lines(renderer, quake(**city), language)
    shown = {k for k in ("earthquake.advice.strong", "earthquake.advice.moderate")
             if cats.text(language, k) in got}
    assert shown == ({advice} if advice else set())
    if not city:
        assert got[0] == cats.text(language, "earthquake.lead", fact=cats.text(
            language, "earthquake.fact.epicenter_max",
            epicenter=_epicenter("741", config, language),
            intensity=cats.text(language, "intensity.7")))
        return
    top = max(city.values())
    wards = [config.ward({"chuo": "43101", "minami": "43104"}[k]).names[language]
             for k, v in city.items() if v == top]
    fact = cats.text(language, "earthquake.fact.wards",
                     intensity=cats.text(language, f"intensity.{top.code}"),
                     wards=cats.text(language, "list.separator").join(wards))
    if now is None:
        assert got[0] == cats.text(language, "earthquake.lead", fact=fact)
    else:
        assert got[0] == cats.text(language, "earthquake.lead.action", fact=fact,
                                   action=cats.text(language, now))


def _epicenter(code: str, config: Config, language: str) -> str:
    field = config.language(language).jma_field
    assert field is not None
    names: dict[str, dict[str, str]] = json.loads(EPICENTERS.read_text(encoding="utf-8"))
    return names[code][field].strip()


def test_first_line_of_a_strong_local_quake(renderer: Renderer) -> None:
    first = lines(renderer, EARTHQUAKE, "en")[0]
    assert first == ("Seismic intensity 6 Upper in Chuo Ward, Higashi Ward, Nishi Ward, "
                     "Minami Ward — watch for aftershocks and stay away from damaged buildings "
                     "and steep slopes")
    assert lines(renderer, EARTHQUAKE, "ja")[0] == (
        "中央区、東区、西区、南区で震度6強。余震に警戒し、壊れた建物や崖に近づかないでください")


# ---------------------------------------------------------------- the volcanic eruption


@pytest.mark.parametrize("language", LANGUAGES)
def test_eruption_report_says_eruption_in_every_language(
        language: str, renderer: Renderer, cats: Catalogs, config: Config,
        jur: Jurisdiction) -> None:
    a = one(ERUPTION, jur)
    assert isinstance(a.payload, Earthquake) and a.payload.volcanic_eruption
    got = lines(renderer, a, language)
    text = "\n".join(got)
    assert got[0] == cats.text(language, "earthquake.lead.eruption",
                               place=_epicenter("941", config, language))
    assert cats.text(language, "jma_comment.eruption_note") in got
    assert cats.text(language, "jma_comment.0229") in got  # tsunami for Japan: being checked
    # JMA's own words, labelled, with the volcano and the fact of the eruption.
    label = got.index(cats.text(language, "jma_comment.original"))
    assert got[label + 1].startswith("令和５年４月１０日２２時１０分頃（日本時間）にシベルチ火山で"
                                     "大規模な噴火が発生しました")
    when = renderer.context(a, language).when(a.payload.origin_time)
    assert cats.text(language, "earthquake.eruption.time", time=when) in got
    # Nothing that says there was an earthquake.
    assert cats.text(language, "earthquake.time", time=when) not in got
    for key in ("earthquake.title", "earthquake.title.epicenter", "earthquake.title.intensity"):
        assert cats.text(language, key) not in text
    assert cats.text(language, "earthquake.epicenter",
                     epicenter=_epicenter("941", config, language)) not in text


def test_eruption_in_english(renderer: Renderer, jur: Jurisdiction) -> None:
    got = lines(renderer, one(ERUPTION, jur), "en")
    assert got[0] == ("Large volcanic eruption: Adjacent Kamchatka Peninsula "
                      "(this was not an earthquake)")
    assert "Comment from JMA (original Japanese):" in got
    assert "Earthquake information" not in "\n".join(got)


# ---------------------------------------------------------------- tsunami: class per coast


@pytest.mark.parametrize("language", LANGUAGES)
def test_tsunami_information_during_a_major_warning_on_a_city_coast(
        language: str, renderer: Renderer, cats: Catalogs, config: Config,
        jur: Jurisdiction) -> None:
    """VTSE51 (津波観測に関する情報) of 2011-03-11 14:59, with 熊本県天草灘沿岸 under the
    大津波警報 (a Kumamoto variant): the first line says so and tells what to do."""
    a = one(MAJOR_IN_740, jur)
    got = lines(renderer, a, language)
    area = coast_name(cats, "740", language)
    assert got[0] == cats.text(language, "tsunami.lead.major_warning", areas=area)
    major = cats.text(language, "tsunami.kind.major_warning")
    assert cats.text(language, "tsunami.area", area=area, kind=major) in got
    assert cats.text(language, "tsunami.advice.warning") in got


@pytest.mark.parametrize("language", LANGUAGES)
def test_tsunami_information_names_a_major_warning_in_force_elsewhere(
        language: str, renderer: Renderer, cats: Catalogs, config: Config,
        jur: Jurisdiction) -> None:
    """The real VTSE51 of 2011-03-11 14:59: the city's coasts have a forecast while a
    大津波警報 is in force for 青森県太平洋沿岸 … 福島県. The message must not read as a
    forecast alone; and the city's coasts get no evacuation advice."""
    a = one("32-39_11_08_250206_VTSE51.xml", jur)
    got = lines(renderer, a, language)
    sep = cats.text(language, "list.separator")
    areas = sep.join(coast_name(cats, c, language) for c in ("712", "740"))
    assert got[0] == cats.text(language, "tsunami.lead.forecast", areas=areas)
    assert cats.text(language, "tsunami.elsewhere",
                     kind=cats.text(language, "tsunami.kind.major_warning"),
                     areas=sep.join(("青森県太平洋沿岸", "岩手県", "宮城県", "福島県"))) in got
    text = "\n".join(got)
    for key in EVACUATE:
        assert cats.text(language, key) not in text, key


@pytest.mark.parametrize("language", ("ja", "en", "vi", "zh-Hans", "ne"))
def test_coast_advice_when_a_city_coast_is_under_a_warning(
        language: str, renderer: Renderer, cats: Catalogs, config: Config,
        jur: Jurisdiction) -> None:
    """VTSE41 (drill, 2016-09-01): 津波警報 for 712 and 740. JMA's own instructions for a
    warning are carried; those for the classes the city's coasts are not under are not."""
    got = body(renderer, one("32-39_12_02_250206_VTSE41.xml", jur), language)
    sep = cats.text(language, "list.separator")
    areas = sep.join(coast_name(cats, c, language) for c in ("712", "740"))
    assert got[0] == cats.text(language, "tsunami.lead.warning", areas=areas)
    text = "\n".join(got)
    for key in ("jma_comment.0122", "jma_comment.0131", "jma_comment.0149"):
        assert cats.text(language, key) in text, key
    for key in ("jma_comment.0121", "jma_comment.0123", "jma_comment.0141"):
        assert cats.text(language, key) not in text, key  # major warning, advisory: elsewhere


@pytest.mark.parametrize("language", ("ja", "en", "vi", "zh-Hans", "ne"))
def test_no_coast_advice_when_the_city_has_only_a_forecast(
        language: str, renderer: Renderer, cats: Catalogs, jur: Jurisdiction) -> None:
    """VTSE41 of 2011-03-11 14:49: 大津波警報 for 岩手県 … ; the city's coasts: 津波予報."""
    got = lines(renderer, one("32-39_11_02_250206_VTSE41.xml", jur), language)
    text = "\n".join(got)
    for key in EVACUATE:
        assert cats.text(language, key) not in text, key
    assert cats.text(language, "jma_comment.0124") in text  # JMA's words for a forecast
    assert cats.text(language, "tsunami.kind.major_warning") in text  # named, elsewhere


def test_tsunami_report_without_the_citys_coasts(renderer: Renderer, jur: Jurisdiction) -> None:
    """VTSE41 (drill) with advisories elsewhere only. Nothing tells Kumamoto
    to leave the coast, and the first line says the city's coasts are not in it."""
    a = one("32-39_13_02_250206_VTSE41.xml", jur)
    got = body(renderer, a, "en")
    assert got[0] == ("Tsunami Advisory for other coasts of Japan — this report has no tsunami "
                      "warning, advisory or forecast for the coasts of Kumamoto City")
    assert "get out of the sea" not in "\n".join(got[1:]).casefold()
