"""Seismic notices for 熊本 rendered in all 16 languages on every channel, within each
channel's limit, with the key fact on the first line, checked against the source."""

from __future__ import annotations

import dataclasses

import pytest

from bot.config import load_config
from bot.domain import Alert, MsgType
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.render import Renderer, load_renderer
from tests.jma_helpers import load
from tests.test_ingest_jma_seis_notice import kumamoto_activity
from tests.test_render_jma import CHANNELS, LANGUAGES, check

CONFIG = load_config()
JUR = Jurisdiction.from_config(CONFIG)


def _parse(data: bytes, jur: Jurisdiction = JUR) -> Alert:
    [a] = parse_jma(data, jur)
    return a


VARIANTS = {
    "nankai_warning": lambda: _parse(load("74_01_04_200512_VYSE50.xml")),
    "nankai_advisory": lambda: _parse(load("74_01_05_200512_VYSE50.xml")),
    "nankai_investigating": lambda: _parse(load("74_01_01_200512_VYSE50.xml")),
    "nankai_ended": lambda: _parse(load("74_01_07_200512_VYSE50.xml")),
    "nankai_commentary": lambda: _parse(load("75_01_01_200512_VYSE51.xml")),
    "nankai_cancel": lambda: _parse(load("74_03_01_220318_VYSE50.xml")),
    "hokkaido_in_area": lambda: _parse(load("80_01_01_240821_VYSE60.xml"),
                                       dataclasses.replace(JUR, japan_kuril_trench_area=True)),
    "hokkaido_outside": lambda: _parse(load("80_01_01_240821_VYSE60.xml")),
    "long_period": lambda: _parse(load("variants/kumamoto_78_01_01_240613_VXSE62.xml")),
    "hypocentre_update": lambda: _parse(load("32-35_03_02_240613_VXSE61.xml")),
    "activity": lambda: _parse(kumamoto_activity()),
    "offshore": lambda: _parse(load("32-39_12_05_250206_VTSE52.xml")),
    "offshore_observing": lambda: _parse(load("61_11_01_250206_VTSE52.xml")),
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return load_renderer(CONFIG)


@pytest.fixture(scope="module")
def keys(renderer: Renderer) -> frozenset[str]:
    return frozenset(renderer.catalogs.by_language["ja"].messages)


@pytest.fixture(scope="module")
def alerts() -> dict[str, Alert]:
    return {name: build() for name, build in VARIANTS.items()}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_renders_in_every_language_within_every_limit(
        name: str, alerts: dict[str, Alert], renderer: Renderer, keys: frozenset[str]) -> None:
    for language in LANGUAGES:
        for channel in CHANNELS:
            check(renderer, alerts[name], language, channel, keys)


def first(renderer: Renderer, a: Alert, language: str) -> list[str]:
    text, _ = renderer.text(a, language)
    return text.splitlines()


def test_megaquake_warning_says_what_to_do_for_a_week(alerts: dict[str, Alert],
                                                      renderer: Renderer) -> None:
    a = alerts["nankai_warning"]
    en = first(renderer, a, "en")
    assert en[0] == ("Nankai Trough Earthquake Extra Information (南海トラフ地震臨時情報) "
                     "[Megaquake Warning]: a megaquake along the Nankai Trough is more likely "
                     "than usual. Kumamoto City is in the designated area: prepare now and for "
                     "one week.")
    assert en[1] == "Period: until about May 19, 2020, 4:28\u202fPM JST (one week)"
    assert "evacuate in advance for one week" in en[2]
    ja = first(renderer, a, "ja")
    assert ja[0].startswith("南海トラフ地震臨時情報（巨大地震警戒）：")
    assert "熊本市は推進地域です" in ja[0]
    assert a.headline_ja in ja  # JMA's own headline, for Japanese readers
    for language in ("vi", "zh-Hans", "ko", "ne"):
        lead = first(renderer, a, language)[0]
        assert "南海トラフ地震臨時情報" in lead  # the name residents hear on TV
        assert CONFIG.city_display_name(language) in lead
        assert renderer.catalogs.text(language, "megaquake.keyword.warning") in lead


def test_megaquake_advisory_asks_to_be_ready_to_evacuate(alerts: dict[str, Alert],
                                                         renderer: Renderer) -> None:
    en = first(renderer, alerts["nankai_advisory"], "en")
    assert "[Megaquake Advisory]" in en[0] and "be ready to evacuate at once" in en[0]
    assert "evacuate in advance" not in "\n".join(en)
    assert "evacuate at once" in en[2]


def test_investigation_completed_reads_as_the_end(alerts: dict[str, Alert],
                                                  renderer: Renderer) -> None:
    a = alerts["nankai_ended"]
    assert a.msg_type is MsgType.LIFT
    en = first(renderer, a, "en")
    assert en[0] == ("LIFTED: Nankai Trough Earthquake Extra Information (南海トラフ地震臨時情報) "
                     "(Kumamoto City)")
    assert "[Investigation Completed]" in en[1]
    assert "does not make a Nankai Trough megaquake more likely" in en[1]
    assert "Keep up your everyday preparations" in en[2]
    assert "one week" not in "\n".join(en)  # nothing of the earlier notice's advice
    ja = first(renderer, a, "ja")
    assert ja[0] == "【解除】南海トラフ地震臨時情報（熊本市）"


def test_outside_the_area_says_so(alerts: dict[str, Alert], renderer: Renderer) -> None:
    en = first(renderer, alerts["hokkaido_outside"], "en")
    assert en[0].endswith("Kumamoto City is not in the area it covers.")
    assert not any("evacuate" in line for line in en)
    inside = first(renderer, alerts["hokkaido_in_area"], "en")
    assert "off Hokkaido and Sanriku is more likely than usual" in inside[0]
    assert inside[1] == "Period: until about Jul 25, 2024, 4:30\u202fPM JST (one week)"


def test_long_period_motion_in_the_city(alerts: dict[str, Alert], renderer: Renderer) -> None:
    en = first(renderer, alerts["long_period"], "en")
    assert en[0] == ("Long-period ground motion class 3 (very large shaking) was observed in "
                     "the Kumamoto City area: upper floors of high-rise buildings shook "
                     "strongly.")
    assert any(line.startswith("Class 3 (upper floors") for line in en)
    assert any(line.startswith("In a high-rise building:") for line in en)
    assert "Epicenter: Off the Coast of Iwate Prefecture" in en
    ja = first(renderer, alerts["long_period"], "ja")
    assert ja[0].startswith("熊本市の地域で長周期地震動階級3（非常に大きな揺れ）を観測しました。")


def test_hypocentre_update_says_what_changed(alerts: dict[str, Alert],
                                             renderer: Renderer) -> None:
    en = first(renderer, alerts["hypocentre_update"], "en")
    assert en[0] == ("UPDATE: JMA revised the location and magnitude of the earthquake at "
                     "Aug 11, 2009, 5:07\u202fAM JST: Suruga Bay, magnitude 6.5.")
    assert renderer.catalogs.text("en", "common.update_lead") not in en
    assert "Depth: about 20 km" in en
    assert first(renderer, alerts["hypocentre_update"], "ja")[0].startswith("【更新】")


def test_seismic_activity_quotes_jma_as_the_original(alerts: dict[str, Alert],
                                                     renderer: Renderer) -> None:
    en = first(renderer, alerts["activity"], "en")
    assert en[0] == "JMA issued information on seismic activity that concerns Kumamoto City."
    assert en[1] == renderer.catalogs.text("en", "jma_comment.original")
    assert en[2] == "熊本県熊本地方の地震活動の見通しに関する情報（第１号）"


def test_offshore_tsunami_leads_with_the_highest_wave(alerts: dict[str, Alert],
                                                      renderer: Renderer) -> None:
    en = first(renderer, alerts["offshore"], "en")
    assert en[1] == ("Tsunami observed offshore (up to 2 m, 三重尾鷲沖). It will be even higher "
                     "at the coast. Stay away from the coast.")  # en[0]: the drill banner
    assert en[2] == "三重尾鷲沖: 2 m (observed offshore)"
    assert renderer.catalogs.text("en", "common.update_lead") not in en
    observing = first(renderer, alerts["offshore_observing"], "en")
    assert observing[0].startswith("A tsunami is being observed offshore (岩手釜石沖).")
    assert renderer.catalogs.text("en", "jma_comment.0115") in observing
