"""Generation-side GB 11643-1999 citizen ID numbers.

An 18-character number is: 6-digit administrative region code (GB/T 2260),
8-digit birth date YYYYMMDD, 3-digit sequence whose last digit is odd for men and
even for women, and a check character computed with ISO 7064 MOD 11-2.
Legacy 15-digit numbers (before 1999) have a 2-digit year and no check character.

These helpers only *make* numbers (and realistic mistakes); normalising what
departments hold is the adapters' linkage code's job.
"""

from __future__ import annotations

import datetime as dt
import random

# GB 11643-1999 section 7.2: weights W_i = 2^(i-1) mod 11 for positions 18..2.
WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(body17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(body17) != 17 or not body17.isdigit():
        raise ValueError("an ID number body is 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(body17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def is_valid(id18: str) -> bool:
    """True when an 18-character ID number has a correct check character."""
    if len(id18) != 18 or not id18[:17].isdigit():
        return False
    return check_char(id18[:17]) == id18[17].upper()


def make(region: str, birth: dt.date, sequence: int, male: bool) -> str:
    """An 18-digit ID number; ``sequence`` (0-499) is mapped to a sex-correct 3-digit code."""
    seq = (sequence % 500) * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def to_legacy15(id18: str) -> str:
    """The pre-1999 15-digit form: region + YYMMDD + sequence, no check character."""
    return id18[:6] + id18[8:17]


def mistype_digit(id18: str, rng: random.Random) -> str:
    """Change one digit of the body; MOD 11-2 detects every single substitution."""
    pos = rng.randrange(17)
    old = id18[pos]
    new = str((int(old) + rng.randrange(1, 10)) % 10)
    return id18[:pos] + new + id18[pos + 1 :]


def transpose_digits(id18: str, rng: random.Random) -> str:
    """Swap two adjacent, different digits of the body (a typical keying error)."""
    candidates = [i for i in range(16) if id18[i] != id18[i + 1]]
    pos = rng.choice(candidates)
    return id18[:pos] + id18[pos + 1] + id18[pos] + id18[pos + 2 :]
