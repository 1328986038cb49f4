"""GB 11643-1999 ID numbers made by the generator: check characters, sex parity, mistakes."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from adapters.synth import idnumber

births = st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2026, 6, 30))
regions = st.sampled_from(["440106", "440111", "430521", "110105"])


def test_check_character_of_the_standard_example() -> None:
    # GB 11643-1999 annex example: 11010519491231002X.
    assert idnumber.check_char("11010519491231002") == "X"
    assert idnumber.is_valid("11010519491231002X")
    assert idnumber.is_valid("11010519491231002x")
    assert not idnumber.is_valid("110105194912310021")
    assert not idnumber.is_valid("11010519491231002")


@given(region=regions, birth=births, seq=st.integers(0, 499), male=st.booleans())
def test_made_numbers_are_valid_and_carry_birth_and_sex(region: str, birth: dt.date, seq: int, male: bool) -> None:
    number = idnumber.make(region, birth, seq, male)
    assert len(number) == 18 and idnumber.is_valid(number)
    assert number[:6] == region and number[6:14] == f"{birth:%Y%m%d}"
    assert int(number[16]) % 2 == (1 if male else 0)


@given(region=regions, birth=births, seq=st.integers(0, 499), male=st.booleans(), seed=st.integers(0, 10**6))
def test_mistyped_and_transposed_numbers_fail_the_check(
    region: str, birth: dt.date, seq: int, male: bool, seed: int
) -> None:
    number = idnumber.make(region, birth, seq, male)
    rng = random.Random(seed)
    typo = idnumber.mistype_digit(number, rng)
    swapped = idnumber.transpose_digits(number, rng)
    assert typo != number and not idnumber.is_valid(typo)
    assert swapped != number and not idnumber.is_valid(swapped)


def test_legacy_15_digit_form_drops_century_and_check() -> None:
    number = idnumber.make("440106", dt.date(1968, 5, 4), 123, True)
    legacy = idnumber.to_legacy15(number)
    assert legacy == "440106680504" + number[14:17]
    assert len(legacy) == 15
