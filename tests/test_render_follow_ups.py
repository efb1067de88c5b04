"""A lifting is not a cancellation, and neither repeats what it follows up.

The text a resident reads, in every language: the first line (all a phone
notification shows) is the key fact; a cancellation says the earlier message
was sent in error and never repeats its instructions as if they were in force;
a lifting says what ended, then the operator's words.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.config import Config, load_config
from bot.domain import Alert, MsgType
from bot.ingest.jurisdiction import Jurisdiction
from bot.render import Renderer, load_renderer
from tests.jma_helpers import one
from tests.render_alerts import ALERTS, EVACUATION_4, follow_up
from tests.test_render_jma import LANGUAGES

NARA_LIFT = "15_08_05_130412_VPWW53.xml"  # 奈良市: 大雨注意報 解除, nothing else in force


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def renderer(config: Config) -> Renderer:
    return load_renderer(config)


def sentences(text: str) -> list[str]:
    """The sentences of a catalog text, to look for any one of them elsewhere."""
    parts = re.split(r"(?<=[.。!！?？।])\s*|\n", text)
    return [p.strip() for p in parts if len(p.strip()) > 3]


def lines(renderer: Renderer, a: Alert, language: str) -> list[str]:
    return renderer.text(a, language)[0].split("\n")


@pytest.mark.parametrize("language", LANGUAGES)
def test_cancel_of_an_evacuation_order_never_repeats_its_instructions(
        language: str, renderer: Renderer, config: Config) -> None:
    cats = renderer.catalogs
    cancel = follow_up(EVACUATION_4, MsgType.CANCEL, "訓練用の文を誤って送信しました。")
    text = renderer.text(cancel, language)[0]
    # no instruction of the level-4 template, in this language or in Japanese or English
    for tag in {language, "ja", "en"}:
        for sentence in sentences(cats.text(tag, "evacuation.action.4")):
            assert sentence not in text, (language, sentence)
        assert cats.text(tag, "evacuation.title.4") not in text
    # nor the original's own words: its headline and its English text
    assert "南区に避難指示" not in text and "The Kase River is rising." not in text
    first, second, *_ = text.split("\n")
    assert first == cats.text(language, "cancel.title",
                              subject=cats.text(language, "term.evacuation.4"),
                              area=config.ward("43101").names[language])
    assert second == cats.text(language, "cancel.body")
    reason = "訓練用の文を誤って送信しました。"  # no translator here: the reason as written
    assert cats.text(language, "cancel.reason", reason=reason) in text


def test_cancel_in_english_and_japanese_reads_as_a_mistake(renderer: Renderer) -> None:
    en = lines(renderer, ALERTS["evacuation_cancel"], "en")
    assert en[0] == ("CANCELLED: the message about the Evacuation Instruction (Chuo Ward) "
                     "was sent in error")
    assert "Disregard that message" in en[1]
    ja = lines(renderer, ALERTS["evacuation_cancel"], "ja")
    assert ja[:3] == ["【取消】避難指示（中央区）は誤って送信されました",
                      "先のお知らせは無視してください。その内容や指示は有効ではありません。",
                      "理由：訓練用の文を誤って送信しました。"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_lift_of_an_evacuation_order_says_it_ended(language: str, renderer: Renderer,
                                                   config: Config) -> None:
    cats = renderer.catalogs
    text = renderer.text(ALERTS["evacuation_lift"], language)[0]
    first = text.split("\n")[0]
    assert first == cats.text(language, "lift.title",
                              subject=cats.text(language, "term.evacuation.4"),
                              area=config.ward("43101").names[language])
    assert cats.text(language, "lift.body.evacuation") in text
    assert "中央区の避難指示を解除しました。" in text  # the operator's text (no translator)
    for sentence in sentences(cats.text(language, "evacuation.action.4")):
        assert sentence not in text
    assert cats.text(language, "cancel.body") not in text  # a lift is not a mistake


def test_lift_first_lines_in_several_languages(renderer: Renderer) -> None:
    first = {lang: lines(renderer, ALERTS["evacuation_lift"], lang)[0]
             for lang in ("en", "ja", "zh-Hans", "ko", "es", "pt", "vi")}
    assert first == {
        "en": "LIFTED: Evacuation Instruction (Chuo Ward)",
        "ja": "【解除】避難指示（中央区）",
        "zh-Hans": "【解除】避难指示（中央区）",
        "ko": "[해제] 피난 지시(주오구)",
        "es": "LEVANTADO: Instrucción de Evacuación (Distrito de Chuo)",
        "pt": "SUSPENSO: Instrução de Evacuação (Distrito de Chuo)",
        "vi": "ĐÃ DỠ BỎ: Chỉ thị sơ tán (Quận Chuo)",
    }


def test_shelter_lift_says_closed_and_drops_the_opening_advice(renderer: Renderer,
                                                               config: Config) -> None:
    cats = renderer.catalogs
    for language in LANGUAGES:
        text = renderer.text(ALERTS["shelter_lift"], language)[0]
        shelter = cats.text(language, "subject.shelter.named", names="TKUプラザ")
        assert text.split("\n")[0] == cats.text(language, "lift.title.shelter",
                                                subject=shelter,
                                                area=config.ward("43105").names[language])
        assert cats.text(language, "shelter.advice.opened") not in text
        assert cats.text(language, "lift.body.shelter") in text
    en = lines(renderer, ALERTS["shelter_lift"], "en")
    assert en[0] == "CLOSED: shelter TKUプラザ (Kita Ward)"


def test_operator_lift_of_a_weather_warning_names_the_warnings(renderer: Renderer) -> None:
    en = lines(renderer, ALERTS["weather_lift"], "en")
    assert en[0].startswith("LIFTED: Heavy Rain Emergency Warning, Flood Warning")
    assert en[0].endswith("(Kumamoto City)")
    text = "\n".join(en)
    assert renderer.catalogs.text("en", "weather.advice.emergency") not in text
    assert "(issued)" not in text and "(continued)" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_jma_lift_keeps_what_jma_says_ended(language: str, renderer: Renderer,
                                            config: Config) -> None:
    """A JMA report with every warning for the city 解除 is a lift; its text is the
    template's, naming each warning, under the LIFTED line, without a second title."""
    nara = replace(Jurisdiction.from_config(config), warning_area="2920100")
    a = one(NARA_LIFT, nara)
    assert a.msg_type is MsgType.LIFT
    cats = renderer.catalogs
    text = renderer.text(a, language)[0]
    name = cats.text(language, "warning.10")
    assert text.split("\n")[0] == cats.text(language, "lift.title", subject=name,
                                            area=config.city_display_name(language))
    assert cats.text(language, "weather.status.lifted", name=name) in text
    assert cats.text(language, "weather.advice.lifted") in text
    assert cats.text(language, "weather.title.lifted") not in text


