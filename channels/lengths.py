"""How long a text is, as each platform counts it: code points, UTF-16 code units
(LINE, Telegram), or X's weighted length (twitter-text v3)."""

from __future__ import annotations

import enum
import re
import unicodedata


class LengthUnit(enum.StrEnum):
    CHARS = "chars"  # Unicode code points (Telegram counts UTF-16 but BMP text is the same)
    UTF16 = "utf16"  # UTF-16 code units (LINE)
    WEIGHTED = "weighted"  # twitter-text weighted length (X)


_URL_RE = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_URL_WEIGHT = 23  # every URL counts as a t.co link


def _char_weight(cp: int) -> int:
    """twitter-text v3 config: these ranges weigh 1, everything else 2."""
    if (
        cp <= 0x10FF
        or 0x2000 <= cp <= 0x200D
        or 0x2010 <= cp <= 0x201F
        or 0x2032 <= cp <= 0x2037
    ):
        return 1
    return 2


def weighted_length(text: str) -> int:
    """Length as X counts it (twitter-text v3): CJK, kana, Hangul and emoji weigh 2,
    a URL weighs 23, text is NFC-normalised first."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for m in _URL_RE.finditer(text):
        total += sum(_char_weight(ord(c)) for c in text[pos : m.start()])
        total += _URL_WEIGHT
        pos = m.end()
    total += sum(_char_weight(ord(c)) for c in text[pos:])
    return total


def has_url(text: str) -> bool:
    """Whether X would see a link in ``text`` (X prices such a post higher)."""
    return _URL_RE.search(text) is not None


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def measure(text: str, unit: LengthUnit) -> int:
    if unit is LengthUnit.UTF16:
        return utf16_length(text)
    if unit is LengthUnit.WEIGHTED:
        return weighted_length(text)
    return utf16_length(text)
