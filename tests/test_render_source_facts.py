"""The text a resident reads says what the source says, in several languages.

Facts are read from the JMA documents themselves with ElementTree (not through
the project's parser), then looked for, line by line, in the rendered text.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from bot.config import load_config
from bot.ingest.jurisdiction import Jurisdiction
from bot.render import Renderer, load_renderer, terms
from bot.render.timefmt import format_jst
from tests.jma_helpers import load, one

LANGUAGES = ("ja", "en", "zh-Hans", "ko", "es", "pt", "vi", "ne")
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)  # every sample is from an earlier year
FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def facts(name: str) -> ET.Element:
    return ET.fromstring(load(name))  # a fixture from JMA, not a hostile document


def find(root: ET.Element, path: str) -> list[ET.Element]:
    """Elements along ``path`` (local names separated by /), whatever the namespaces."""
    found = [root]
    for step in path.split("/"):
        found = [c for el in found for c in el.iter() if c.tag.rsplit("}", 1)[-1] == step
                 and c is not el]
    return found


def text_of(el: ET.Element, name: str) -> str:
    return next(c.text or "" for c in el.iter() if c.tag.rsplit("}", 1)[-1] == name)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    r = load_renderer(load_config())
    r.now = NOW
    return r


@pytest.mark.parametrize("language", LANGUAGES)
def test_earthquake_report(language: str, renderer: Renderer) -> None:
    name = "32-35_04_04_240613_VXSE53.xml"  # 大隅半島東方沖, felt as 震度1 in 熊本市
    root = facts(name)
    [earthquake] = find(root, "Body/Earthquake")
    origin = dt.datetime.fromisoformat(text_of(earthquake, "OriginTime"))
    [area] = find(earthquake, "Hypocenter/Area")
    magnitude = float(text_of(earthquake, "Magnitude"))
    max_int = text_of(find(root, "Body/Intensity/Observation")[0], "MaxInt")
    city = next(c for c in find(root, "City") if text_of(c, "Code") == "4320100")
    city_int = text_of(city, "MaxInt")

    config = load_config()
    alert = one(name, Jurisdiction.from_config(config))
    lines = renderer.text(alert, language)[0].split("\n")
    cats = renderer.catalogs
    expected = [
        cats.text(language, "earthquake.time", time=format_jst(origin, language, now=NOW)),
        cats.text(language, "earthquake.epicenter",
                  epicenter=terms.epicenter_name(text_of(area, "Code"), language)),
        cats.text(language, "earthquake.magnitude", magnitude=f"{magnitude:.1f}"),
        cats.text(language, "earthquake.max_intensity",
                  intensity=cats.text(language, f"intensity.{max_int}")),
        cats.text(language, "earthquake.ward_intensity",
                  intensity=cats.text(language, f"intensity.{city_int}"),
                  wards=config.city_display_name(language)),
    ]
    for line in expected:
        assert line in lines, (language, line, lines)
    assert "2010" in lines[2]  # not this year's earthquake (line 1: the key fact, 2: title)


def test_earthquake_report_as_people_read_it(renderer: Renderer) -> None:
    a = one("32-35_04_04_240613_VXSE53.xml", Jurisdiction.from_config(load_config()))
    ja, en, ko = (renderer.text(a, lang)[0].split("\n") for lang in ("ja", "en", "ko"))
    assert ja[0] == "【地震】熊本市で震度1"  # the key fact for the city first
    assert ja[2:7] == ["発生時刻：2010年1月25日 16時15分ごろ", "震源地：大隅半島東方沖",
                       "地震の規模：マグニチュード5.3", "震源の深さ：約50km", "最大震度：震度4"]
    assert en[2:5] == ["Time: about Jan 25, 2010, 4:15\u202fPM JST",
                       "Epicenter: Off the east Coast of Osumi Peninsula", "Magnitude: 5.3"]
    assert ko[2] == "발생 시각: 일본 시간 2010년 1월 25일 오후 4:15경"


@pytest.mark.parametrize("language", LANGUAGES)
def test_tsunami_warning_for_the_citys_coasts(language: str, renderer: Renderer) -> None:
    name = "32-39_12_07_250206_VTSE41.xml"
    root = facts(name)
    alert = one(name, Jurisdiction.from_config(load_config()))
    text = renderer.text(alert, language)[0]
    cats = renderer.catalogs
    kinds = {"51": "warning", "52": "major_warning", "53": "major_warning", "62": "advisory"}
    for item in find(root, "Body/Tsunami/Forecast/Item"):
        code = text_of(item, "Code")
        if code not in ("712", "740"):
            continue
        kind = kinds[text_of(find(item, "Category/Kind")[0], "Code")]
        arrival = dt.datetime.fromisoformat(text_of(item, "ArrivalTime"))
        height = next(el for el in item.iter() if el.tag.endswith("TsunamiHeight"))
        assert (height.get("description") or "").translate(FULLWIDTH) == f"{height.text}ｍ"
        area = terms.tsunami_area_name(code, language)
        assert area is not None
        assert cats.text(language, "tsunami.area", area=area,
                         kind=cats.text(language, f"tsunami.kind.{kind}")) in text
        assert cats.text(language, "tsunami.arrival",
                         time=format_jst(arrival, language, now=NOW)) in text
        assert cats.text(language, "tsunami.height", height=height.text) in text
