"""Resident identity numbers (GB 11643-1999): the ISO 7064 MOD 11-2 check digit."""

from __future__ import annotations

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """The 18th character of an ID whose first 17 digits are ``first17`` (GB 11643 section 6)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def is_valid_id18(text: str) -> bool:
    """True when ``text`` is 18 characters whose last one is the correct check digit."""
    if len(text) != 18 or not text[:17].isascii() or not text[:17].isdigit():
        return False
    return check_digit(text[:17]) == text[17].upper()


def luhn_valid(digits: str) -> bool:
    """ISO/IEC 7812 Luhn check, used for bank card numbers."""
    if not digits.isascii() or not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
