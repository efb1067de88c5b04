"""Fonts for posters: Noto from Debian's packages, found under a font directory.

Each language is written in one script, and each script has a Noto face (regular
and bold) from a Debian package::

    script      files                                   Debian package
    latin       NotoSans-{Regular,Bold}.ttf              fonts-noto-core  (also Vietnamese,
                                                                          Cyrillic for mn)
    thai        NotoSansThai-{Regular,Bold}.ttf          fonts-noto-core
    khmer       NotoSansKhmer-{Regular,Bold}.ttf         fonts-noto-core
    myanmar     NotoSansMyanmar-{Regular,Bold}.ttf       fonts-noto-core
    devanagari  NotoSansDevanagari-{Regular,Bold}.ttf    fonts-noto-core
    cjk-*       NotoSansCJK-{Regular,Bold}.ttc           fonts-noto-cjk   (JP, KR, SC, TC)

TrueType faces are embedded as they are (reportlab subsets them) and shaped with
HarfBuzz, which Devanagari, Khmer, Myanmar and Thai need. Noto CJK ships only
PostScript (CFF) outlines, which reportlab cannot embed: the glyphs a poster uses
are drawn with HarfBuzz and rebuilt as a small TrueType font (fontTools), which
takes a fraction of a second per face.

A face that a chosen language needs and that is not under the font directory is
a :class:`FontMissingError` naming the file and the package to install.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from bot.errors import BousaiError

DEFAULT_FONT_DIR = Path("/usr/share/fonts")


@dataclass(frozen=True)
class Face:
    script: str
    files: tuple[str, str]  # regular, bold
    package: str
    collection_family: str | None = None  # the face inside a .ttc collection


FACES: dict[str, Face] = {f.script: f for f in (
    Face("latin", ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"), "fonts-noto-core"),
    Face("thai", ("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"), "fonts-noto-core"),
    Face("khmer", ("NotoSansKhmer-Regular.ttf", "NotoSansKhmer-Bold.ttf"), "fonts-noto-core"),
    Face("myanmar", ("NotoSansMyanmar-Regular.ttf", "NotoSansMyanmar-Bold.ttf"),
         "fonts-noto-core"),
    Face("devanagari", ("NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
         "fonts-noto-core"),
    *(Face(f"cjk-{region.lower()}", ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"),
           "fonts-noto-cjk", f"Noto Sans CJK {region}") for region in ("JP", "KR", "SC", "TC")),
)}

# The script of each language's text; a language not listed is written in Latin or
# Cyrillic (NotoSans). A language in a new script needs an entry here and in FACES.
SCRIPT_OF_LANGUAGE = {
    "ja": "cjk-jp", "ja-easy": "cjk-jp", "ko": "cjk-kr", "zh-Hans": "cjk-sc",
    "zh-Hant": "cjk-tc", "th": "thai", "km": "khmer", "my": "myanmar", "ne": "devanagari",
}
_NAME_PROP = 1  # OpenType name id of the family name

_serial = itertools.count(1)


class FontMissingError(BousaiError, LookupError):
    """A face a language needs is not installed."""

    def __init__(self, face: Face, filename: str, font_dir: Path) -> None:
        self.face, self.filename, self.font_dir = face, filename, font_dir
        super().__init__(
            f"no {filename} under {font_dir} (needed for {face.script} text): install the "
            f"Debian package {face.package} (apt-get install {face.package}) or point "
            "--font-dir / BOUSAI_FONT_DIR at a directory that has it")


class UncoveredTextError(BousaiError, LookupError):
    """A character that none of the loaded faces can draw (it would print as a box)."""

    def __init__(self, char: str, language: str) -> None:
        super().__init__(f"no font covers {char!r} (U+{ord(char):04X}) in the {language} text")


def script_of(language: str) -> str:
    return SCRIPT_OF_LANGUAGE.get(language, "latin")


def find_file(font_dir: Path, filename: str) -> Path | None:
    """``filename`` anywhere under ``font_dir`` (Debian spreads Noto over
    truetype/noto and opentype/noto), or None."""
    direct = font_dir / filename
    if direct.is_file():
        return direct
    return next((p for p in sorted(font_dir.rglob(filename)) if p.is_file()), None)


def collection_index(path: Path, family: str) -> int:
    """The index of the face named ``family`` in the collection ``path``."""
    blob = hb.Blob.from_file_path(str(path))
    for index in range(hb.Face(blob).count):
        face = hb.Face(blob, index)
        if face.get_name(_NAME_PROP) == family:
            return index
    raise LookupError(f"{path} has no face named {family!r}")


def truetype_subset(path: Path, index: int, text: str, name: str) -> bytes:
    """A TrueType font with the glyphs of ``text`` (and printable ASCII), drawn from
    face ``index`` of ``path`` by HarfBuzz: how CFF-outline faces reach reportlab."""
    blob = hb.Blob.from_file_path(str(path))
    face = hb.Face(blob, index)
    font = hb.Font(face)
    cmap: dict[int, int] = {}
    for cp in sorted({ord(c) for c in text} | set(range(0x20, 0x7F))):
        gid = font.get_nominal_glyph(cp)
        if gid:
            cmap[cp] = gid
    gids = [0, *sorted(set(cmap.values()) - {0})]
    names = {g: ".notdef" if g == 0 else f"g{g}" for g in gids}
    glyphs = {}
    for gid in gids:
        pen = TTGlyphPen(None)
        font.draw_glyph_with_pen(gid, Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[names[gid]] = pen.glyph()
    fb = FontBuilder(face.upem, isTTF=True)
    fb.setupGlyphOrder([names[g] for g in gids])
    fb.setupCharacterMap({cp: names[g] for cp, g in cmap.items()})
    fb.setupGlyf(glyphs)
    glyf = fb.font["glyf"]
    fb.setupHorizontalMetrics({names[g]: (font.get_glyph_h_advance(g),
                                          getattr(glyf[names[g]], "xMin", 0)) for g in gids})
    ext = font.get_font_extents("ltr")
    fb.setupHorizontalHeader(ascent=ext.ascender, descent=ext.descender)
    fb.setupNameTable({"familyName": name, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=ext.ascender, sTypoDescender=ext.descender,
                usWinAscent=ext.ascender, usWinDescent=-ext.descender, fsType=0)
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Loaded:
    script: str
    names: tuple[str, str]  # reportlab font names: regular, bold
    coverage: frozenset[int]


class FontSet:
    """The faces for a set of languages, registered with reportlab under names
    unique to this set. ``texts`` is every text that will be drawn, by language
    (CJK faces hold only the glyphs these texts use)."""

    def __init__(self, font_dir: Path, texts: Mapping[str, Iterable[str]]) -> None:
        self.font_dir = font_dir
        all_text = {lang: "".join(parts) for lang, parts in texts.items()}
        scripts = {"latin", *(script_of(lang) for lang in texts)}
        self.faces: dict[str, Loaded] = {}
        for script in sorted(scripts, key=lambda s: (s != "latin", s)):
            face = FACES[script]
            text = "".join(t for lang, t in all_text.items() if script_of(lang) == script)
            self.faces[script] = self._load(face, text)
        for lang, text in all_text.items():
            for char in text:
                self.face_for(char, lang)  # fail now rather than print a box

    def _load(self, face: Face, text: str) -> Loaded:
        serial = next(_serial)
        names: list[str] = []
        coverage: frozenset[int] = frozenset()
        for weight, filename in zip(("regular", "bold"), face.files, strict=True):
            path = find_file(self.font_dir, filename)
            if path is None:
                raise FontMissingError(face, filename, self.font_dir)
            name = f"bousai-{face.script}-{weight}-{serial}"
            if face.collection_family is not None:
                index = collection_index(path, face.collection_family)
                data = truetype_subset(path, index, text, name)
                font = TTFont(name, io.BytesIO(data))
            else:
                font = TTFont(name, str(path))
            pdfmetrics.registerFont(font)
            names.append(name)
            if weight == "regular":
                coverage = frozenset(font.face.charToGlyph)
        return Loaded(face.script, (names[0], names[1]), coverage)

    def chain(self, language: str) -> list[Loaded]:
        first = self.faces[script_of(language)]
        return [first, *(f for f in self.faces.values() if f is not first)]

    def face_for(self, char: str, language: str) -> Loaded | None:
        """The face that draws ``char`` in ``language`` text; None for a character
        that joins the run before it (spaces, marks, joiners)."""
        if char.isspace() or char in "\u200b\u200c\u200d":
            return None
        for face in self.chain(language):
            if ord(char) in face.coverage:
                return face
        raise UncoveredTextError(char, language)
