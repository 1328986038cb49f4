"""Calendar dates in the formats departments write them.

Accepted: ``1990-03-07``, ``1990/3/7``, ``19900307``, ``1990年3月7日``, ``1990.03.07``,
with full-width digits and separators (folded by NFKC, Unicode UAX #15). Anything
else, or an impossible date, is ``None``: a bad date is never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MIN_YEAR = 1850
MAX_YEAR = 2100

_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(text: str) -> dt.date | None:
    """Parse one of the departments' date formats; ``None`` when empty, malformed or impossible."""
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded:
        return None
    match = _SEPARATED.match(folded) or _COMPACT.match(folded)
    if match is None:
        # An ISO timestamp ("1990-03-07T00:00:00") carries the date in front.
        head = folded.split("T", 1)[0].split(" ", 1)[0]
        if head == folded:
            return None
        return parse_date(head)
    year, month, day = (int(part) for part in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
