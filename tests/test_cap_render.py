"""What a resident reads from a CAP alert: the sender's own words (their language,
else the sender's English, else a labelled machine translation, else the original
with a note), never JMA's wording, and the key fact on the first line."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.domain import Alert, Cap, MsgType
from bot.ingest.cap import parse_cap
from bot.ingest.jurisdiction import Jurisdiction
from bot.render import Renderer, load_renderer
from bot.render.compose import Translate

CAP = Path(__file__).resolve().parent / "fixtures" / "cap"
CONFIG = load_config()
JUR = Jurisdiction.from_config(CONFIG)
READERS = ("ja", "en", "vi", "zh-Hans")
# JMA's words and our report titles, which a CAP alert must never borrow.
BORROWED = ("landslide.title", "landslide.body", "landslide.lifted", "weather.title.warning",
            "weather.title.lifted", "weather.advice.warning", "tsunami.title.forecast",
            "tsunami.title.warning", "tsunami.advice.forecast", "tsunami.advice.warning",
            "earthquake.tsunami.slight", "city_notice.title", "evacuation.title",
            "common.update_lead")


def parse(name: str) -> list[Alert]:
    return parse_cap((CAP / name).read_bytes(), JUR)


def one(name: str) -> Alert:
    [alert] = parse(name)
    return alert


@pytest.fixture(scope="module")
def config() -> Config:
    return CONFIG


@pytest.fixture(scope="module")
def plain(config: Config) -> Renderer:
    """No translator: the sender's words, or the original with a note."""
    return load_renderer(config)


calls: list[tuple[str, str, str]] = []


def fake_translate(text: str, source: str, target: str) -> str | None:
    calls.append((text, source, target))
    return f"[MT {source}>{target}] {text}"


@pytest.fixture(scope="module")
def translating(config: Config) -> Renderer:
    return load_renderer(config, fake_translate)


def catalog(r: Renderer, language: str, key: str) -> str:
    return r.catalogs.raw(language, key)[0]


def no_borrowed_words(r: Renderer, language: str, text: str) -> None:
    for key in BORROWED:
        template = catalog(r, language, key)
        fixed = max(re.split(r"\{\w+\}", template), key=len).strip()
        assert not fixed or fixed not in text, (language, key)
    assert "警戒レベル" not in text and "Alert Level" not in text


def info_in(alert: Alert, language: str) -> tuple[str, str, str]:
    assert isinstance(alert.payload, Cap)
    i = next(i for i in alert.payload.infos if i.language == language)
    return i.headline, i.description, i.instruction


# ------------------------------------------------------------ the sender's words


@pytest.mark.parametrize("language", READERS)
def test_the_city_landslide_alert_in_its_own_words(plain: Renderer, language: str) -> None:
    a = one("kumamoto_landslide.cap")
    text, mt = plain.text(a, language)
    lines = text.splitlines()
    source = "ja" if language == "ja" else "en"   # no vi or zh info: the sender's English
    headline, description, instruction = info_in(a, source)
    # The first line is the key fact: how strong, what and where, what to do now.
    first = lines[0]
    assert headline in first
    assert catalog(plain, language, "cap.severity.severe") in first
    assert catalog(plain, language, "cap.response.evacuate") in first
    if language in ("vi", "zh-Hans"):  # the English headline names no ward in this language
        assert plain.config.ward("43101").name(language) in first
    # A reader of neither Japanese nor English is told the sender's words below are
    # its English ones; then what to do, in full, then the description.
    if source == "en" and language != "en":
        assert lines.pop(1) == catalog(plain, language, "note.sender_english")
    assert "note.sender_english" not in text
    assert lines[1] == catalog(plain, language, "cap.instruction").format(text=instruction)
    assert lines[2] == description
    assert info_in(a, source)[0] in text
    web = "https://www.city.kumamoto.example/bousai/dosha" + ("" if source == "ja" else "/en")
    assert catalog(plain, language, "cap.web").format(url=web) in lines
    assert any(line.endswith("096-000-0000") for line in lines)  # the contact
    assert catalog(plain, language, "cap.urgency.immediate") in text
    assert catalog(plain, language, "cap.certainty.likely") in text
    no_borrowed_words(plain, language, text)
    assert mt is False


