"""JMA seismic intensity (震度): the one scale every part of the service uses.

Ten classes, weakest first: 0, 1, 2, 3, 4, 5-, 5+, 6-, 6+, 7, where 5- is 5弱
("5 Lower"), 5+ is 5強 ("5 Upper"), and so on. Members compare by their place on
the scale (``Intensity.FIVE_UPPER > Intensity.FIVE_LOWER``), never by their text.

The "0" case, decided once
    震度0 is a class of JMA's scale (shaking recorded by instruments, felt by no
    one) and parses to :attr:`Intensity.ZERO`, the lowest class. It is not "no
    intensity": an intensity that a report does not give is ``None`` wherever it
    is stored, and ``None`` ranks below every class where a minimum is checked
    (so policy's ``min_intensity = "0"`` matches any reported intensity, and no
    minimum matches an earthquake without one).

Parsing (:meth:`Intensity.parse`) accepts JMA's Body codes ("4", "5-", "6+"),
the Japanese display forms ("震度５弱", "6強", full-width digits), the English
ones ("5 Lower", "6 upper") and the integers 0-4 and 7. Anything else, including
a bare 5 or 6 (which half?), raises :class:`~bot.errors.ValidationError`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable

from bot.errors import ValidationError

_WIDTH = str.maketrans("０１２３４５６７８９＋－−", "0123456789+--")
_WORDS = {"弱": "-", "強": "+", "lower": "-", "upper": "+"}


@functools.total_ordering
class Intensity(enum.Enum):
    """A class of JMA's seismic intensity scale; the value is JMA's code."""

    ZERO = "0"
    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"
    FIVE_LOWER = "5-"
    FIVE_UPPER = "5+"
    SIX_LOWER = "6-"
    SIX_UPPER = "6+"
    SEVEN = "7"

    @property
    def code(self) -> str:
        """JMA's Body form ("5-"), also the suffix of the catalog key ``intensity.5-``."""
        return str(self.value)

    @property
    def rank(self) -> int:
        """Place on the scale: 0 for 震度0 ... 9 for 震度7."""
        return _RANK[self]

    @property
    def ja(self) -> str:
        """Japanese display form: 震度5弱, 震度7."""
        return "震度" + self.code.replace("-", "弱").replace("+", "強")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Intensity):
            return NotImplemented
        return self.rank < other.rank

    def __str__(self) -> str:
        return self.code

    @classmethod
    def parse(cls, value: str | int | Intensity) -> Intensity:
        """The class ``value`` names; ValidationError when it names none."""
        if isinstance(value, Intensity):
            return value
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError(f"seismic intensity must be a JMA code such as '5-', "
                                  f"got {type(value).__name__} {value!r}")
        found = _BY_CODE.get(_normalise(str(value)))
        if found is not None:
            return found
        if _normalise(str(value)) in ("5", "6"):
            raise ValidationError(f"seismic intensity {value!r} is ambiguous: say {value}- "
                                  f"({value}弱, {value} Lower) or {value}+ ({value}強, "
                                  f"{value} Upper)")
        raise ValidationError(f"unknown seismic intensity {value!r}; JMA's classes are "
                              f"{', '.join(CODES)} (5弱/5強/6弱/6強 are accepted too)")

    @classmethod
    def find(cls, text: str) -> Intensity | None:
        """The class a short JMA name gives ("震度５弱", "震度５弱以上未入電"), or None."""
        try:
            return cls.parse(text)
        except ValidationError:
            pass
        v = text.translate(_WIDTH)
        for code in ("5弱", "5強", "6弱", "6強"):
            if code in v:
                return cls.parse(code)
        return None

    @classmethod
    def highest(cls, values: Iterable[Intensity | None]) -> Intensity | None:
        """The strongest of ``values`` (None when there is none)."""
        return max((v for v in values if v is not None), default=None)


def _normalise(value: str) -> str:
    v = value.strip().translate(_WIDTH).replace("震度", "").casefold()
    for word, sign in _WORDS.items():
        v = v.replace(word, sign)
    return "".join(v.split()).replace("-" * 2, "-")


_RANK = {member: i for i, member in enumerate(Intensity)}
_BY_CODE = {member.code: member for member in Intensity}
CODES: tuple[str, ...] = tuple(_BY_CODE)
