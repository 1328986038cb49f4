"""Phone numbers: digits only, +86/0086 dropped, mobile vs landline.

Mainland mobile numbers are 11 digits starting 13-19 (MIIT numbering plan);
landlines are an area code starting 0 (3-4 digits with the 0) plus a 7-8 digit
local number. An extension after the main number is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_EXTENSION = re.compile(r"(转|ext\.?|x|#).*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Phone:
    """A normalised phone number: digits only, no country code."""

    value: str
    kind: Literal["mobile", "landline"]


def normalize_phone(text: str | None) -> Phone | None:
    """Normalise a phone number; ``None`` when empty or neither a mobile nor a landline number."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    folded = _EXTENSION.sub("", folded)
    digits = re.sub(r"\D", "", folded)
    if folded.startswith("+86") or digits.startswith("0086"):
        digits = digits[2:] if folded.startswith("+86") else digits[4:]
        if digits and not digits.startswith("0") and not _MOBILE.match(digits):
            digits = "0" + digits  # +86 10 1234 5678 is the landline 010 12345678
    elif len(digits) == 13 and digits.startswith("86") and _MOBILE.match(digits[2:]):
        digits = digits[2:]
    if _MOBILE.match(digits):
        return Phone(digits, "mobile")
    if _LANDLINE.match(digits):
        return Phone(digits, "landline")
    return None