@pytest.mark.parametrize("language", ["ja", "en", "zh-Hans", "ko"])
def test_jma_cancel_shows_jmas_words_to_japanese_readers_only(language: str,
                                                              renderer: Renderer,
                                                              config: Config) -> None:
    a = one("38-39_03_01_210805_VTSE41.xml", Jurisdiction.from_config(config))
    assert a.msg_type is MsgType.CANCEL
    cats = renderer.catalogs
    text = renderer.text(a, language)[0]
    assert text.split("\n")[0] == cats.text(language, "cancel.title",
                                            subject=cats.text(language, "subject.tsunami"),
                                            area=config.city_display_name(language))
    assert ("津波注意報を取り消します。" in text) is (language == "ja")
    assert "先ほどの、津波注意報を取り消します。" not in text  # the report's Body
    for key in ("tsunami.advice.advisory", "tsunami.advice.warning"):
        assert cats.text(language, key) not in text


def test_update_keeps_the_lead_and_the_corrected_content(renderer: Renderer) -> None:
    en = lines(renderer, ALERTS["earthquake_update"], "en")
    assert en[0] == renderer.catalogs.text("en", "common.update_lead")
    assert "Magnitude: 7.0" in en
    update = follow_up(EVACUATION_4, MsgType.UPDATE, "避難所を西区役所に変更しました。")
    text = renderer.text(update, "ja")[0]
    assert renderer.catalogs.text("ja", "evacuation.action.4") in text
    assert "避難所を西区役所に変更しました。" in text
