"""The noise model: how department records deviate from the true person.

Real department systems hold missing and mistyped ID numbers, legacy 15-digit IDs,
traditional characters, their own (and sometimes someone else's) date formats, older
phones and addresses, full-width digits and stray whitespace. Every deviation is drawn
from the department's seeded RNG and counted, so the manifest reports what was injected.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from opencc import OpenCC

from adapters.synth import idnumber, names
from adapters.synth.population import Person

_S2T = OpenCC("s2t")
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

# Date formats met in department systems, keyed by a short name.
DATE_FORMATS: tuple[str, ...] = ("iso", "slash", "compact", "chinese", "dot")


def format_date(d: dt.date, fmt: str) -> str:
    """Render ``d`` as 1990-03-07 | 1990/3/7 | 19900307 | 1990年3月7日 | 1990.03.07."""
    if fmt == "iso":
        return d.isoformat()
    if fmt == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if fmt == "compact":
        return f"{d:%Y%m%d}"
    if fmt == "chinese":
        return f"{d.year}年{d.month}月{d.day}日"
    if fmt == "dot":
        return f"{d:%Y.%m.%d}"
    raise ValueError(f"unknown date format {fmt!r}")


def timestamp(d: dt.datetime) -> str:
    """Update times are ISO 'YYYY-MM-DD HH:MM:SS' everywhere (they drive watermarks)."""
    return d.strftime("%Y-%m-%d %H:%M:%S")


def traditional(text: str) -> str:
    return _S2T.convert(text)


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


@dataclass(frozen=True, slots=True)
class NoiseRates:
    """Per-record probabilities of each deviation (a department may scale them)."""

    id_missing: float = 0.02
    id_mistyped: float = 0.01
    id_transposed: float = 0.005
    id_legacy15: float = 0.05  # of persons born before 1985, in departments with old records
    fullwidth: float = 0.01
    whitespace: float = 0.01
    traditional: float = 0.02
    name_typo: float = 0.01
    other_date_format: float = 0.12
    old_phone: float = 0.5  # of persons who changed phone
    phone_missing: float = 0.03
    old_address: float = 0.5  # of persons who moved


@dataclass(slots=True)
class Noise:
    """Applies :class:`NoiseRates` with one department's RNG and counts what it did."""

    rng: random.Random
    rates: NoiseRates = NoiseRates()
    counts: Counter[str] = field(default_factory=Counter)

    def _hit(self, rate: float, kind: str) -> bool:
        if self.rng.random() < rate:
            self.counts[kind] += 1
            return True
        return False

    def _spacing(self, text: str) -> str:
        if self._hit(self.rates.whitespace, "whitespace"):
            i = self.rng.randrange(1, len(text)) if len(text) > 1 else 0
            return self.rng.choice((f" {text}", f"{text} ", text[:i] + " " + text[i:]))
        return text

    def id_number(self, p: Person, legacy: bool = False) -> str | None:
        """The ID number as this department holds it (None when missing)."""
        r = self.rates
        if self._hit(r.id_missing, "id_missing"):
            return None
        value = p.id_number
        if legacy and p.birth.year < 1985 and self._hit(r.id_legacy15, "id_legacy15"):
            value = idnumber.to_legacy15(value)
        elif self._hit(r.id_mistyped, "id_mistyped"):
            value = idnumber.mistype_digit(value, self.rng)
        elif self._hit(r.id_transposed, "id_transposed"):
            value = idnumber.transpose_digits(value, self.rng)
        if value[-1] == "X" and self.rng.random() < 0.3:
            value = value[:-1] + "x"
        if self._hit(r.fullwidth, "fullwidth"):
            value = fullwidth(value)
        return self._spacing(value)

    def name(self, p: Person) -> str:
        value = p.name
        if self._hit(self.rates.name_typo, "name_typo"):
            value = names.homophone_typo(value, self.rng)
        if self._hit(self.rates.traditional, "traditional"):
            value = traditional(value)
        return self._spacing(value)

    def text(self, value: str) -> str:
        """Free-typed text such as an address: traditional characters or full-width digits."""
        if self._hit(self.rates.traditional, "traditional"):
            value = traditional(value)
        if self._hit(self.rates.fullwidth, "fullwidth"):
            value = fullwidth(value)
        return value

    def residence(self, p: Person) -> str:
        """Current residence, or the outdated one for some who moved."""
        if p.previous_address and self._hit(self.rates.old_address, "old_address"):
            return self.text(p.previous_address)
        return self.text(p.residence_address)

    def phone(self, p: Person) -> str | None:
        if p.phone is None or self._hit(self.rates.phone_missing, "phone_missing"):
            return p.landline
        value = p.phone
        if p.old_phone and self._hit(self.rates.old_phone, "old_phone"):
            value = p.old_phone
        if self._hit(self.rates.fullwidth, "fullwidth"):
            value = fullwidth(value)
        return self._spacing(value)

    def date(self, d: dt.date, primary: str) -> str:
        """The department's own format, sometimes another one (legacy imports, manual entry)."""
        if self._hit(self.rates.other_date_format, "other_date_format"):
            return format_date(d, self.rng.choice([f for f in DATE_FORMATS if f != primary]))
        return format_date(d, primary)

    def sex(self, p: Person, codes: tuple[str, str]) -> str:
        """(male code, female code) in the department's convention."""
        return codes[0] if p.male else codes[1]
