"""Lines of text on a reportlab canvas, in any of the poster languages.

A line is cut into runs by the face that draws each character (Latin words in a
Thai sentence come from NotoSans), each run is shaped by HarfBuzz and drawn at
its advance. The whole line is wrapped in a marked-content span whose
``/ActualText`` is the line as written, so that copying, searching and text
extraction (``pdftotext``) give the words, not the shaped glyphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase.ttfonts import shapeStr
from reportlab.pdfgen.canvas import Canvas

from bot.posters.fonts import FontSet, Loaded

# Where a line may break: after a space, or between two CJK characters (never
# before closing punctuation). Scripts without spaces between words (Thai, Khmer,
# Myanmar) break at spaces and U+200B only.
_SPACES = " \u3000\u200b"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_NO_BREAK_BEFORE = set("、。，．・：；！？）」』】〕”’ー々"
                       "ぁぃぅぇぉっゃゅょァィゥェォッャュョ,.!?:;)")


@dataclass(frozen=True)
class Run:
    font: str
    text: str


class Typesetter:
    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts

    def runs(self, text: str, language: str, bold: bool = False) -> list[Run]:
        out: list[tuple[Loaded, list[str]]] = []
        for char in text:
            face = self.fonts.face_for(char, language)
            if face is None or (out and out[-1][0] is face):
                if out:
                    out[-1][1].append(char)
                    continue
                face = self.fonts.chain(language)[0]
            out.append((face, [char]))
        return [Run(face.names[1 if bold else 0], "".join(chars)) for face, chars in out]

    def width(self, text: str, language: str, size: float, bold: bool = False) -> float:
        return sum(_shaped(r.font, r.text, size)[1] for r in self.runs(text, language, bold))

    def fit(self, text: str, language: str, size: float, max_width: float,
            bold: bool = False, min_size: float = 5.0) -> float:
        """The largest size up to ``size`` at which ``text`` fits in ``max_width``."""
        width = self.width(text, language, size, bold)
        if width <= max_width:
            return size
        return max(min_size, size * max_width / width * 0.995)

    def wrap(self, text: str, language: str, size: float, max_width: float,
             bold: bool = False, max_lines: int = 2) -> list[str]:
        """Greedy line breaking at allowed points; at most ``max_lines`` lines (the
        caller shrinks what still does not fit)."""
        pieces = _break_points(text)
        lines: list[str] = []
        current = ""
        for piece in pieces:
            trial = current + piece
            if current and self.width(trial.rstrip(), language, size, bold) > max_width \
                    and len(lines) < max_lines - 1:
                lines.append(current.rstrip())
                current = piece.lstrip()
            else:
                current = trial
        lines.append(current.rstrip())
        return [line for line in lines if line]

    def draw(self, canvas: Canvas, text: str, x: float, y: float, size: float,
             language: str, *, bold: bool = False, align: str = "left") -> float:
        """Draw one line with its baseline at ``y``; ``align`` is left, center or
        right of ``x``. Returns the width."""
        shaped = [(run, *_shaped(run.font, run.text, size))
                  for run in self.runs(text, language, bold)]
        width = sum(w for _, _, w in shaped)
        if align == "center":
            x -= width / 2
        elif align == "right":
            x -= width
        actual = "FEFF" + text.encode("utf-16-be").hex().upper()
        canvas.addLiteral(f"/Span <</ActualText <{actual}>>> BDC")
        for run, glyphs, w in shaped:
            obj = canvas.beginText(x, y)
            obj.setFont(run.font, size)
            obj.textOut(glyphs)
            canvas.drawText(obj)
            x += w
        canvas.addLiteral("EMC")
        return width


@lru_cache(maxsize=4096)
def _shaped(font: str, text: str, size: float) -> tuple[str, float]:
    """``text`` shaped in ``font`` (a reportlab font name unique to its FontSet), and
    its advance width at ``size``."""
    shaped = shapeStr(text, font, size, force=True)
    data = getattr(shaped, "__shapeData__", None)
    if data is None:  # pragma: no cover - reportlab without HarfBuzz
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return shaped, stringWidth(text, font, size)
    return shaped, sum(g.x_advance for g in data) * size / 1000


def _break_points(text: str) -> list[str]:
    """``text`` cut after each space (also U+3000, U+200B); text without spaces
    (Japanese, Chinese) between CJK characters, never before closing punctuation.
    やさしい日本語 puts spaces between phrases: it breaks only there."""
    pieces: list[str] = []
    current = ""
    spaced = any(c in text for c in _SPACES)
    for i, char in enumerate(text):
        current += char
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if char in _SPACES or (not spaced and _CJK.match(char) and nxt and _CJK.match(nxt)
                               and nxt not in _NO_BREAK_BEFORE):
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces
