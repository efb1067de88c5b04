"""The LINE rich menu's picture: four tiles (Latest, Shelters, Safety, Settings)
with an icon and the label in the user's language, drawn with Pillow.

Labels are set with the same Noto faces as the posters (:mod:`bot.posters.fonts`)
through Pillow's Raqm layout, which shapes Thai, Khmer, Myanmar and Devanagari.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.posters.fonts import FACES, FontMissingError, collection_index, find_file, script_of

WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 2, 2
GAP = 12
TILE_COLORS = ("#C92A2A", "#2B8A3E", "#1864AB", "#495057")  # latest, shelters, safety, settings
WHITE = "#FFFFFF"


def tile_bounds(index: int) -> tuple[int, int, int, int]:
    """x, y, width, height of tile ``index`` (row by row); the tiles cover the image."""
    col, row = index % COLUMNS, index // COLUMNS
    w, h = WIDTH // COLUMNS, HEIGHT // ROWS
    return col * w, row * h, (WIDTH - col * w if col == COLUMNS - 1 else w), \
        (HEIGHT - row * h if row == ROWS - 1 else h)


@lru_cache(maxsize=64)
def label_font(language: str, font_dir: Path, size: int) -> ImageFont.FreeTypeFont:
    face = FACES[script_of(language)]
    path = find_file(font_dir, face.files[1])
    if path is None:
        raise FontMissingError(face, face.files[1], font_dir)
    index = collection_index(path, face.collection_family) if face.collection_family else 0
    return ImageFont.truetype(str(path), size, index=index,
                              layout_engine=ImageFont.Layout.RAQM)


def _fit(draw: ImageDraw.ImageDraw, text: str, language: str, font_dir: Path,
         max_width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest size (from 150 px down) at which ``text`` fits on one line, or
    on two lines broken at a space."""
    for size in range(150, 50, -10):
        font = label_font(language, font_dir, size)
        if draw.textlength(text, font=font) <= max_width:
            return font, [text]
        if " " in text:
            words = text.split(" ")
            best = min(range(1, len(words)), key=lambda i: abs(
                len(" ".join(words[:i])) - len(" ".join(words[i:]))))
            lines = [" ".join(words[:best]), " ".join(words[best:])]
            if all(draw.textlength(line, font=font) <= max_width for line in lines):
                return font, lines
    font = label_font(language, font_dir, 50)
    return font, [text]


def _icon(draw: ImageDraw.ImageDraw, kind: int, cx: float, cy: float, r: float) -> None:
    if kind == 0:  # latest: an exclamation mark in a ring
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=WHITE, width=int(r * 0.16))
        draw.rounded_rectangle((cx - r * .1, cy - r * .6, cx + r * .1, cy + r * .2),
                               radius=r * .08, fill=WHITE)
        draw.ellipse((cx - r * .12, cy + r * .35, cx + r * .12, cy + r * .59), fill=WHITE)
    elif kind == 1:  # shelters: a house
        draw.polygon([(cx - r, cy - r * .05), (cx, cy - r), (cx + r, cy - r * .05)], fill=WHITE)
        draw.rectangle((cx - r * .72, cy - r * .1, cx + r * .72, cy + r * .85), fill=WHITE)
        draw.rectangle((cx - r * .18, cy + r * .3, cx + r * .18, cy + r * .85),
                       fill=TILE_COLORS[1])
    elif kind == 2:  # safety: a tick in a ring
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=WHITE, width=int(r * 0.16))
        draw.line([(cx - r * .5, cy), (cx - r * .12, cy + r * .4), (cx + r * .52, cy - r * .38)],
                  fill=WHITE, width=int(r * .2), joint="curve")
    else:  # settings: a gear
        teeth = 8
        points = []
        for i in range(teeth * 2):
            angle = math.pi * i / teeth
            radius = r if i % 2 == 0 else r * .78
            for da in (-0.16, 0.16):
                points.append((cx + radius * math.cos(angle + da),
                               cy + radius * math.sin(angle + da)))
        draw.polygon(points, fill=WHITE)
        draw.ellipse((cx - r * .32, cy - r * .32, cx + r * .32, cy + r * .32),
                     fill=TILE_COLORS[3])


def render(labels: Sequence[str], language: str, font_dir: Path) -> bytes:
    """The PNG (WIDTH x HEIGHT) for the four ``labels`` in ``language``."""
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)
    for i, label in enumerate(labels):
        x, y, w, h = tile_bounds(i)
        draw.rectangle((x + GAP, y + GAP, x + w - GAP, y + h - GAP), fill=TILE_COLORS[i])
        _icon(draw, i, x + w / 2, y + h * 0.32, h * 0.16)
        font, lines = _fit(draw, label, language, font_dir, w - 160)
        line_h = font.size * 1.25
        top = y + h * 0.7 - (len(lines) - 1) * line_h / 2
        for n, line in enumerate(lines):
            draw.text((x + w / 2, top + n * line_h), line, font=font, fill=WHITE, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
