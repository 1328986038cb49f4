"""Apply a policy obligation ``{"operator": name, **params}`` to one value.

The policy (Rego) decides which obligation applies to which field; this module
only executes it. Free-text fields use the operator ``pii_free_text`` (Presidio
analysis, :mod:`hub.masking.freetext`). Unknown operators and bad parameters raise
:class:`MaskingError`; :func:`mask_or_withhold` turns that into a withheld result.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping

from hub.masking.context import MaskingContext
from hub.masking.errors import MaskingError
from hub.masking.operators import OPERATORS
from hub.masking.result import MaskResult, Value

#: Operator name for free text (case notes, visit notes): PII found and replaced.
FREE_TEXT_OPERATOR = "pii_free_text"


def operator_names() -> tuple[str, ...]:
    """Every operator name an obligation may use."""
    return (*OPERATORS, FREE_TEXT_OPERATOR)


def _split(obligation: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    if not isinstance(obligation, Mapping):
        raise MaskingError("obligation must be a mapping with an 'operator' key")
    name = obligation.get("operator")
    if not isinstance(name, str) or not name:
        raise MaskingError("obligation has no 'operator' name")
    params = {k: v for k, v in obligation.items() if k != "operator"}
    if not all(isinstance(k, str) for k in params):
        raise MaskingError(f"{name}: parameter names must be strings")
    return name, params


@functools.lru_cache(maxsize=1024)
def _bind_error(operator: Callable[..., object], names: frozenset[str]) -> str:
    """Why ``operator(value, context, **params)`` cannot be called with these parameter names
    ("" when it can). Binding depends only on the names, and obligations repeat a few
    name sets, so the (slow) signature check runs once per operator and name set."""
    try:
        inspect.signature(operator).bind(None, None, **dict.fromkeys(names))
    except TypeError as exc:
        return str(exc)
    return ""


def apply_obligation(
    value: Value, obligation: Mapping[str, object], *, context: MaskingContext
) -> MaskResult:
    """Apply one obligation; raise :class:`MaskingError` for unknown operators or bad parameters.

    A free-text analysis failure is not raised: it returns a withheld result
    (fail safe, the text is never passed through).
    """
    name, params = _split(obligation)
    if name == FREE_TEXT_OPERATOR:
        from hub.masking.freetext import mask_free_text

        return mask_free_text(value, context=context, **params)
    operator = OPERATORS.get(name)
    if operator is None:
        raise MaskingError(f"unknown masking operator {name!r}; known: {', '.join(operator_names())}")
    unbound = _bind_error(operator, frozenset(params))
    if unbound:
        # Unknown or missing keyword parameters: the message names parameters, never the value.
        raise MaskingError(f"{name}: bad parameters {sorted(params)}: {unbound}")
    try:
        masked = operator(value, context, **params)
    except MaskingError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        # A parameter of the right name but an unusable type; the exception text could quote the value.
        kind = type(exc).__name__
        raise MaskingError(f"{name}: cannot apply with parameters {sorted(params)} ({kind})") from None
    return MaskResult(value=masked, operator=name)


def mask_or_withhold(
    value: Value, obligation: Mapping[str, object], *, context: MaskingContext
) -> MaskResult:
    """Like :func:`apply_obligation` but a :class:`MaskingError` withholds the field instead."""
    try:
        return apply_obligation(value, obligation, context=context)
    except MaskingError as exc:
        name = obligation.get("operator") if isinstance(obligation, Mapping) else None
        return MaskResult.withhold(str(name or ""), str(exc))