def test_the_sender_english_comes_before_machine_translation(translating: Renderer) -> None:
    calls.clear()
    a = one("kumamoto_landslide.cap")
    for language in ("vi", "zh-Hans", "ko", "ne"):
        text, mt = translating.text(a, language)
        assert info_in(a, "en")[0] in text.splitlines()[0] and mt is False
    assert calls == []


@pytest.mark.parametrize("language", ["vi", "ja", "en", "zh-Hant"])
def test_the_reader_language_when_the_sender_gave_it(plain: Renderer, language: str) -> None:
    a = one("kumamoto_edxl.xml")
    text, _ = plain.text(a, language)
    source = {"zh-Hant": "en"}.get(language, language)
    headline, description, instruction = info_in(a, source)
    assert text.splitlines()[0].startswith(catalog(plain, language, "cap.severity.severe"))
    assert headline in text.splitlines()[0]
    assert description in text and instruction in text
    no_borrowed_words(plain, language, text)


def test_chinese_regions_serve_their_script(plain: Renderer) -> None:
    a = one("kumamoto_edxl.xml")
    assert isinstance(a.payload, Cap)
    zh_tw = replace(a.payload.infos[2], language="zh-TW", headline="坪井川沿岸撤離令")
    b = replace(a, payload=replace(a.payload, infos=(*a.payload.infos, zh_tw)))
    assert "坪井川沿岸撤離令" in plain.text(b, "zh-Hant")[0].splitlines()[0]
    assert "坪井川沿岸撤離令" not in plain.text(b, "zh-Hans")[0]


@pytest.mark.parametrize("language", ["en", "vi", "zh-Hans", "ko"])
def test_japanese_only_text_is_machine_translated_and_labelled(
        translating: Renderer, language: str) -> None:
    calls.clear()
    a = one("kumamoto_inundation_cap11.cap")
    headline, description, instruction = info_in(a, "ja")
    text, mt = translating.text(a, language)
    assert mt is True
    assert text.splitlines()[0].startswith(catalog(translating, language,
                                                   "cap.severity.moderate"))
    assert f"[MT ja>{language}] {headline}" in text.splitlines()[0]
    assert f"[MT ja>{language}] {instruction}" in text.splitlines()[1]
    assert f"[MT ja>{language}] {description}" in text
    assert catalog(translating, language, "note.machine_translated") in text
    assert ("ja" in {s for _t, s, _d in calls}) and {d for _t, _s, d in calls} == {language}
    no_borrowed_words(translating, language, text)


def test_without_a_translator_the_original_with_a_note(plain: Renderer) -> None:
    a = one("kumamoto_inundation_cap11.cap")
    headline, description, _ = info_in(a, "ja")
    for language in ("en", "vi", "zh-Hans"):
        ctx = plain.context(a, language)
        from bot.render.compose import compose
        text = compose(ctx)
        assert headline in text.splitlines()[0] and description in text
        assert catalog(plain, language, "note.translation_unavailable") in text
        assert ctx.untranslated is True and ctx.machine_translated is False


def test_a_failing_translator_falls_back_to_the_original(config: Config) -> None:
    def down(text: str, source: str, target: str) -> str | None:
        return None

    failing: Translate = down
    r = load_renderer(config, failing)
    a = one("kumamoto_inundation_cap11.cap")
    text, mt = r.text(a, "vi")
    assert mt is False and info_in(a, "ja")[0] in text
    assert catalog(r, "vi", "note.translation_unavailable") in text


def test_easy_japanese_readers_get_the_japanese_never_a_translation(
        translating: Renderer) -> None:
    calls.clear()
    a = one("kumamoto_inundation_cap11.cap")
    text, mt = translating.text(a, "ja-easy")
    assert info_in(a, "ja")[0] in text.splitlines()[0] and mt is False and calls == []


# ------------------------------------------------------------- updates, cancels


@pytest.mark.parametrize("language", READERS)
def test_update_leads_with_its_key_fact_then_says_it_replaces(
        plain: Renderer, language: str) -> None:
    a = one("kumamoto_landslide_update.cap")
    lines = plain.text(a, language)[0].splitlines()
    headline = info_in(a, "ja" if language == "ja" else "en")[0]
    assert headline in lines[0]
    assert catalog(plain, language, "cap.severity.extreme") in lines[0]
    assert lines[1] == catalog(plain, language, "cap.update_lead")
    no_borrowed_words(plain, language, "\n".join(lines))


