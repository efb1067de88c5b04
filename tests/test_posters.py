"""``bousai posters``: A4 PDFs whose QR codes decode to the sign-up links and whose
text (as pdftotext reads it) is each language's title, in every script."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bot.config import TEMPLATES_DIR, ChannelSettings, Config, load_config
from bot.posters.fonts import FontMissingError, find_file
from bot.posters.make import Poster, PosterMaker
from bot.render.catalog import Catalogs
from tests.cli_helpers import bousai, json_lines
from tests.test_signup_telegram import write_config

FONT_DIR = Path(os.environ.get("BOUSAI_FONT_DIR", "/usr/share/fonts"))
LINE = "https://line.me/R/ti/p/@123bousai"
BOT = "https://t.me/bousai_test_bot"


def _tools_present() -> None:
    """The suite needs poppler-utils and the Noto fonts (.ci/run installs them):
    their absence is a failure, not a skip."""
    for tool in ("pdftoppm", "pdftotext"):
        assert shutil.which(tool), f"{tool} missing: apt-get install poppler-utils"
    for name, package in (("NotoSans-Regular.ttf", "fonts-noto-core"),
                          ("NotoSansCJK-Regular.ttc", "fonts-noto-cjk")):
        assert find_file(FONT_DIR, name), f"{name} missing: apt-get install {package}"


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def squeeze(text: str) -> str:
    """Without whitespace: a title wrapped over two lines still matches."""
    return "".join(text.split())


def qr_links(pdf: Path, tmp: Path) -> set[str]:
    """Render the page at 100 dpi (pdftoppm) and decode every QR code on it."""
    stem = tmp / pdf.stem
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", str(pdf), str(stem)],
                   check=True)
    with Image.open(stem.with_suffix(".png")) as image:
        return {r.text for r in zxingcpp.read_barcodes(image)}


@pytest.fixture(scope="module")
def city() -> Config:
    """The shipped 熊本市 configuration (16 languages), with LINE and Telegram on."""
    config = load_config()
    channels = {**config.channels,
                "telegram": ChannelSettings(name="telegram", enabled=True,
                                            options={"username": "bousai_test_bot"}),
                "line": ChannelSettings(name="line", enabled=True,
                                        options={"basic_id": "@123bousai"})}
    return dataclasses.replace(config, channels=channels)


@pytest.fixture(scope="module")
def catalogs(city: Config) -> Catalogs:
    return Catalogs.load(TEMPLATES_DIR, city.languages, city.fallback_languages)


@pytest.fixture(scope="module")
def sixteen(city: Config, catalogs: Catalogs, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Poster]:
    """Every language's poster for 中央区, and the one with all languages."""
    _tools_present()
    out = tmp_path_factory.mktemp("posters")
    made = PosterMaker(city, catalogs, FONT_DIR).make(list(city.languages), "43101", out,
                                                       previews=False)
    return {p.language: p for p in made}


def test_every_language_has_a_poster_with_its_title_and_working_codes(
        sixteen: dict[str, Poster], city: Config, catalogs: Catalogs,
        tmp_path: Path) -> None:
    assert set(sixteen) == {*city.languages, "all"}
    easy_title = catalogs.text("ja-easy", "poster.title")
    for lang in city.languages:
        poster = sixteen[lang]
        assert poster.pdf.name == f"poster-{lang}-43101.pdf"
        text = squeeze(pdf_text(poster.pdf))
        assert squeeze(catalogs.text(lang, "poster.title")) in text, (lang, text)
        assert squeeze(catalogs.text(lang, "poster.step1")) in text, lang
        assert squeeze(city.city_display_name(lang)) in text, lang
        ward = city.ward("43101").name(lang)
        assert squeeze(catalogs.text(lang, "poster.area", area=ward)) in text, lang
        assert squeeze(easy_title) in text, lang  # やさしい日本語 on every poster
        assert "@123bousai" in text and "@bousai_test_bot" in text
    for lang in ("vi", "ne", "my", "zh-Hant"):  # decoding is the slow part: a sample
        assert qr_links(sixteen[lang].pdf, tmp_path) == {LINE, f"{BOT}?start={lang}-43101"}


