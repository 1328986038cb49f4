"""Normalisation of one record's identifiers, the input of encoding.

Composes the per-concept normalisers (``idnumber``, ``names``, ``name_parts``,
``dates``, ``phone``, ``address``, ``address_parts``) and derives birth date
and sex from a valid ID number (GB 11643-1999 section 5) when the record lacks
them. ``parse_date`` is
re-exported here because adapters parse department dates with it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from adapters.linkage.address import normalize_address
from adapters.linkage.address_parts import address_numbers
from adapters.linkage.dates import parse_date
from adapters.linkage.fields import IdentityFields
from adapters.linkage.idnumber import IdNumber, normalize_id_number
from adapters.linkage.name_parts import split_name
from adapters.linkage.names import normalize_name
from adapters.linkage.phone import Phone, normalize_phone

__all__ = ["NormalizedIdentity", "normalize_code", "normalize_fields", "normalize_sex", "parse_date"]

_SEX = {
    "m": "M", "male": "M", "男": "M", "1": "M",
    "f": "F", "female": "F", "女": "F", "2": "F",
}


@dataclass(frozen=True, slots=True)
class NormalizedIdentity:
    """Normalised identifiers of one record (never leaves the adapter)."""

    name: str | None
    id_number: IdNumber | None
    other_id: str | None
    birth_date: dt.date | None
    sex: str | None
    phone: Phone | None
    registered_address: str | None
    residence_address: str | None
    household_number: str | None
    surname: str | None = None
    given_name: str | None = None
    address_numbers: str | None = None


def normalize_sex(text: str | None) -> str | None:
    """"M", "F" or ``None`` (GB/T 2261.1 codes 1/2, 男/女, M/F)."""
    if not text:
        return None
    return _SEX.get(unicodedata.normalize("NFKC", text).strip().lower())


def normalize_code(text: str | None) -> str | None:
    """A free-form identifier code (household number, social security number): NFKC, alphanumerics, lower case."""
    if not text:
        return None
    folded = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).lower()
    return folded or None


def normalize_fields(fields: IdentityFields) -> NormalizedIdentity:
    """Normalise every identifier of ``fields``; unusable values become ``None``."""
    id_number = normalize_id_number(fields.id_number)
    birth = parse_date(fields.birth_date) if fields.birth_date else None
    if birth is None and id_number is not None:
        birth = id_number.birth_date
    sex = id_number.sex if id_number is not None and id_number.valid else None
    if sex is None:
        sex = normalize_sex(fields.sex)
    parts = split_name(fields.name)
    return NormalizedIdentity(
        name=normalize_name(fields.name),
        id_number=id_number,
        other_id=normalize_code(fields.other_id),
        birth_date=birth,
        sex=sex,
        phone=normalize_phone(fields.phone),
        registered_address=normalize_address(fields.registered_address),
        residence_address=normalize_address(fields.residence_address),
        household_number=normalize_code(fields.household_number),
        surname=parts.surname,
        given_name=parts.given,
        # Of the actual residence (where persons are found); the registered address keeps its
        # whole-address filter only.
        address_numbers=address_numbers(fields.residence_address),
    )
