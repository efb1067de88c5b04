"""Every language has every message of the Japanese catalog, with the same placeholders."""

from __future__ import annotations

import json
import re

import pytest

from bot.config import TEMPLATES_DIR, load_config
from bot.languages import JMA_DICTIONARY
from bot.render import terms
from bot.render.catalog import load_catalog, placeholders

LANGUAGES = (
    "ja", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "tl",
    "ne", "id", "th", "pt", "es", "my", "km", "mn",
)
REVIEWED = {"ja", "en"}


@pytest.fixture(scope="module")
def japanese() -> dict[str, str]:
    return dict(load_catalog(TEMPLATES_DIR / "ja.po", "ja").messages)


def test_config_enables_all_sixteen_languages() -> None:
    config = load_config()
    assert set(config.languages) == set(LANGUAGES)
    for ward in config.wards:
        assert set(ward.names) >= set(LANGUAGES)
    assert set(config.city_names) >= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_every_key_with_the_same_placeholders(
    language: str, japanese: dict[str, str]
) -> None:
    catalog = load_catalog(TEMPLATES_DIR / f"{language}.po", language)
    missing = sorted(set(japanese) - set(catalog.messages))
    assert not missing, f"{language} lacks {missing}"
    for key, ja_text in japanese.items():
        assert placeholders(catalog.messages[key]) == placeholders(ja_text), (language, key)
        catalog.messages[key].format(**{name: "x" for name in placeholders(ja_text)})


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_declares_native_review(language: str) -> None:
    # Babel's parser keeps only the standard header fields, so read the raw header.
    text = (TEMPLATES_DIR / f"{language}.po").read_text(encoding="utf-8")
    header = text.split("\n\n", 1)[0]
    found = re.findall(r'^"X-Native-Review: (\w+)\\n"$', header, flags=re.M)
    assert found in (["yes"], ["no"]), f"{language}.po must declare X-Native-Review once"
    assert found[0] == ("yes" if language in REVIEWED else "no")
    assert f'"Language: {language}\\n"' in header
    # the languages table says the same
    assert load_config().language(language).reviewed is (language in REVIEWED)


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_no_english_copied_into_other_catalogs(language: str) -> None:
    english = load_catalog(TEMPLATES_DIR / "en.po", "en").messages
    catalog = load_catalog(TEMPLATES_DIR / f"{language}.po", language).messages
    # Short messages that are pure placeholders or punctuation may coincide.
    def words(text: str) -> str:
        return re.sub(r"\{\w+\}|[\W\d_]", "", text)

    same = [k for k, v in english.items() if catalog.get(k) == v and len(words(v)) > 10]
    assert not same, f"{language} copies English for {same}"


def test_language_names_are_in_their_own_script() -> None:
    names = {tag: load_catalog(TEMPLATES_DIR / f"{tag}.po", tag).messages["language.name"]
             for tag in LANGUAGES}
    assert names["vi"] == "Tiếng Việt"
    assert names["ne"] == "नेपाली"
    assert names["my"] == "မြန်မာဘာသာ"
    assert len(set(names.values())) == len(LANGUAGES)
    # the languages table (sign-up buttons) shows the same names
    config = load_config()
    assert {tag: config.language(tag).name for tag in LANGUAGES} == names


# ---------------------------------------------------------------- official place names

# JMA's code tables name these in Japanese (AreaTsunami 712/740, volcano 503).
JMA_NAMES = {"term.tsunami_area.712": "有明・八代海", "term.tsunami_area.740": "熊本県天草灘沿岸",
             "term.volcano.503": "阿蘇山"}
