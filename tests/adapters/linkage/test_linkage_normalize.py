"""Normalisation of raw identifiers (adapter side): GB 11643 IDs, names, dates, phones, addresses."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.linkage.address import normalize_address
from adapters.linkage.dates import parse_date
from adapters.linkage.fields import IdentityFields
from adapters.linkage.idnumber import check_character, normalize_id_number, upgrade_15
from adapters.linkage.names import normalize_name
from adapters.linkage.normalize import normalize_fields, normalize_sex
from adapters.linkage.phone import normalize_phone


@pytest.mark.parametrize(
    "number",
    ["11010519491231002X", "110105194912310021"[:17] + check_character("11010519491231002"), "440524188001010014"],
)
def test_known_valid_id_numbers(number: str) -> None:
    parsed = normalize_id_number(number)
    assert parsed is not None and parsed.valid
    assert parsed.value == number.lower()


def test_check_digit_follows_iso7064_mod_11_2() -> None:
    # GB 11643-1999 annex example: 11010519491231002X.
    assert check_character("11010519491231002") == "x"
    assert check_character("44052418800101001") == "4"


def test_wrong_check_digit_is_suspect_not_valid() -> None:
    parsed = normalize_id_number("110105194912310021")
    assert parsed is not None and not parsed.valid
    assert parsed.value == "110105194912310021"  # kept for fuzzy comparison
    assert parsed.birth_date is None and parsed.sex is None


def test_impossible_birth_date_is_suspect() -> None:
    first17 = "11010519491331002"  # month 13
    assert not normalize_id_number(first17 + check_character(first17)).valid  # type: ignore[union-attr]


def test_fifteen_digit_id_is_upgraded_with_a_computed_check() -> None:
    parsed = normalize_id_number("110105491231002")
    assert parsed is not None and parsed.valid and parsed.upgraded
    assert parsed.value == "11010519491231002x"
    assert upgrade_15("110105491231002") == "11010519491231002x"


def test_id_folding_full_width_upper_x_and_separators() -> None:
    parsed = normalize_id_number("１１０１０５ １９４９ １２３１ ００２Ｘ")
    assert parsed is not None and parsed.valid and parsed.value == "11010519491231002x"


def test_birth_date_and_sex_from_valid_id() -> None:
    parsed = normalize_id_number("11010519491231002X")
    assert parsed is not None
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"  # sequence 002: even


@given(st.integers(min_value=0, max_value=10**17 - 1))
def test_any_single_digit_change_breaks_the_check(body: int) -> None:
    first17 = f"{body:017d}"
    number = first17 + check_character(first17)
    altered = str((int(number[5]) + 1) % 10)
    changed = number[:5] + altered + number[6:]
    assert changed[17] != check_character(changed[:17])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("張偉", "张伟"),
        ("张 伟", "张伟"),
        ("阿卜杜·热合曼", "阿卜杜热合曼"),
        ("阿卜杜・热合曼", "阿卜杜热合曼"),
        ("阿卜杜•热合曼", "阿卜杜热合曼"),
        ("阿卜杜‧热合曼", "阿卜杜热合曼"),
        ("ＪＯＨＮ Smith", "johnsmith"),
        ("歐陽 娜娜", "欧阳娜娜"),
        ("张\u200b伟", "张伟"),  # zero-width space, as pasted from a chat
        ("\ufeff张\u200d伟\u200e", "张伟"),  # byte-order mark, zero-width joiner, LTR mark
        ("\u2067张伟\u2069", "张伟"),  # a right-to-left isolate around the name
        ("Jo\u00adhn Smith", "johnsmith"),  # soft hyphen
        ("\u200b\u200c", None),
        (None, None),
    ],
)
def test_names(raw: str | None, expected: str | None) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    "text", ["1990-03-07", "1990/3/7", "19900307", "1990年3月7日", "1990.03.07", "１９９０年３月７日", "1990-03-07T00:00:00"]
)
def test_department_date_formats(text: str) -> None:
    assert parse_date(text) == dt.date(1990, 3, 7)


@pytest.mark.parametrize("text", ["", "garbage", "1990-02-30", "19901307", "1700-01-01", "90-3-7"])
def test_bad_dates_are_none(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("13800138000", "13800138000", "mobile"),
        ("+86 138-0013-8000", "13800138000", "mobile"),
        ("008613800138000", "13800138000", "mobile"),
        ("86 13800138000", "13800138000", "mobile"),
        ("010-12345678", "01012345678", "landline"),
        ("+86 10 1234 5678", "01012345678", "landline"),
        ("0571-8888 8888转123", "057188888888", "landline"),
        ("１３８００１３８０００", "13800138000", "mobile"),
    ],
)
def test_phones(raw: str, value: str, kind: str) -> None:
    phone = normalize_phone(raw)
    assert phone is not None and (phone.value, phone.kind) == (value, kind)


@pytest.mark.parametrize("raw", ["", "12345", "1380013800", "23800138000"])
def test_bad_phones(raw: str) -> None:
    assert normalize_phone(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["浙江省杭州市西湖区文三路12号", "杭州市西湖区文三路１２号", "西湖区文三路12号", "浙江杭州市西湖区 文三路12号", "浙江省杭州市西湖區文三路12號"],
)
def test_address_variants_normalise_alike(raw: str) -> None:
    assert normalize_address(raw) == "西湖区文三路12号"


def test_address_keeps_city_like_words_inside_the_district() -> None:
    assert normalize_address("西湖区市场街1号") == "西湖区市场街1号"
    assert normalize_address("上海市浦东新区世纪大道1号") == "浦东新区世纪大道1号"


def test_fields_derive_birth_date_and_sex_from_a_valid_id() -> None:
    n = normalize_fields(IdentityFields(name="張三", id_number="110105491231002"))
    assert n.birth_date == dt.date(1949, 12, 31) and n.sex == "F" and n.name == "张三"


def test_fields_keep_a_recorded_birth_date_and_sex_codes() -> None:
    n = normalize_fields(IdentityFields(birth_date="1990年3月7日", sex="男"))
    assert n.birth_date == dt.date(1990, 3, 7) and n.sex == "M"
    assert normalize_sex("2") == "F" and normalize_sex("?") is None
