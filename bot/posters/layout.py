"""The two A4 pages: one language (with やさしい日本語 below it), and all languages.

Everything is drawn in points on a reportlab canvas; QR codes are vector squares
(segno's matrix), so they print sharp at any size. Text that would not fit its
box is wrapped at allowed points, then made smaller, never cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import segno
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from bot.posters.text import Typesetter

WIDTH, HEIGHT = A4
MARGIN = 42.0
NAVY = HexColor("#17375E")
INK = HexColor("#1A1A1A")
GREY = HexColor("#5F6368")
PANEL = HexColor("#EEF2F7")
ACCENT = HexColor("#E8590C")
CHANNEL_COLORS = {"LINE": HexColor("#06C755"), "Telegram": HexColor("#229ED9")}


@dataclass(frozen=True)
class Words:
    """What a poster says in one language."""

    language: str
    language_name: str
    city: str
    title: str
    steps: tuple[str, str]
    area: str | None = None


@dataclass(frozen=True)
class Code:
    """One QR code: the channel's name, the handle people can search, the link."""

    channel: str
    handle: str
    url: str


def draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """A QR code for ``url`` with its quiet zone, lower left corner at (x, y)."""
    qr = segno.make(url, error="m")
    rows = [list(row) for row in qr.matrix]
    n = len(rows) + 8  # four modules of quiet zone on each side
    module = size / n
    canvas.setFillColor(white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(HexColor("#000000"))
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            canvas.rect(x + (start + 4) * module, y + size - (r + 5) * module,
                        (c - start) * module, module, stroke=0, fill=1)


def _lines(ts: Typesetter, text: str, language: str, size: float, width: float,
           bold: bool = False, max_lines: int = 2) -> tuple[list[str], float]:
    """``text`` broken into at most ``max_lines`` lines that fit ``width``, and the size."""
    lines = ts.wrap(text, language, size, width, bold, max_lines)
    widest = max(ts.width(line, language, size, bold) for line in lines)
    if widest > width:
        size = size * width / widest * 0.995
    return lines, size


def _paragraph(canvas: Canvas, ts: Typesetter, text: str, language: str, x: float, y: float,
               size: float, width: float, *, bold: bool = False, align: str = "left",
               max_lines: int = 2, leading: float = 1.3, color: Color = INK) -> float:
    """Draw ``text`` from baseline ``y`` down; returns the y below the last line."""
    lines, size = _lines(ts, text, language, size, width, bold, max_lines)
    canvas.setFillColor(color)
    for line in lines:
        ts.draw(canvas, line, x, y, size, language, bold=bold, align=align)
        y -= size * leading
    return y


def _code_box(canvas: Canvas, ts: Typesetter, code: Code, x: float, top: float, width: float,
              qr_size: float, language: str) -> float:
    """A channel's box: its name on a band of its colour, the QR code, the handle and
    the link. Returns the y of the box's bottom."""
    band = 30.0
    color = CHANNEL_COLORS.get(code.channel, CHANNEL_COLORS.get(code.channel.split()[0], NAVY))
    height = band + qr_size + 52
    canvas.setStrokeColor(color)
    canvas.setLineWidth(1.5)
    canvas.roundRect(x, top - height, width, height, 8, stroke=1, fill=0)
    canvas.setFillColor(color)
    canvas.roundRect(x, top - band, width, band, 8, stroke=0, fill=1)
    canvas.rect(x, top - band, width, band / 2, stroke=0, fill=1)
    canvas.setFillColor(white)
    ts.draw(canvas, code.channel, x + width / 2, top - band + 9, 17, "en", bold=True,
            align="center")
    draw_qr(canvas, code.url, x + (width - qr_size) / 2, top - band - qr_size - 4, qr_size)
    y = top - band - qr_size - 22
    canvas.setFillColor(INK)
    ts.draw(canvas, code.handle, x + width / 2, y, ts.fit(code.handle, "en", 13, width - 16),
            "en", bold=True, align="center")
    canvas.setFillColor(GREY)
    ts.draw(canvas, code.url, x + width / 2, y - 16, ts.fit(code.url, "en", 7.5, width - 16),
            "en", align="center")
    return top - height


def _codes_row(canvas: Canvas, ts: Typesetter, codes: Sequence[Code], top: float,
               qr_size: float, language: str) -> float:
    gap = 24.0
    width = min(230.0, (WIDTH - 2 * MARGIN - gap * (len(codes) - 1)) / len(codes))
    total = width * len(codes) + gap * (len(codes) - 1)
    x = (WIDTH - total) / 2
    bottom = top
    qr_size = min(qr_size, width - 20)  # three codes in a row: smaller squares
    for code in codes:
        bottom = min(bottom, _code_box(canvas, ts, code, x, top, width, qr_size, language))
        x += width + gap
    return bottom


def _steps(canvas: Canvas, ts: Typesetter, words: Words, y: float, size: float,
           width: float, x: float = MARGIN) -> float:
    for number, step in enumerate(words.steps, 1):
        canvas.setFillColor(ACCENT)
        canvas.circle(x + size * 0.7, y + size * 0.33, size * 0.7, stroke=0, fill=1)
        canvas.setFillColor(white)
        ts.draw(canvas, str(number), x + size * 0.7, y, size * 0.9, "en", bold=True,
                align="center")
        y = _paragraph(canvas, ts, step, words.language, x + size * 2, y, size,
                       width - size * 2, leading=1.35)
        y -= size * 0.35
    return y


def single_page(canvas: Canvas, ts: Typesetter, words: Words, easy: Words | None,
                codes: Sequence[Code], city_ja: str) -> None:
    """One language's poster, with やさしい日本語 below when ``easy`` is given."""
    inner = WIDTH - 2 * MARGIN
    canvas.setFillColor(NAVY)
    canvas.rect(0, HEIGHT - 104, WIDTH, 104, stroke=0, fill=1)
    canvas.setFillColor(white)
    city_size = ts.fit(words.city, words.language, 26, inner, bold=True)
    ts.draw(canvas, words.city, MARGIN, HEIGHT - 52, city_size, words.language, bold=True)
    sub = words.language_name if words.city == city_ja else f"{city_ja} · {words.language_name}"
    ts.draw(canvas, sub, MARGIN, HEIGHT - 80, ts.fit(sub, words.language, 13, inner),
            words.language)
    y = _paragraph(canvas, ts, words.title, words.language, WIDTH / 2, HEIGHT - 160, 38,
                   inner, bold=True, align="center", leading=1.25)
    y = _steps(canvas, ts, words, y - 8, 16, inner)
    bottom = _codes_row(canvas, ts, codes, y - 6, 150, words.language)
    y = bottom - 30
    if words.area:
        canvas.setFillColor(NAVY)
        ts.draw(canvas, words.area, WIDTH / 2, y, ts.fit(words.area, words.language, 16, inner,
                                                         bold=True),
                words.language, bold=True, align="center")
        y -= 22
    if easy is not None:
        top = min(y, 200.0)
        canvas.setFillColor(PANEL)
        canvas.roundRect(MARGIN, 40, inner, top - 40, 10, stroke=0, fill=1)
        canvas.setFillColor(GREY)
        ts.draw(canvas, easy.language_name, MARGIN + 16, top - 22, 10, easy.language)
        y = _paragraph(canvas, ts, easy.title, easy.language, MARGIN + 16, top - 50, 21,
                       inner - 32, bold=True)
        _steps(canvas, ts, easy, y - 4, 12.5, inner - 32, MARGIN + 16)
    canvas.setFillColor(GREY)
    ts.draw(canvas, city_ja, WIDTH - MARGIN, 22, 8, "ja", align="right")


def multilingual_page(canvas: Canvas, ts: Typesetter, blocks: Sequence[Words],
                      codes: Sequence[Code], city_ja: str, city_en: str) -> None:
    """Every language on one page: the codes at the top, then a grid of blocks."""
    inner = WIDTH - 2 * MARGIN
    canvas.setFillColor(NAVY)
    canvas.rect(0, HEIGHT - 76, WIDTH, 76, stroke=0, fill=1)
    canvas.setFillColor(white)
    ts.draw(canvas, city_ja, MARGIN, HEIGHT - 44, 24, "ja", bold=True)
    ts.draw(canvas, city_en, WIDTH - MARGIN, HEIGHT - 44, 18, "en", bold=True, align="right")
    bottom = _codes_row(canvas, ts, codes, HEIGHT - 92, 104, "en")
    columns = 2
    rows = (len(blocks) + columns - 1) // columns
    gap = 14.0
    cell_w = (inner - gap) / columns
    top = bottom - 14
    cell_h = (top - 30) / max(rows, 1)
    for i, block in enumerate(blocks):
        col, row = i % columns, i // columns
        x = MARGIN + col * (cell_w + gap)
        y = top - row * cell_h
        canvas.setStrokeColor(PANEL)
        canvas.setLineWidth(1)
        canvas.line(x, y, x + cell_w, y)
        canvas.setFillColor(GREY)
        ts.draw(canvas, block.language_name, x, y - 11, 7.5, block.language)
        size = ts.fit(block.title, block.language, 12.5, cell_w, bold=True)
        canvas.setFillColor(INK)
        ts.draw(canvas, block.title, x, y - 10 - size * 1.3, size, block.language, bold=True)
        sy = y - 12 - size * 1.3 - 11
        for step in block.steps:
            step_size = ts.fit(step, block.language, 8.5, cell_w, min_size=5.5)
            ts.draw(canvas, step, x, sy, step_size, block.language)
            sy -= 11
    canvas.setFillColor(GREY)
    ts.draw(canvas, city_ja, WIDTH - MARGIN, 18, 8, "ja", align="right")