# How JMA's multilingual dictionary spells the proper name in each place name: 有明 in
# 有明海 (epicenter 785), 天草灘 (784), 阿蘇 in 熊本県阿蘇地方 (740). Each term must use the
# same spelling, so that a coast reads the same as JMA's epicenter names.
JMA_SPELLINGS = {
    "term.tsunami_area.712": ("785", {
        "zh-Hans": "有明", "zh-Hant": "有明", "ko": "아리아케", "vi": "Ariake", "tl": "Ariake",
        "ne": "आरिआके", "id": "Ariake", "th": "อาริอาเกะ", "pt": "Ariake", "es": "Ariake",
        "my": "အယိအခဲ", "km": "អារីអាគេ", "mn": "Ариаке"}),
    "term.tsunami_area.740": ("784", {
        "zh-Hans": "天草滩", "zh-Hant": "天草灘", "ko": "아마쿠사 나다", "vi": "Amakusanada",
        "tl": "Amakusa-nada", "ne": "आमाकुसानादा", "id": "Amakusanada", "th": "อะมากุสะนาดะ",
        "pt": "Amakusa-nada", "es": "Mar de Amakusa", "my": "အမခုဆနဒ",
        "km": "អាម៉ាគូសាណាដា", "mn": "Амакүсанада"}),
    "term.volcano.503": ("740", {
        "zh-Hans": "阿苏", "zh-Hant": "阿蘇", "ko": "아소", "vi": "Aso", "tl": "Aso", "ne": "आसो",
        "id": "Aso", "th": "อะโซะ", "pt": "Aso", "es": "Aso", "my": "အဆို", "km": "អាសូ",
        "mn": "Асо"}),
}


@pytest.fixture(scope="module")
def place_names() -> dict[str, dict[str, str]]:
    """key -> language -> text, for the official place names in every catalog."""
    out: dict[str, dict[str, str]] = {}
    for tag in LANGUAGES:
        messages = load_catalog(TEMPLATES_DIR / f"{tag}.po", tag).messages
        for key in JMA_NAMES:
            out.setdefault(key, {})[tag] = messages.get(key, "")
    return out


def test_every_coast_and_volcano_of_the_city_has_catalog_names() -> None:
    raw = load_config().section("jurisdiction")
    keys = {f"term.tsunami_area.{c}" for c in raw["tsunami_areas"]}
    keys |= {f"term.volcano.{c}" for c in raw["volcano_codes"]}
    assert keys == set(JMA_NAMES)
    assert set(terms.TSUNAMI_AREAS) == set(raw["tsunami_areas"])
    assert set(terms.VOLCANOES) == set(raw["volcano_codes"])


def test_place_names_are_jmas_in_japanese(place_names: dict[str, dict[str, str]]) -> None:
    for key, ja in JMA_NAMES.items():
        assert place_names[key]["ja"] == ja
        easy = place_names[key]["ja-easy"]
        assert re.sub(r"（[ぁ-ん]+）|\s|の|海岸", "", easy) in (ja, ja.replace("沿岸", ""))


@pytest.mark.parametrize("key", sorted(JMA_NAMES))
def test_place_names_use_jmas_spelling(key: str, place_names: dict[str, dict[str, str]]) -> None:
    entry, spellings = JMA_SPELLINGS[key]
    dictionary = json.loads(JMA_DICTIONARY.read_text(encoding="utf-8"))[entry]
    config = load_config()
    for tag, spelling in spellings.items():
        field = config.language(tag).jma_field
        assert field is not None
        assert spelling in dictionary[field].replace("\xa0", " "), (tag, dictionary[field])
        assert spelling in place_names[key][tag], (key, tag, place_names[key][tag])


@pytest.mark.parametrize("key", sorted(JMA_NAMES))
def test_place_names_are_translated(key: str, place_names: dict[str, dict[str, str]]) -> None:
    names = place_names[key]
    english = names["en"]
    copies = [tag for tag, text in names.items() if tag != "en" and text == english]
    assert not copies, f"{key}: {copies} copy the English name"
    # no language borrows another's name, except where the script agrees (阿蘇山)
    same = {frozenset((a, b)) for a in names for b in names if a < b and names[a] == names[b]}
    assert same <= {frozenset(("ja", "zh-Hant"))}, (key, same)
