"""Name parts and address numbers (scheme pingan-link-v2): splitting rules and their encodings."""

from __future__ import annotations

import pytest

from adapters.linkage.address_parts import address_numbers
from adapters.linkage.encoder import DEFAULT, LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.linkage.name_parts import NameParts, split_name

SECRET = b"p" * 32


@pytest.mark.parametrize(
    ("raw", "surname", "given"),
    [
        ("James Coleman", "coleman", "james"),
        ("Coleman, James", "coleman", "james"),
        ("Mary Ann  Smith", "smith", "maryann"),
        ("John A Smith", "smith", "john"),  # initials are dropped
        ("georg e", "georg", None),  # a mistyped space leaves a fragment
        ("Madonna", "madonna", None),
        ("张伟", "张", "伟"),
        ("張 偉", "张", "伟"),  # traditional folded, space ignored for Han names
        ("欧阳娜娜", "欧阳", "娜娜"),  # compound surname
        ("欧阳", "欧", "阳"),  # too short for a compound surname plus a given name
        ("阿卜杜·热合曼", "热合曼", "阿卜杜"),  # transliterated: split on the middle dot
        ("Ｊａｍｅｓ　Ｃｏｌｅｍａｎ", "coleman", "james"),  # full-width letters and space (NFKC)
    ],
)
def test_split_name(raw: str, surname: str | None, given: str | None) -> None:
    assert split_name(raw) == NameParts(surname, given)


@pytest.mark.parametrize("raw", [None, "", "   ", "·"])
def test_split_name_of_nothing(raw: str | None) -> None:
    assert split_name(raw) == NameParts(None, None)


@pytest.mark.parametrize(
    ("raw", "numbers"),
    [
        ("浙江省杭州市西湖区文三路１２号3幢501室", "12 3 501"),
        ("8 Lethbridge St, Winston Hills 2767", "8 2767"),
        ("flat 07, 0042 main road", "7 42"),
        ("西湖区文三路", None),
        (None, None),
    ],
)
def test_address_numbers(raw: str | None, numbers: str | None) -> None:
    assert address_numbers(raw) == numbers


def _blooms(fields: IdentityFields) -> dict[str, bytes]:
    return {b.field: b.bits for b in LinkageEncoder(SECRET).encode(fields).bloom}


def test_parts_are_encoded_with_the_scheme_parameters() -> None:
    blooms = _blooms(IdentityFields(name="James Coleman", residence_address="8 Lethbridge St 2767"))
    assert {"surname", "given_name", "address_numbers"} <= set(blooms)
    assert all(len(bits) == DEFAULT.bloom_bits // 8 for bits in blooms.values())
    hashes = {f.field: f.hashes for f in LinkageEncoder(SECRET).scheme().field_hashes}
    assert (hashes["surname"], hashes["given_name"], hashes["address_numbers"]) == (10, 10, 8)


def test_surname_and_given_name_share_a_key_so_swaps_compare() -> None:
    a = _blooms(IdentityFields(name="James Coleman"))
    b = _blooms(IdentityFields(name="Coleman James"))
    assert a["surname"] == b["given_name"] and a["given_name"] == b["surname"]
    assert a["name"] != b["name"]


def test_name_parts_fold_spellings_like_the_whole_name() -> None:
    assert _blooms(IdentityFields(name="張偉"))["surname"] == _blooms(IdentityFields(name="张 伟"))["surname"]


def test_numbers_come_from_the_residence_only() -> None:
    assert "address_numbers" not in _blooms(IdentityFields(registered_address="文三路12号"))
    assert "address_numbers" in _blooms(IdentityFields(residence_address="文三路12号"))


def test_part_filters_use_their_own_keys() -> None:
    enc = LinkageEncoder(SECRET)
    assert len({enc.bloom(f, "12") for f in ("surname", "address_numbers", "other_id", "name")}) == 4
    assert enc.bloom("surname", "12") == enc.bloom("given_name", "12")
