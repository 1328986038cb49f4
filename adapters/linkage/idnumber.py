"""Resident identity numbers per GB 11643-1999.

An 18-character number is 6 digits of area code, 8 of birth date (YYYYMMDD),
3 of sequence (odd for men, even for women) and a check character computed with
ISO 7064 MOD 11-2 over the first 17 digits (weights 2^(17-i) mod 11; the
remainder indexes "10X98765432", written here in lower case). Legacy 15-digit
numbers (GB 11643-1989) have a 2-digit year and no check character; they are
upgraded by inserting "19" before the year and computing the check character.

A number that fails validation is kept as a *suspect* value: usable for fuzzy
comparison (a typo of a valid number) but never as an exact linkage key.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK = "10x98765432"
_STRIP = re.compile(r"[\s\-_.·]")
_SHAPE = re.compile(r"^[0-9a-z]{6,20}$")


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A normalised ID number: 18 characters when valid, as typed (folded) when suspect."""

    value: str
    valid: bool
    upgraded: bool = False

    @property
    def birth_date(self) -> dt.date | None:
        """Birth date encoded in a valid number (GB 11643 section 5.2)."""
        return _birth_date(self.value) if self.valid else None

    @property
    def sex(self) -> str | None:
        """"M" or "F" from the sequence code's parity (odd = male); None when not valid."""
        if not self.valid:
            return None
        return "M" if int(self.value[16]) % 2 == 1 else "F"


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of 17 digits (lower-case ``x`` for 10)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("check_character needs exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def _birth_date(number18: str) -> dt.date | None:
    try:
        born = dt.date(int(number18[6:10]), int(number18[10:12]), int(number18[12:14]))
    except ValueError:
        return None
    if born.year < 1850 or born > dt.date.today():
        return None
    return born


def upgrade_15(number15: str) -> str:
    """Upgrade a legacy 15-digit number to 18 characters (insert "19", append the check character)."""
    if len(number15) != 15 or not number15.isdigit():
        raise ValueError("upgrade_15 needs exactly 15 digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def normalize_id_number(text: str | None) -> IdNumber | None:
    """Normalise a typed ID number; ``None`` when empty or not ID-shaped at all."""
    if not text:
        return None
    folded = _STRIP.sub("", unicodedata.normalize("NFKC", text)).lower()
    if not folded or not _SHAPE.match(folded):
        return None
    if len(folded) == 15 and folded.isdigit():
        upgraded = upgrade_15(folded)
        if _birth_date(upgraded) is not None:
            return IdNumber(upgraded, valid=True, upgraded=True)
        return IdNumber(upgraded, valid=False, upgraded=True)
    if len(folded) == 18 and folded[:17].isdigit():
        ok = folded[17] == check_character(folded[:17]) and _birth_date(folded) is not None
        return IdNumber(folded, valid=ok)
    return IdNumber(folded, valid=False)
