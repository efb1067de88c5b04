"""JMA's comments: read from the documents, carried in every language.

Fixed comments (固定付加文) are catalog messages ``jma_comment.<code>``; their Japanese
is JMA's official text (code table AdditionalCommentEarthquake, a copy in
tests/fixtures/jma_codes). Free comments are carried in Japanese with a label.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.config import TEMPLATES_DIR, load_config
from bot.domain import (
    CommentKind,
    Earthquake,
    JmaComment,
    Kind,
    Tsunami,
    TsunamiKind,
    TsunamiOutlook,
    payload_from_json,
)
from bot.ingest.jma import parse_jma
from bot.ingest.jurisdiction import Jurisdiction
from bot.render import Renderer, load_renderer
from bot.render.catalog import load_catalog
from bot.render.kinds._common import COMMENT_KEY, NOT_SHOWN, SAME_AS
from tests.jma_helpers import JMA, one
from tests.render_alerts import alert

LANGUAGES = (
    "ja", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "tl",
    "ne", "id", "th", "pt", "es", "my", "km", "mn",
)
CODE_TABLE = Path(__file__).resolve().parent / "fixtures" / "jma_codes" / \
    "AdditionalCommentEarthquake.json"


@pytest.fixture(scope="module")
def jur() -> Jurisdiction:
    return Jurisdiction.from_config(load_config())


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return load_renderer(load_config())


def official() -> dict[str, str]:
    items = json.loads(CODE_TABLE.read_text(encoding="utf-8"))["items"]
    return {code: item["text"] for code, item in items.items()}


def sample_codes(jur: Jurisdiction) -> dict[str, set[str]]:
    """Fixed-comment codes of the earthquake and tsunami samples -> files that have them."""
    found: dict[str, set[str]] = {}
    for path in sorted(JMA.iterdir()):
        if not path.name.endswith((".xml", ".xml.gz")):
            continue
        if not any(t in path.name for t in ("VXSE51", "VXSE52", "VXSE53", "VTSE41", "VTSE51")):
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        for a in parse_jma(data, jur):
            assert isinstance(a.payload, Earthquake | Tsunami)
            for block in a.payload.comments:
                for code in block.codes:
                    found.setdefault(code, set()).add(path.name)
    return found


def test_japanese_messages_are_jmas_official_text() -> None:
    ja = load_catalog(TEMPLATES_DIR / "ja.po", "ja").messages
    table = official()
    keys = {k.removeprefix(COMMENT_KEY) for k in ja if k.startswith(COMMENT_KEY)}
    codes = keys - {"original", "eruption_note"}
    assert codes == set(table) - NOT_SHOWN  # every code of the table, but station notes
    for code in codes:
        assert ja[COMMENT_KEY + code] == table[code], code


def test_every_comment_code_in_the_samples_is_carried(jur: Jurisdiction) -> None:
    ja = load_catalog(TEMPLATES_DIR / "ja.po", "ja").messages
    found = sample_codes(jur)
    assert len(found) >= 25  # 01xx tsunami and 02xx earthquake comments
    missing = {code: sorted(files)[:2] for code, files in found.items()
               if COMMENT_KEY + SAME_AS.get(code, code) not in ja and code not in NOT_SHOWN}
    assert not missing


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"ja"}))
def test_comments_are_translated_not_copied(language: str) -> None:
    ja = load_catalog(TEMPLATES_DIR / "ja.po", "ja").messages
    messages = load_catalog(TEMPLATES_DIR / f"{language}.po", language).messages
    copied = [k for k in ja if k.startswith(COMMENT_KEY) and messages.get(k) == ja[k]]
    assert not copied, f"{language} copies JMA's Japanese for {copied}"


# ---------------------------------------------------------------- reading the documents


def test_comments_and_free_text_are_read(jur: Jurisdiction) -> None:
    p = one("32-39_05_01_100831_VXSE53.xml", jur).payload  # チリ中部沿岸, 2010
    assert isinstance(p, Earthquake)
    assert p.comments == (JmaComment(
        kind=CommentKind.FORECAST, codes=("0221", "0228", "0229"),
        text_ja="太平洋の広域に津波発生の可能性があります。\n一般的に、この規模の地震が海域の浅い"
                "領域で発生すると津波が発生することがあります。\n日本への津波の有無については現在"
                "調査中です。"),)
    assert p.free_comment_ja == "ＰＴＷＣでは２７日１５時４６分に津波情報を発表しています。"
    assert not p.volcanic_eruption
    p = one("32-35_04_04_240613_VXSE53.xml", jur).payload
    assert isinstance(p, Earthquake)
    assert [(c.kind, c.codes) for c in p.comments] == [
        (CommentKind.FORECAST, ("0215",)), (CommentKind.VAR, ("0262",))]


def test_an_eruption_report_is_recognised(jur: Jurisdiction) -> None:
    a = one("variants/reconstructed_230410_VXSE53_shiveluch.xml", jur)
    p = a.payload
    assert isinstance(p, Earthquake) and p.volcanic_eruption
    assert p.magnitude is None and p.hypocentre is not None and p.hypocentre.code == "941"
    assert p.tsunami is TsunamiOutlook.UNKNOWN
    assert a.body_ja.startswith("令和５年４月１０日２２時１０分頃（日本時間）にシベルチ火山で"
                                "大規模な噴火が発生しました")
    assert "震源" not in a.body_ja


def test_tsunami_reports_keep_what_is_in_force_elsewhere(jur: Jurisdiction) -> None:
    p = one("32-39_11_08_250206_VTSE51.xml", jur).payload
    assert isinstance(p, Tsunami)
    assert p.elsewhere_kind is TsunamiKind.MAJOR_WARNING
    assert p.elsewhere_areas_ja == ("青森県太平洋沿岸", "岩手県", "宮城県", "福島県")
    assert p.comments[0].codes == ("0114", "0111", "0112")
    p = one("32-39_11_09_250206_VTSE41.xml", jur).payload
    assert isinstance(p, Tsunami)
    assert p.free_comment_ja.startswith("［予想される津波の高さの解説］")


@pytest.mark.parametrize("name", [
    "variants/kumamoto_32-35_07_06_240613_VXSE53.xml",
    "variants/kumamoto_32-39_11_08_250206_VTSE51.xml",
    "variants/reconstructed_230410_VXSE53_shiveluch.xml",
    "32-39_11_09_250206_VTSE41.xml",
])
def test_comment_payloads_round_trip(name: str, jur: Jurisdiction) -> None:
    a = one(name, jur)
    stored = json.loads(json.dumps(a.payload.to_json(), ensure_ascii=False))
    assert payload_from_json(stored, kind=str(a.kind), source=a.source) == a.payload


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("language", ("ja", "en", "vi", "zh-Hans", "ne"))
def test_a_code_no_catalog_knows_is_shown_in_jmas_words(language: str,
                                                         renderer: Renderer) -> None:
    a = alert(Kind.EARTHQUAKE, Earthquake(comments=(
        JmaComment(kind=CommentKind.FORECAST, codes=("0215", "0299"),
                   text_ja="この地震による津波の心配はありません。\n未知の付加文です。"),
        JmaComment(kind=CommentKind.VAR, codes=("0262",),
                   text_ja="＊印は気象庁以外の震度観測点についての情報です。"))))
    text, _ = renderer.text(a, language)
    cats = renderer.catalogs
    assert cats.text(language, "jma_comment.0215") in text
    assert cats.text(language, "jma_comment.original") + "\n" + \
        "この地震による津波の心配はありません。\n未知の付加文です。" in text
    assert "＊印" not in text  # a note on station lists, which messages do not show


@pytest.mark.parametrize("language", ("ja", "en", "vi", "zh-Hans", "ne"))
def test_old_code_0203_reads_as_todays_0215(language: str, renderer: Renderer,
                                            jur: Jurisdiction) -> None:
    a = one("32-35_01_02_240613_VXSE52.xml", jur)  # ForecastComment 0203
    text, _ = renderer.text(a, language)
    assert renderer.catalogs.text(language, "jma_comment.0215") in text
    assert renderer.catalogs.text(language, "jma_comment.original") not in text
