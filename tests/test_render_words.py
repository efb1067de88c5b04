"""Every language reads as written by a person: a list of known bad patterns, checked
against every kind rendered from real data in all sixteen languages.

To catch a new kind of mistake, add a regular expression to ``BAD`` (every
language) or ``BAD_IN`` (one language); the corpus (``corpus()``) already holds
the JMA samples that concern the city and a few other places, the alerts of
``tests/render_alerts.py`` with their CLI-style liftings and cancellations, and
the sign-up messages with real command names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.config import Config, load_config
from bot.domain import Alert, MsgType
from bot.ingest.jurisdiction import Jurisdiction
from bot.render import Renderer, load_renderer
from tests.jma_helpers import one
from tests.render_alerts import ALERTS, follow_up
from tests.test_render_jma import LANGUAGES, _kumamoto_alerts

# Mistakes in any language.
BAD: list[tuple[str, str]] = [
    (r"\{\w*\}", "a placeholder left in"),
    (r"\((?:을|이|은|과|으)\)(?:를|가|는|와|로)", "a Korean particle left unchosen"),
    (r"\bNone\b|\bnan\b", "a missing value printed"),
    (r"[^\S\n\u202f\u00a0]{2,}", "two spaces"),
    (r"(?m)^[ \t]|[ \t]$", "a space at the start or end of a line"),
    (r"\(\s*\)|（\s*）|【\s*】|\[\s*\]", "empty brackets"),
    (r"(?m)^\s*$", "an empty line"),
]

# Mistakes of one language.
BAD_IN: dict[str, list[tuple[str, str]]] = {
    "es": [
        (r"hacia las \d{1,2} (?:de )?[a-z]", "'hacia las' before a date"),
        (r"\b(?:en|de|a) Ciudad\b", "a city without its article (en la Ciudad de …)"),
        (r"\b\d{1,2} (?:ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic)\.? \d{4}",
         "a month abbreviated in running text (14 de abril de 2016)"),
    ],
    "pt": [
        (r"por volta de \d", "'por volta de' before a date"),
        (r"\b(?:em|de|a) Cidade\b", "a city without its article (na Cidade de …)"),
        (r"\d{4} \d{1,2}:\d{2}", "a year and a time run together"),
    ],
    "ne": [
        (r"\S (?:मा|को|बाट|लाई)(?=[\s\]।:,)]|$)", "a postposition written apart (सहरमा)"),
    ],
    "ko": [
        (r"JST", "English time zone where Korean has 일본 시간"),
    ],
    "zh-Hans": [
        (r"以下为原文）(?:\Z|\n发布)", "'the original follows' with nothing after it"),
        (r"JST", "English time zone where Chinese has 日本时间"),
        (r"[\u3400-\u9fff] \(", "a half-width bracket after Chinese"),
    ],
    "zh-Hant": [
        (r"以下為原文）(?:\Z|\n發布)", "'the original follows' with nothing after it"),
        (r"JST", "English time zone where Chinese has 日本時間"),
        (r"[\u3400-\u9fff] \(", "a half-width bracket after Chinese"),
    ],
    "ja": [(r"JST", "English in Japanese")],
    "ja-easy": [(r"JST", "English in Japanese")],
}

# Languages whose catalogs have a word for everything: no English word may come
# from the catalogs (the source's own English text and URLs are not the catalogs').
NO_ENGLISH = ("ja", "ja-easy", "zh-Hans", "zh-Hant", "ko")
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
URL = re.compile(r"https?://\S+")
NAMES = ("TKU",)  # proper names written in Latin letters (a shelter's name)


def bad_patterns(text: str, language: str, source_texts: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with ``text`` in ``language``: the description of each bad
    pattern found, with the text around it."""
    found = []
    for pattern, why in BAD + BAD_IN.get(language, []):
        m = re.search(pattern, text)
        if m:
            found.append(f"{why}: {text[max(0, m.start() - 30):m.end() + 30]!r}")
    if language in NO_ENGLISH:
        own = URL.sub("", text)
        for source in source_texts:
            own = own.replace(source, "")
        words = [w for w in ENGLISH_WORD.findall(own) if w not in NAMES]
        if words:
            found.append(f"English words from the catalog: {words}")
    return found


# ---------------------------------------------------------------- the corpus