def test_the_multilingual_poster_has_all_sixteen_titles(
        sixteen: dict[str, Poster], city: Config, catalogs: Catalogs, tmp_path: Path) -> None:
    poster = sixteen["all"]
    assert poster.pdf.name == "poster-all-43101.pdf"
    text = squeeze(pdf_text(poster.pdf))
    assert len(city.languages) == 16
    for lang in city.languages:
        assert squeeze(catalogs.text(lang, "poster.title")) in text, lang
        assert squeeze(city.language(lang).name) in text, lang
    # one poster for everyone: the Telegram bot asks for the language first
    assert qr_links(poster.pdf, tmp_path) == {LINE, BOT}


def test_a_long_title_is_wrapped_or_shrunk_never_cut(city: Config, catalogs: Catalogs,
                                                     tmp_path: Path) -> None:
    long = "Thông tin thiên tai khẩn cấp của thành phố bằng ngôn ngữ của bạn " * 3
    po = {**catalogs.by_language}
    vi = dataclasses.replace(po["vi"], messages={**po["vi"].messages, "poster.title": long})
    cats = dataclasses.replace(catalogs, by_language={**po, "vi": vi})
    made = PosterMaker(city, cats, FONT_DIR).make(["vi"], None, tmp_path,
                                                  multilingual=False, previews=False)
    assert squeeze(long) in squeeze(pdf_text(made[0].pdf))


@pytest.fixture
def small_city(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    monkeypatch.setenv("BOUSAI_CONFIG", str(path))
    return path


def test_command_writes_pdfs_and_previews_without_group_write(small_city: Path,
                                                              tmp_path: Path) -> None:
    _tools_present()
    out = tmp_path / "out"
    old = os.umask(0)  # even an operator with a careless umask
    try:
        result = bousai("posters", "--language", "vi", "--ward", "東区", "--out", str(out),
                        "--json")
    finally:
        os.umask(old)
    rows = json_lines(result.stdout)
    assert [r["language"] for r in rows] == ["vi", "all"]
    assert rows[0]["links"] == [LINE, f"{BOT}?start=vi-43102"]
    for row in rows:
        for key in ("pdf", "png"):
            mode = stat.S_IMODE(Path(row[key]).stat().st_mode)
            assert not mode & (stat.S_IWGRP | stat.S_IWOTH), (row[key], oct(mode))
        with Image.open(row["png"]) as image:
            assert image.size[0] < image.size[1]  # A4 portrait
    assert not stat.S_IMODE(out.stat().st_mode) & (stat.S_IWGRP | stat.S_IWOTH)
    assert "Quận Higashi" in pdf_text(Path(rows[0]["pdf"]))


def test_signup_links_are_not_group_writable_either(small_city: Path, tmp_path: Path) -> None:
    out = tmp_path / "links"
    old = os.umask(0)
    try:
        bousai("signup-links", "--language", "vi", "--ward", "43101", "--out", str(out))
    finally:
        os.umask(old)
    for path in out.iterdir():
        assert not stat.S_IMODE(path.stat().st_mode) & (stat.S_IWGRP | stat.S_IWOTH), path


def test_operator_mistakes_get_one_line(small_city: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    result = bousai("posters", "--language", "vi", "--out", str(tmp_path / "o"),
                    "--font-dir", str(empty), expect=1)
    assert result.stderr.count("\n") == 1
    assert "NotoSans-Regular.ttf" in result.stderr and "fonts-noto-core" in result.stderr
    result = bousai("posters", "--language", "xx", "--out", str(tmp_path / "o"), expect=1)
    assert "xx" in result.stderr and result.stderr.count("\n") == 1
    result = bousai("posters", "--ward", "99999", "--out", str(tmp_path / "o"), expect=1)
    assert "99999" in result.stderr


def test_a_missing_script_font_names_its_package(city: Config, catalogs: Catalogs,
                                                 tmp_path: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()

    def link(*names: str) -> None:
        for name in names:
            found = find_file(FONT_DIR, name)
            assert found is not None
            (fonts / name).symlink_to(found)

    link("NotoSans-Regular.ttf", "NotoSans-Bold.ttf")
    maker = PosterMaker(city, catalogs, fonts)
    # やさしい日本語 is on every poster: even the English one needs Noto CJK
    with pytest.raises(FontMissingError, match=r"NotoSansCJK-Regular\.ttc .*fonts-noto-cjk"):
        maker.make(["en"], None, tmp_path / "en", multilingual=False, previews=False)
    link("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc")
    assert maker.make(["en"], None, tmp_path / "en", multilingual=False, previews=False)
    with pytest.raises(FontMissingError, match=r"NotoSansThai-Regular\.ttf .*fonts-noto-core"):
        maker.make(["th"], None, tmp_path / "th", multilingual=False, previews=False)
