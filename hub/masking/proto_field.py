"""Mask a ``pingan.v1.Field`` in place, for the profile service.

The value is read from the ``FieldValue`` oneof, masked by the obligation and
written back in the oneof member that fits the result's Python type (an
``age_band`` of a date becomes a string, ``year_only`` an integer). The field's
``masking_operator`` names the operator; on any masking error (unknown operator,
bad parameters, free-text analysis failure) the value is cleared and
``withheld`` set: fail closed.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

from hub.masking.context import MaskingContext
from hub.masking.obligation import mask_or_withhold
from hub.masking.result import MaskResult, Value
from pingan.v1 import common_pb2


def value_from_proto(value: common_pb2.FieldValue) -> Value:
    """The Python value of a ``FieldValue`` (``None`` when no member is set)."""
    kind = value.WhichOneof("kind")
    if kind is None:
        return None
    if kind == "date_value":
        d = value.date_value
        return _dt.date(d.year, d.month, d.day)
    return getattr(value, kind)


def value_to_proto(value: Value, out: common_pb2.FieldValue) -> None:
    """Write a Python value into ``out`` (cleared first; ``None`` leaves it unset)."""
    out.Clear()
    if value is None:
        return
    if isinstance(value, bool):
        out.boolean_value = value
    elif isinstance(value, int):
        out.integer_value = value
    elif isinstance(value, _dt.date):
        out.date_value.year, out.date_value.month, out.date_value.day = value.year, value.month, value.day
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, str):
        out.string_value = value
    else:
        raise TypeError(f"cannot store a {type(value).__name__} in a FieldValue")


def mask_field(
    field: common_pb2.Field, obligation: Mapping[str, object], *, context: MaskingContext
) -> MaskResult:
    """Apply ``obligation`` to ``field`` in place; returns what was done (withheld or masked)."""
    try:
        original = value_from_proto(field.value)
    except ValueError:  # an impossible date (2023-02-30) cannot be masked safely
        result = MaskResult.withhold(str(obligation.get("operator", "")), "stored date is not a valid date")
    else:
        result = mask_or_withhold(original, obligation, context=context)
    if result.withheld:
        field.ClearField("value")
        field.withheld = True
    else:
        value_to_proto(result.value, field.value)
    field.masking_operator = result.operator
    return result
