"""Masking: field operators chosen by policy obligations, and free-text PII.

Importing this package sets ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS`` to empty before
anything can import tldextract (Presidio's e-mail recognizer does): tldextract then
uses its bundled public-suffix snapshot instead of fetching one, so masking never
touches the network (a dropped-packet network would otherwise hang it).
"""

from __future__ import annotations

import os

os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

from hub.masking.context import MaskingContext
from hub.masking.errors import MaskingError
from hub.masking.obligation import (
    FREE_TEXT_OPERATOR,
    apply_obligation,
    mask_or_withhold,
    operator_names,
)
from hub.masking.result import MaskResult, Value

__all__ = [
    "FREE_TEXT_OPERATOR",
    "MaskResult",
    "MaskingContext",
    "MaskingError",
    "Value",
    "apply_obligation",
    "mask_or_withhold",
    "operator_names",
]
