"""The masking package's one error type.

A :class:`MaskingError` means "this field cannot be shown safely": the caller
withholds the field (fail closed), it never passes the raw value through.
Messages name the operator and parameter, never the value being masked.
"""

from __future__ import annotations


class MaskingError(Exception):
    """An obligation could not be applied (unknown operator, bad parameter, analysis failure)."""
