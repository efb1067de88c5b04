"""Text that fits the channel: lengths counted the platform's way, split, never cut."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import TEMPLATES_DIR, load_config
from bot.render.catalog import Catalogs
from bot.render.split import graphemes, split_text
from channels.lengths import LengthUnit, measure, utf16_length, weighted_length

MARK = re.compile(r" \((\d+)/(\d+)\)$")


def test_weighted_length_follows_twitter_text() -> None:
    assert weighted_length("hello") == 5
    assert weighted_length("熊本") == 4  # CJK weighs 2
    assert weighted_length("ひらがな") == 8
    assert weighted_length("한국") == 4
    assert weighted_length("Xem https://example.org/a/very/long/path?q=1 ngay") == 4 + 23 + 5
    assert weighted_length("café") == 4  # Latin-1 weighs 1
    # Latin Extended Additional (U+1E00-1EFF) is outside twitter-text's weight-1 ranges.
    assert weighted_length("Tiếng Việt") == 12


def test_utf16_counts_surrogate_pairs() -> None:
    assert utf16_length("𠮷野家") == 4  # 𠮷 is outside the BMP
    assert measure("😀", LengthUnit.UTF16) == 2


def test_short_text_is_one_part_without_a_mark() -> None:
    assert split_text("短い文。", 100, len) == ["短い文。"]


def test_split_prefers_sentence_boundaries_and_numbers_parts() -> None:
    text = "".join(f"これは{i}番目の文です。" for i in range(40))
    parts = split_text(text, 280, weighted_length)
    assert len(parts) > 1
    for i, part in enumerate(parts, 1):
        assert weighted_length(part) <= 280
        m = MARK.search(part)
        assert m and int(m.group(1)) == i and int(m.group(2)) == len(parts)
        assert MARK.sub("", part).endswith("。")  # cut after a full stop


def test_split_never_breaks_a_word_that_fits() -> None:
    words = " ".join(["evacuation"] * 200)
    for part in split_text(words, 280, weighted_length):
        body = MARK.sub("", part)
        assert all(w == "evacuation" for w in body.split())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(
    [*"あいう漢字。、 \nabc.!?", "é", "e\u0301", "👍🏽", "👨\u200d👩\u200d👧", "क्षि"]),
    min_size=1, max_size=600).map("".join), st.integers(min_value=30, max_value=300))
def test_split_property_fits_and_loses_nothing(text: str, limit: int) -> None:
    text = text.strip()
    if not text:
        return
    parts = split_text(text, limit, weighted_length)
    for part in parts:
        assert weighted_length(part) <= limit
        body = MARK.sub("", part) if len(parts) > 1 else part
        # No part starts inside a grapheme cluster.
        assert unicodedata.category(body[0]) not in ("Mn", "Me", "Mc") and body[0] != "\u200d"
    joined = "".join(MARK.sub("", p) if len(parts) > 1 else p for p in parts)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", text)


def test_graphemes_keep_clusters_together() -> None:
    assert graphemes("e\u0301a") == ["e\u0301", "a"]
    assert graphemes("👍🏽!") == ["👍🏽", "!"]
    assert len(graphemes("👨\u200d👩\u200d👧")) == 1


def test_catalogs_declare_native_review() -> None:
    config = load_config()
    catalogs = Catalogs.load(TEMPLATES_DIR, config.languages, config.fallback_languages)
    assert catalogs.by_language["ja"].reviewed is True
    assert catalogs.by_language["en"].reviewed is True
    assert catalogs.by_language["vi"].reviewed is False


def test_city_wide_intensity_is_shown_where_no_ward_detail_exists() -> None:
    """A report that gives 熊本市 as a whole (pre-2012 code) still says how strong it
    was in the city, in every language."""
    from bot.config import load_config
    from bot.ingest import Jurisdiction, detect_and_parse
    from bot.render import load_renderer
    from tests.conftest import FIXTURES

    config = load_config()
    path = FIXTURES / "jma" / "32-35_04_04_240613_VXSE53.xml"
    alert = detect_and_parse(path.read_bytes(), Jurisdiction.from_config(config),
                             origin=path.name)[0]
    renderer = load_renderer(config)
    ja, _ = renderer.text(alert, "ja")
    assert "熊本市の震度\n震度1：熊本市" in ja
    en, _ = renderer.text(alert, "en")
    assert "Seismic intensity in Kumamoto City" in en
    for language in config.languages:
        text, _ = renderer.text(alert, language)
        assert config.city_display_name(language) in text
