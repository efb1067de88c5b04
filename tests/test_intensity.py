"""The one seismic intensity scale: order, parsing from JMA codes and display forms,
the "0" case, and clear errors for anything that is not a class."""

from __future__ import annotations

import pytest

from bot.domain import Intensity
from bot.domain.intensity import CODES
from bot.errors import ValidationError

JMA_ORDER = ("0", "1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")


def test_the_scale_is_jmas_ten_classes_weakest_first() -> None:
    assert CODES == JMA_ORDER
    assert [i.code for i in Intensity] == list(JMA_ORDER)
    assert [i.rank for i in Intensity] == list(range(10))
    assert sorted(Intensity, reverse=True)[0] is Intensity.SEVEN


@pytest.mark.parametrize(("weaker", "stronger"), [
    ("0", "1"), ("4", "5-"), ("5-", "5+"), ("5+", "6-"), ("6-", "6+"), ("6+", "7"),
])
def test_order_is_the_scale_not_the_text(weaker: str, stronger: str) -> None:
    a, b = Intensity.parse(weaker), Intensity.parse(stronger)
    assert a < b and b > a and a <= b and b >= a and a != b
    assert max(a, b) is b


def test_5_upper_is_above_5_lower_although_plus_sorts_before_minus_as_text() -> None:
    assert "5+" < "5-"  # why the members are not strings
    assert Intensity.FIVE_UPPER > Intensity.FIVE_LOWER


def test_comparing_with_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        assert Intensity.FOUR < "5-"  # type: ignore[operator]
    assert Intensity.FOUR != "4"


@pytest.mark.parametrize(("text", "expected"), [
    ("0", Intensity.ZERO), ("1", Intensity.ONE), ("4", Intensity.FOUR), ("4 ", Intensity.FOUR),
    ("5-", Intensity.FIVE_LOWER), ("5+", Intensity.FIVE_UPPER), ("6-", Intensity.SIX_LOWER),
    ("6+", Intensity.SIX_UPPER), ("7", Intensity.SEVEN),
    ("5弱", Intensity.FIVE_LOWER), ("5強", Intensity.FIVE_UPPER), ("6弱", Intensity.SIX_LOWER),
    ("震度６強", Intensity.SIX_UPPER), ("震度５弱", Intensity.FIVE_LOWER),
    ("震度７", Intensity.SEVEN),
    ("震度0", Intensity.ZERO), ("震度０", Intensity.ZERO), ("５＋", Intensity.FIVE_UPPER),
    ("5 Lower", Intensity.FIVE_LOWER), ("6 upper", Intensity.SIX_UPPER),
    (0, Intensity.ZERO), (3, Intensity.THREE), (7, Intensity.SEVEN),
    (Intensity.FOUR, Intensity.FOUR),
])
def test_parse_codes_and_display_forms(text: str | int | Intensity, expected: Intensity) -> None:
    assert Intensity.parse(text) is expected


def test_zero_is_a_class_below_one_and_not_the_same_as_none() -> None:
    zero = Intensity.parse("0")
    assert zero is Intensity.ZERO and zero.rank == 0 and zero < Intensity.ONE
    assert zero.ja == "震度0" and str(zero) == "0"
    assert Intensity.highest([None, zero]) is zero
    assert Intensity.highest([None, None]) is None
    assert Intensity.highest([]) is None


@pytest.mark.parametrize("bad", ["8", "-1", "", "5-+", "weak", "震度", "5.5", "1-", "7+", 8, -1])
def test_unknown_codes_are_a_clear_validation_error(bad: str | int) -> None:
    with pytest.raises(ValidationError, match=r"unknown seismic intensity .*0, 1, 2, 3, 4, "
                                              r"5-, 5\+, 6-, 6\+, 7"):
        Intensity.parse(bad)


@pytest.mark.parametrize("half", ["5", "6", "５", 5, 6])
def test_a_bare_5_or_6_is_ambiguous(half: str | int) -> None:
    with pytest.raises(ValidationError, match="ambiguous"):
        Intensity.parse(half)


@pytest.mark.parametrize("wrong", [None, 4.0, True, ["5-"]])
def test_values_of_other_types_are_refused(wrong: object) -> None:
    with pytest.raises(ValidationError, match="must be a JMA code"):
        Intensity.parse(wrong)  # type: ignore[arg-type]


def test_display_forms_and_highest() -> None:
    assert Intensity.FIVE_LOWER.ja == "震度5弱" and Intensity.SIX_UPPER.ja == "震度6強"
    assert Intensity.highest([Intensity.FIVE_UPPER, None, Intensity.FIVE_LOWER]) \
        is Intensity.FIVE_UPPER


def test_find_reads_jma_names_leniently() -> None:
    assert Intensity.find("震度５弱以上未入電") is Intensity.FIVE_LOWER
    assert Intensity.find("震度４") is Intensity.FOUR
    assert Intensity.find("震度速報") is None
    assert Intensity.find("") is None
