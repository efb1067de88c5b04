"""Build the posters: the words from the catalogs, the links from the configuration,
one A4 PDF per language plus one with every language, and PNG previews.

Files written into ``out``::

    poster-<lang>[-<ward>].pdf     one language (and やさしい日本語), QR codes with the
                                   language (and ward) pre-set for Telegram, and the
                                   language's Telegram broadcast channel if it has one
    poster-all[-<ward>].pdf        every enabled language on one page
    *.png                          a preview of each page (pdftoppm, poppler-utils)
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from bot.config import Config
from bot.errors import BousaiError
from bot.posters.files import make_dir, write_file
from bot.posters.fonts import FontSet
from bot.posters.layout import A4, Code, Words, multilingual_page, single_page
from bot.posters.text import Typesetter
from bot.render.catalog import Catalogs
from bot.signup.links import (
    broadcast_channel,
    line_basic_id,
    line_link,
    telegram_link,
    telegram_username,
)

EASY = "ja-easy"
PREVIEW_DPI = 60


class PosterError(BousaiError, RuntimeError):
    """The posters cannot be made as asked (one line that says how to fix it)."""


@dataclass(frozen=True)
class Poster:
    language: str  # a language tag, or "all"
    pdf: Path
    png: Path | None
    links: tuple[str, ...]


def words(config: Config, catalogs: Catalogs, language: str, ward: str | None) -> Words:
    area = None
    if ward is not None:
        name = (config.ward(ward).name(language) if ward != "all"
                else catalogs.text(language, "signup.whole_city"))
        area = catalogs.text(language, "poster.area", area=name)
    try:
        language_name = config.language(language).name
    except LookupError:
        language_name = language
    return Words(language=language, language_name=language_name,
                 city=config.city_display_name(language),
                 title=catalogs.text(language, "poster.title"),
                 steps=(catalogs.text(language, "poster.step1"),
                        catalogs.text(language, "poster.step2")),
                 area=area)


def codes(config: Config, language: str | None, ward: str | None) -> list[Code]:
    """The QR codes of a poster: LINE's add-friend link, and the Telegram deep link
    with the language (and ward) pre-set; without a language, the bot's link."""
    out: list[Code] = []
    basic_id = line_basic_id(config)
    if basic_id is not None:
        out.append(Code("LINE", basic_id, line_link(basic_id)))
    username = telegram_username(config)
    if username is not None:
        out.append(Code("Telegram", f"@{username}",
                        telegram_link(username, language, ward if language else None)))
    chat = broadcast_channel(config, language) if language else None
    if chat is not None:  # the language's broadcast channel, when it has a public one
        out.append(Code("Telegram channel", chat, f"https://t.me/{chat[1:]}"))
    if not out:
        raise PosterError("no channel to sign up on: enable [channels.telegram], or "
                          f"[channels.line] with basic_id, in {config.path}")
    return out


class PosterMaker:
    def __init__(self, config: Config, catalogs: Catalogs, font_dir: Path) -> None:
        self.config = config
        self.catalogs = catalogs
        self.font_dir = font_dir

    def make(self, languages: list[str], ward: str | None, out: Path,
             *, multilingual: bool = True, previews: bool = True) -> list[Poster]:
        config = self.config
        everyone = list(config.languages)
        shown = {lang: words(config, self.catalogs, lang, ward)
                 for lang in dict.fromkeys([*languages, *(everyone if multilingual else []),
                                            *([EASY] if EASY in everyone else [])])}
        city_ja = config.city_display_name("ja")
        city_en = config.city_display_name("en")
        all_codes = {lang: codes(config, lang, ward) for lang in languages}
        plain = codes(config, None, None)
        texts = {lang: [w.city, w.language_name, w.title, *w.steps, w.area or ""]
                 for lang, w in shown.items()}
        texts.setdefault("ja", []).append(city_ja)
        texts.setdefault("en", []).extend([city_en, "0123456789",
                                           *(c.handle + c.url for cs in all_codes.values()
                                             for c in cs),
                                           *(c.handle + c.url for c in plain)])
        ts = Typesetter(FontSet(self.font_dir, texts))
        make_dir(out)
        suffix = f"-{ward}" if ward else ""
        posters: list[Poster] = []
        for lang in languages:
            easy = shown.get(EASY) if lang != EASY else None
            pdf = self._pdf(lambda c, lang=lang, easy=easy: single_page(
                c, ts, shown[lang], easy, all_codes[lang], city_ja),
                f"{shown[lang].title} — {city_ja}", lang)
            posters.append(self._write(out, f"poster-{lang}{suffix}", lang, pdf,
                                       tuple(c.url for c in all_codes[lang]), previews))
        if multilingual:
            pdf = self._pdf(lambda c: multilingual_page(
                c, ts, [shown[lang] for lang in everyone], plain, city_ja, city_en),
                f"{city_ja} — {city_en}", "mul")
            posters.append(self._write(out, f"poster-all{suffix}", "all", pdf,
                                       tuple(c.url for c in plain), previews))
        return posters

    @staticmethod
    def _pdf(draw: object, title: str, language: str) -> bytes:
        buf = io.BytesIO()
        canvas = Canvas(buf, pagesize=A4, pageCompression=1)
        canvas.setTitle(title)
        canvas.setAuthor("bousai-bot")
        canvas.setSubject(language)
        assert callable(draw)
        draw(canvas)
        canvas.showPage()
        canvas.save()
        return buf.getvalue()

    def _write(self, out: Path, stem: str, language: str, pdf: bytes, links: tuple[str, ...],
               previews: bool) -> Poster:
        pdf_path = out / f"{stem}.pdf"
        write_file(pdf_path, pdf)
        png_path = None
        if previews:
            png_path = out / f"{stem}.png"
            write_file(png_path, preview_png(pdf_path))
        return Poster(language, pdf_path, png_path, links)


def preview_png(pdf: Path, dpi: int = PREVIEW_DPI) -> bytes:
    """The first page of ``pdf`` as PNG, through pdftoppm (poppler-utils)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise PosterError("pdftoppm not found: install poppler-utils (apt-get install "
                          "poppler-utils) or pass --no-preview")
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / "page"
        result = subprocess.run([tool, "-png", "-r", str(dpi), "-singlefile", "-f", "1",  # noqa: S603
                                 "-l", "1", str(pdf), str(stem)],
                                capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise PosterError(f"pdftoppm failed on {pdf.name}: "
                              f"{(result.stderr or '').strip()[:200]}")
        return stem.with_suffix(".png").read_bytes()
