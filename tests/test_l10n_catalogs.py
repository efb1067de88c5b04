"""Every language has every message of the Japanese catalog, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from bot.config import TEMPLATES_DIR, load_config
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
