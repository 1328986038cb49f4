"""The outcome of applying one masking obligation to one value."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

#: Python types a field value can take (mirrors ``pingan.v1.FieldValue``); ``None`` is absent.
Value = str | int | bool | bytes | _dt.date | None


@dataclass(frozen=True, slots=True)
class MaskResult:
    """A masked value, or a withheld field with the reason.

    ``withheld`` is True when the value must not be shown at all (unknown operator,
    bad parameters, free-text analysis failure); ``value`` is then ``None`` and
    ``reason`` says why, without quoting the original value.
    """

    value: Value
    operator: str
    withheld: bool = False
    reason: str = ""

    @classmethod
    def withhold(cls, operator: str, reason: str) -> MaskResult:
        return cls(value=None, operator=operator, withheld=True, reason=reason)
