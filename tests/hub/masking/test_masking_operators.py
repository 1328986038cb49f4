"""Field operators: each one's documented behaviour, parameters and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.masking import MaskingContext, MaskingError, apply_obligation, mask_or_withhold, operator_names
from hub.masking.operators import (
    address_to_community,
    age_band,
    id_number,
    keep_first_n,
    keep_last_n,
    keyed_pseudonym,
    name_surname_only,
    null,
    phone,
    redact,
    year_only,
)

CTX = MaskingContext(pseudonym_key=b"k" * 32, reference_date=dt.date(2026, 6, 1))


def test_operator_names_are_the_designed_ones() -> None:
    assert set(operator_names()) == {
        "redact",
        "null",
        "keep_first_n",
        "keep_last_n",
        "name_surname_only",
        "id_number",
        "phone",
        "year_only",
        "age_band",
        "address_to_community",
        "keyed_pseudonym",
        "pii_free_text",
    }


def test_redact_and_null() -> None:
    assert redact("张三", CTX) == "***"
    assert redact(42, CTX, replacement="[已屏蔽]") == "[已屏蔽]"
    assert redact(None, CTX) is None
    assert null("张三", CTX) is None


def test_keep_first_and_last_n() -> None:
    assert keep_first_n("ABCDEF", CTX, n=2) == "AB****"
    assert keep_last_n("ABCDEF", CTX, n=2) == "****EF"
    assert keep_last_n("ABCDEF", CTX, n=0) == "******"
    assert keep_first_n("AB", CTX, n=5) == "A*"
    assert keep_first_n("ABCD", CTX, n=1, mask_char="#") == "A###"


# (value, n, keep_first_n, keep_last_n): never more than half the characters are kept, so
# short values (the "contact" default n=4 on a person's name) are still masked.
SHORT_AND_LONG = [
    ("王芳", 4, "王*", "*芳"),
    ("欧阳建国", 4, "欧阳**", "**建国"),
    ("王建国", 4, "王**", "**国"),
    ("张", 4, "*", "*"),
    ("张", 1, "*", "*"),
    ("ABCDEFGH", 4, "ABCD****", "****EFGH"),  # exactly 2n characters: n kept
    ("ABCDEFG", 4, "ABC****", "****EFG"),  # 2n - 1 characters: n - 1 kept
    ("13812345678", 4, "1381*******", "*******5678"),  # an 11-digit phone still keeps 4
    ("+86 138 1234 5678", 4, "+86 " + "*" * 13, "*" * 13 + "5678"),
]


@pytest.mark.parametrize(("value", "n", "first", "last"), SHORT_AND_LONG)
def test_keep_n_never_shows_more_than_half(value: str, n: int, first: str, last: str) -> None:
    assert keep_first_n(value, CTX, n=n) == first
    assert keep_last_n(value, CTX, n=n) == last
    assert first != value and last != value


@pytest.mark.parametrize("value", ["王芳", "欧阳建国", "张", "李四"])
def test_contact_default_obligation_masks_a_short_name(value: str) -> None:
    # The default policy's "contact" category operator; guardian_name once went through it whole.
    masked = apply_obligation(value, {"operator": "keep_last_n", "n": 4}, context=CTX).value
    assert masked != value and masked.count("*") >= (len(value) + 1) // 2


@given(st.text(max_size=40), st.integers(min_value=0, max_value=50))
def test_keep_n_preserves_length_and_shows_at_most_half(text: str, n: int) -> None:
    first = keep_first_n(text, CTX, n=n)
    last = keep_last_n(text, CTX, n=n)
    kept = min(n, len(text) // 2)
    assert len(first) == len(last) == len(text)
    assert first == text[:kept] + "*" * (len(text) - kept)
    assert last == "*" * (len(text) - kept) + text[len(text) - kept :]
    # Never the value as it was, unless the part masked already held only mask characters.
    if set(text[kept:]) - {"*"}:
        assert first != text
    if set(text[: len(text) - kept]) - {"*"}:
        assert last != text


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("張三豐", "張**"),
        ("欧阳建国", "欧阳**"),
        ("歐陽建國", "歐陽**"),
        ("诸葛亮", "诸葛*"),
        ("司馬光", "司馬*"),
        ("上官婉儿", "上官**"),
        ("东方红", "东方*"),
        ("欧阳", "欧*"),  # a two-character name whose first character is 欧: surname 欧, given 阳
        ("王", "王"),
    ],
)
def test_name_surname_only_knows_compound_surnames(name: str, masked: str) -> None:
    assert name_surname_only(name, CTX) == masked


def test_id_number_default_and_parameters() -> None:
    assert id_number("440106198001011234", CTX) == "4***************34"
    assert id_number("440106198001011234", CTX, first=6, last=0) == "440106************"
    assert id_number("44010680010123X", CTX, first=1, last=1) == "4*************X"
    with pytest.raises(MaskingError, match="half"):
        id_number("440106198001011234", CTX, first=6, last=4)
    with pytest.raises(MaskingError, match="first"):
        id_number("440106198001011234", CTX, first=-1)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("020-87654321", "020-****4321"),
        ("(0755)2345678", "0755-***5678"),
        ("02087654321", "020-****4321"),
        ("12345", "****5"),
    ],
)
def test_phone(raw: str, masked: str) -> None:
    assert phone(raw, CTX) == masked


def test_phone_unknown_format_still_masks_most_digits() -> None:
    out = phone("95588 转 1 2 3", CTX)
    assert sum(ch.isdigit() for ch in out) <= 2


def test_year_only() -> None:
    assert year_only(dt.date(1980, 5, 6), CTX) == 1980
    assert year_only("1980-05-06", CTX) == 1980
    with pytest.raises(MaskingError, match="ISO date"):
        year_only("1980年", CTX)
    with pytest.raises(MaskingError, match="expects a date"):
        year_only(1980, CTX)


def test_age_band() -> None:
    assert age_band(dt.date(1990, 6, 2), CTX) == "30-39"  # 35 on 2026-06-01 (birthday tomorrow)
    assert age_band(dt.date(1986, 6, 1), CTX) == "40-49"  # 40 today
    assert age_band(dt.date(1986, 6, 1), CTX, width=5) == "40-44"
    assert age_band(37, CTX) == "30-39"
    assert age_band("2010-01-01", CTX, reference_date="2020-01-01") == "10-19"
    with pytest.raises(MaskingError, match="after the reference"):
        age_band(dt.date(2030, 1, 1), CTX)
    with pytest.raises(MaskingError, match="width"):
        age_band(30, CTX, width=0)
    with pytest.raises(MaskingError, match="reference_date"):
        age_band(30, CTX, reference_date="yesterday")


@pytest.mark.parametrize(
    ("raw", "cut"),
    [
        ("TH/S03/C07/G05", "TH/S03/C07"),
        ("TH/S03", "TH/S03"),
        ("广州市天河区石牌街道华师社区18号", "广州市天河区石牌街道华师社区"),
        ("廣州市天河區石牌街道華師社區18號3棟", "廣州市天河區石牌街道華師社區"),
        ("佛山市南海区大沥镇东风村3组12号", "佛山市南海区大沥镇东风村"),
        ("天河区石牌街道五山路12号", "天河区石牌街道"),  # no community: the street, coarser
        ("天河区五山路12号", "天河区"),
    ],
)
def test_address_to_community(raw: str, cut: str) -> None:
    assert address_to_community(raw, CTX) == cut


def test_address_to_community_refuses_what_it_cannot_cut() -> None:
    with pytest.raises(MaskingError, match="no community"):
        address_to_community("五山路12号", CTX)


def test_keyed_pseudonym_is_stable_per_key_and_value() -> None:
    a = keyed_pseudonym("440106198001011234", CTX)
    assert a == keyed_pseudonym("440106198001011234", CTX)
    assert a.startswith("psn_") and len(a) == 4 + 16
    assert a != keyed_pseudonym("440106198001011235", CTX)
    other = MaskingContext(pseudonym_key=b"j" * 32)
    assert a != keyed_pseudonym("440106198001011234", other)
    assert a != keyed_pseudonym("440106198001011234", CTX, domain="health")
    assert keyed_pseudonym(7, CTX) != keyed_pseudonym("7", CTX)  # typed, not stringified


def test_keyed_pseudonym_without_key_fails_closed() -> None:
    with pytest.raises(MaskingError, match="no pseudonym key"):
        keyed_pseudonym("x", MaskingContext())


def test_none_stays_absent_for_every_operator() -> None:
    for name in operator_names():
        assert apply_obligation(None, {"operator": name}, context=CTX).value is None


def test_unknown_operator_is_an_error_never_a_pass_through() -> None:
    with pytest.raises(MaskingError, match="unknown masking operator 'shuffle'"):
        apply_obligation("13812345678", {"operator": "shuffle"}, context=CTX)
    result = mask_or_withhold("13812345678", {"operator": "shuffle"}, context=CTX)
    assert result.withheld and result.value is None and "shuffle" in result.reason


@pytest.mark.parametrize(
    "obligation",
    [
        {"operator": "keep_first_n", "n": "3"},
        {"operator": "keep_first_n", "count": 3},
        {"operator": "phone", "mask_char": "**"},
        {"operator": "keyed_pseudonym", "length": 4},
        {},
        {"operator": ""},
    ],
)
def test_bad_parameters_withhold(obligation: dict) -> None:
    with pytest.raises(MaskingError):
        apply_obligation("13812345678", obligation, context=CTX)
    assert mask_or_withhold("13812345678", obligation, context=CTX).withheld


def test_errors_never_quote_the_value() -> None:
    secret = "440106198001011234"
    for obligation in (
        {"operator": "year_only"},
        {"operator": "nope"},
        {"operator": "id_number", "first": 9},
    ):
        result = mask_or_withhold(secret, obligation, context=CTX)
        assert result.withheld and secret not in result.reason


def test_wrong_value_type_withholds() -> None:
    assert mask_or_withhold(12345, {"operator": "name_surname_only"}, context=CTX).withheld


def test_parameter_of_wrong_type_is_a_masking_error_without_the_value() -> None:
    secret = "440106198001011234"
    with pytest.raises(MaskingError) as info:
        apply_obligation(secret, {"operator": "redact", "replacement": 5}, context=CTX)
    assert secret not in str(info.value)
    with pytest.raises(MaskingError, match="reference_date"):
        apply_obligation("1990-01-01", {"operator": "age_band", "reference_date": 20200101}, context=CTX)
