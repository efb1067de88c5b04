"""Korean particles that depend on the word before them.

A Korean particle has two forms, chosen by whether the word before it ends in a
final consonant (받침): 을/를, 이/가, 은/는, 과/와, 으로/로. A catalog writes both, the
way Korean translators do, right after the placeholder: ``{start}(을)를``,
``{name}(이)가``, ``{place}(으)로``; :func:`attach_particles` picks the form for the
value that fills the placeholder, so the reader sees ``시작을`` or ``/help를``, never
``(을)를``.

Hangul syllables are exact. Other words are judged by how Korean reads them:
digits by their Sino-Korean names (3 삼, 2 이), Latin words by their last letters
(``stop`` 스톱 ends in ㅂ, ``start`` 스타트 does not), acronyms by the letter names
(``M`` 엠, ``T`` 티).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# the catalog's marks: {name}(을)를, (이)가, (은)는, (과)와, (으)로
_MARK = re.compile(r"\{(\w+)\}\((을|이|은|과|으)\)(를|가|는|와|로)")

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # index of ㄹ among the final consonants
_DIGITS = {"0": "영", "1": "일", "2": "이", "3": "삼", "4": "사", "5": "오", "6": "육",
           "7": "칠", "8": "팔", "9": "구"}
# Letter names (엘, 엠, 엔, 알 end in a consonant; 에이, 비, 씨 ... do not).
_LETTER_NAMES = {"L": "엘", "M": "엠", "N": "엔", "R": "알"}
_VOWELS = set("aeiouy")


def _final(syllable: str) -> int | None:
    """Index of the final consonant of a Hangul syllable (0: none), None if not Hangul."""
    code = ord(syllable)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        return (code - _HANGUL_FIRST) % 28
    return None


def _latin_final(word: str) -> int:
    """0 (no final consonant), _RIEUL, or another consonant (1), for a Latin word."""
    if word.isupper():  # an acronym is read letter by letter
        name = _LETTER_NAMES.get(word[-1])
        return (_final(name[-1]) or 0) if name else 0
    w = word.lower()
    last, before = w[-1], (w[-2] if len(w) > 1 else "")
    if last == "l":
        return _RIEUL
    if last in "mn" or w.endswith("ng"):
        return 1
    # b, c, g, k, p, t after a vowel close the syllable (web 웹, book 북, stop 스톱);
    # after a consonant they get a vowel of their own (help 헬프, start 스타트).
    if last in "bcgkpt" and before in _VOWELS:
        return 1
    return 0


def final_consonant(text: str) -> int:
    """The final consonant of the last word of ``text`` as Korean reads it: 0 for
    none, 8 for ㄹ, another positive number for the others."""
    for ch in reversed(text.strip()):
        if ch.isdigit() and ch in _DIGITS:
            return _final(_DIGITS[ch]) or 0
        final = _final(ch)
        if final is not None:
            return final
        if ch.isascii() and ch.isalpha():
            word = re.findall(r"[A-Za-z]+", text)[-1]
            return _latin_final(word)
        if ch.isalnum():  # another script: no rule, use the form after a vowel
            return 0
    return 0


def particle(word: str, with_final: str, without_final: str) -> str:
    """The particle that follows ``word``: ``particle("시작", "을", "를") == "을"``."""
    final = final_consonant(word)
    if with_final == "으":  # 로 after a vowel or ㄹ, 으로 after the other consonants
        return "로" if final in (0, _RIEUL) else "으로"
    return with_final if final else without_final


def attach_particles(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}(을)를`` mark resolved for ``values[name]``."""
    def pick(m: re.Match[str]) -> str:
        name, with_final, without_final = m.groups()
        if name not in values:
            return m.group(0)
        return "{" + name + "}" + particle(str(values[name]), with_final, without_final)

    return _MARK.sub(pick, template)