# Samples for other places, read as if they were the city's, for kinds the city's
# own samples lack (weather warnings, landslide alerts, volcanic warnings).
ELSEWHERE = [
    ("15_08_01_130412_VPWW53.xml", {"warning_area": "2920100"}),
    ("15_08_04_160628_VPWW53.xml", {"warning_area": "2920100"}),
    ("15_08_05_130412_VPWW53.xml", {"warning_area": "2920100"}),
    ("15_15_01_220314_VPWW54.xml", {"warning_area": "3640300"}),
    ("17_01_01_190529_VXWW50.xml", {"municipality_codes": frozenset({"4010000"})}),
    ("17_01_01_190529_VXWW50.xml", {"municipality_codes": frozenset({"4013000"})}),
    ("45_01_01_200522_VFVO50.xml", {"volcano_codes": frozenset({"306"})}),
    ("45_02_01_200522_VFVO50.xml", {"volcano_codes": frozenset({"315"})}),
    ("45_03_01_200731_VFVO50.xml", {}),
]


def corpus(config: Config) -> Iterator[tuple[str, Alert]]:
    yield from ALERTS.items()
    yield from _kumamoto_alerts(config)
    jur = Jurisdiction.from_config(config)
    for name, change in ELSEWHERE:
        a = one(name, replace(jur, **change))
        yield name, a
        if a.msg_type is MsgType.ALERT:  # what an operator's lift and cancel of it read
            yield f"{name} lifted", follow_up(a, MsgType.LIFT, "解除しました。")
            yield f"{name} cancelled", follow_up(a, MsgType.CANCEL, "誤送信です。")


def source_texts(a: Alert) -> tuple[str, ...]:
    return tuple(a.texts.values())


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return load_renderer(load_config())


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_known_bad_pattern_in_any_rendering(language: str, renderer: Renderer) -> None:
    problems = []
    for name, a in corpus(renderer.config):
        text, _ = renderer.text(a, language)
        problems += [f"{name}: {p}" for p in bad_patterns(text, language, source_texts(a))]
    assert not problems, "\n".join(problems)


SIGNUP_KEYS = ("signup.done", "signup.status.inactive", "signup.status.none", "signup.stopped",
               "signup.erased", "signup.unknown", "signup.welcome")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_known_bad_pattern_in_sign_up_messages(language: str, renderer: Renderer) -> None:
    """Commands as Telegram shows them (/start) and as LINE users type them (the
    catalog's word for the command)."""
    cats = renderer.catalogs
    city = renderer.config.city_display_name(language)
    problems = []
    for key in SIGNUP_KEYS:
        for label in ("/{}", "{}"):
            words = {name: label.format(name if label.startswith("/")
                                        else cats.text(language, f"cmd.{name}"))
                     for name in ("start", "kinds", "help")}
            text = cats.text(language, key, city=city, **words)
            problems += [f"{key}: {p}" for p in bad_patterns(text, language)
                         if not p.startswith("English words")]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the list itself

@pytest.mark.parametrize(("language", "text"), [
    ("es", "Hora: hacia las 14 abr 2016, 21:26 JST"),
    ("es", "Intensidad sísmica en Ciudad de Kumamoto"),
    ("pt", "Horário: por volta de 14 de abr. de 2016 21:26 JST"),
    ("pt", "Intensidade sísmica em Cidade de Kumamoto"),
    ("ne", "कुमामोतो सहर मा भूकम्पीय तीव्रता"),
    ("ko", "다시 등록하려면 등록(을)를 보내십시오."),
    ("zh-Hans", "明日のごみ収集は中止します。\n（暂时无法翻译，以下为原文）"),
    ("zh-Hans", "震度6强：中央区\n发布：2016年4月16日 01:30 JST"),
    ("ko", "[경계 레벨 4 피난 지시]\nEvacuation Instruction"),
    ("en", "Magnitude: None"),
    ("en", "Epicenter: {epicenter}"),
    ("en", "Area:  Chuo Ward"),
])
def test_the_list_catches_what_readers_saw(language: str, text: str) -> None:
    assert bad_patterns(text, language)


def test_the_list_lets_good_text_through() -> None:
    assert not bad_patterns("Hora aproximada: 14 de abril de 2016, 21:26 JST", "es")
    assert not bad_patterns("Intensidade sísmica na Cidade de Kumamoto", "pt")
    assert not bad_patterns("कुमामोतो सहरमा भूकम्पीय तीव्रता", "ne")
    assert not bad_patterns("（暂时无法翻译，以下为原文）\n明日のごみ収集は中止します。", "zh-Hans")
    assert not bad_patterns("이유: The Kase River is rising.", "ko",
                            ("The Kase River is rising.",))
