"""Split a text that is too long for a channel into numbered parts.

Splits at paragraph, then line, then sentence, then word boundaries, and only
as a last resort between two graphemes; never inside a word that fits, never
inside a grapheme cluster (a base character with its combining marks, an
emoji with its modifiers and joiners).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

Measure = Callable[[str], int]

_SENTENCE_END = re.compile(r"(?<=[。！？!?．.])(?:\s+|(?=[^\s\d)）」』]))")
_PART_MARK = " ({i}/{n})"
_ZWJ = "\u200d"


def graphemes(text: str) -> list[str]:
    """An approximation of extended grapheme clusters, good enough to split safely."""
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        joins = (
            out
            and (
                cat in ("Mn", "Me", "Mc")
                or ch == _ZWJ
                or out[-1].endswith(_ZWJ)
                or 0xFE00 <= ord(ch) <= 0xFE0F
                or 0x1F3FB <= ord(ch) <= 0x1F3FF
                or 0xE0020 <= ord(ch) <= 0xE007F
            )
        )
        if joins:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _pieces(text: str, level: int) -> list[str]:
    """Break ``text`` into pieces at the boundary of ``level``, keeping separators."""
    if level == 0:
        return [p for p in re.split(r"(?<=\n\n)", text) if p]
    if level == 1:
        return [p for p in re.split(r"(?<=\n)", text) if p]
    if level == 2:
        return [p for p in _SENTENCE_END.split(text) if p]
    if level == 3:
        return [p for p in re.split(r"(?<=\s)", text) if p]
    return graphemes(text)


def _pack(text: str, limit: int, measure: Measure, level: int = 0) -> list[str]:
    if measure(text) <= limit:
        return [text]
    if level > 4:
        # One grapheme longer than a whole part (a letter under thousands of
        # combining marks): keep the base and the marks that fit, drop the rest.
        keep = ""
        for ch in text:
            if measure(keep + ch) > limit:
                break
            keep += ch
        return [keep] if keep else []
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, level):
        if measure(piece) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(_pack(piece, limit, measure, level + 1))
            continue
        if measure(current + piece) <= limit:
            current += piece
        else:
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def split_text(
    text: str, limit: int, measure: Measure, *, max_parts: int | None = None
) -> list[str]:
    """Parts of ``text``, each at most ``limit`` by ``measure``, numbered " (i/n)"
    when there is more than one."""
    text = text.strip()
    if measure(text) <= limit:
        return [text]
    # Room for the " (i/n)" mark; grow the reservation until the count is stable.
    reserve = measure(_PART_MARK.format(i=9, n=9))
    while True:
        chunks = [c.strip() for c in _pack(text, limit - reserve, measure)]
        chunks = [c for c in chunks if c]
        n = len(chunks)
        needed = measure(_PART_MARK.format(i=n, n=n))
        if needed <= reserve:
            break
        reserve = needed
    if max_parts is not None and n > max_parts:
        raise ValueError(f"text needs {n} parts, the channel takes at most {max_parts}")
    return [c + _PART_MARK.format(i=i, n=n) for i, c in enumerate(chunks, 1)]