@pytest.mark.parametrize("language", READERS)
def test_an_all_clear_is_a_lifting_in_the_sender_words(plain: Renderer,
                                                       language: str) -> None:
    """The sender's Cancel with responseType AllClear ends an alert that was right: a
    lifting, first line 'lifted' with the sender's own name for it and the ward, then
    the sender's words; no threat marker, no instruction of the lifted alert."""
    a = one("kumamoto_landslide_cancel.cap")
    assert a.msg_type is MsgType.LIFT
    text = plain.text(a, language)[0]
    lines = text.splitlines()
    lead = max(re.split(r"\{\w+\}", catalog(plain, language, "lift.title")), key=len).strip()
    assert lead in lines[0] and plain.config.ward("43101").name(language) in lines[0]
    _, description, _ = info_in(a, "ja" if language == "ja" else "en")
    assert description in text
    assert catalog(plain, language, "cap.severity.minor") not in text
    original = one("kumamoto_landslide.cap")
    _, _, instruction = info_in(original, "ja" if language == "ja" else "en")
    assert instruction not in text


def test_a_cancel_without_info_leads_with_the_cancellation(plain: Renderer) -> None:
    a = one("kumamoto_landslide_cancel.cap")
    assert isinstance(a.payload, Cap)
    bare = replace(a, msg_type=MsgType.CANCEL, payload=replace(a.payload, infos=()))
    for language in READERS:
        first = plain.text(bare, language)[0].splitlines()[0]
        lead = max(re.split(r"\{\w+\}", catalog(plain, language, "cancel.title")),
                   key=len).strip()
        assert lead in first, (language, first)


def test_a_drill_says_so_first(plain: Renderer) -> None:
    a = one("kumamoto_drill_cap10.cap")
    for language in READERS:
        lines = plain.text(a, language)[0].splitlines()
        assert lines[0] == catalog(plain, language, "common.test_banner")
        assert info_in(a, "ja" if language == "ja" else "en")[0] in lines[1]


# ----------------------------------------------------------- foreign CAP alerts


@pytest.mark.parametrize("language", READERS)
def test_foreign_weather_and_tsunami_alerts_keep_their_words(
        plain: Renderer, language: str) -> None:
    canada = one("canada.cap")
    text = plain.text(canada, language)[0]
    assert text.splitlines()[0].startswith(catalog(plain, language, "cap.severity.minor")
                                           ) is False  # AllClear: no threat marker
    assert "severe thunderstorm watch" in text.splitlines()[0]
    assert "Monitor local conditions and take appropriate precautions" in text
    assert "Windsor - Leamington - Essex County" in text
    no_borrowed_words(plain, language, text)
    tsunami = one("wcatwc-warning.cap")
    text = plain.text(tsunami, language)[0]
    assert text.splitlines()[0].startswith(catalog(plain, language, "cap.severity.extreme"))
    assert "The tsunami Warning continues in effect" in text.splitlines()[0]
    assert "slight sea-level" not in text and "津波予報" not in text
    assert "Persons in tsunami warning coastal areas should move inland" in text
    no_borrowed_words(plain, language, text)


# ------------------------------------------------------- every language, every file


@pytest.mark.parametrize("name", ["kumamoto_landslide.cap", "kumamoto_landslide_update.cap",
                                  "kumamoto_landslide_cancel.cap", "kumamoto_bushfire.cap",
                                  "kumamoto_inundation_cap11.cap", "kumamoto_drill_cap10.cap",
                                  "kumamoto_edxl.xml", "kumamoto_alerts.xml", "canada.cap",
                                  "weather.cap", "earthquake.cap", "wcatwc-warning.cap",
                                  "no_optional_fields.cap", "noaa_errors.cap"])
def test_every_sample_in_every_language(plain: Renderer, translating: Renderer,
                                        name: str) -> None:
    for alert in parse(name):
        for language in plain.config.languages:
            for r in (plain, translating):
                text, _ = r.text(alert, language)
                assert text.strip()
                no_borrowed_words(r, language, text)
