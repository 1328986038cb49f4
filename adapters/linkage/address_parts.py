"""The numbers of an address, compared on their own (scheme ``pingan-link-v2``).

Splink-style linkage compares postcode and house number apart from the rest of
the address (Christen, *Data Matching* 2012, sec. 5.2): a typo, a swapped line
or an extra line (a farm or building name) in the text then leaves the numbers'
evidence intact, and two addresses on the same street with other numbers no
longer look alike. The digit runs of the address, in order (house number,
building, room, postcode), NFKC-folded so full-width digits count, leading
zeros dropped, are joined by a space: ``文三路１２号3幢501室`` -> ``12 3 501``;
``8 Lethbridge St, Winston Hills 2767`` -> ``8 2767``.

A street and a locality part were tried as well and left out: compared beside
the whole-address filter they count the same evidence twice (FEBRL3 gained
wrong pairs), and used for blocking only they linked nothing more (docs/linkage.md).
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = re.compile(r"\d+")


def address_numbers(text: str | None) -> str | None:
    """Digit runs of ``text`` (NFKC-folded) in order, space-separated; ``None`` when there are none."""
    if not text:
        return None
    runs = _DIGITS.findall(unicodedata.normalize("NFKC", text))
    return " ".join(str(int(r)) for r in runs) or None
