"""In-process Rego with regopy (rego-cpp), compiled once per policy version.

Guards against regopy's quirks (issue 4): compile errors arrive as S-expression
dumps (parsed into path:line:column diagnostics); ``with`` and ``sprintf`` are
rejected before compiling (see diagnostics.py); an unsafe variable silently makes
a rule undefined, so an undefined decision is a deny with a reason, never an
allow; and the text of a failed output is never rendered (regopy 1.5.2 can crash
doing so), only reported as an engine error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import regopy

from hub.policy.bundle import PolicyBundle
from hub.policy.diagnostics import parse_regopy_error, regopy_hazards
from hub.policy.engine import (
    ENTRYPOINTS,
    POLICY_PACKAGE,
    UNDEFINED,
    TestOutcome,
    discover_tests,
    has_case,
)
from hub.policy.errors import EngineError, PolicyLoadError

regopy.set_default_log_level("None")

_PKG_PATH = POLICY_PACKAGE.replace(".", "/")


def _interpreter(modules: Mapping[str, str]) -> regopy.Interpreter:
    hazards = [d for path, src in sorted(modules.items()) for d in regopy_hazards(path, src)]
    if hazards:
        raise PolicyLoadError(hazards)
    interp = regopy.Interpreter()
    interp.log_level = regopy.LogLevel.NONE
    for path, src in sorted(modules.items()):
        try:
            interp.add_module(path, src)
        except regopy.RegoError as exc:
            raise PolicyLoadError(parse_regopy_error(str(exc), modules)) from None
    return interp


def _input_term(given: Mapping[str, Any]) -> str | None:
    """The input as one JSON text for ``set_input_term``, or ``None`` to build it node by node.

    Why: regopy calls rego-cpp through ctypes, which releases the GIL around every call,
    and ``regopy.Input`` makes one call per value of the input. In a worker thread beside
    a busy event loop every one of those calls waits to win the GIL back (up to the 5 ms
    switch interval): one decision took 1.1 s instead of 6.5 ms, against 23 ms with the
    input passed as one term (bench/rego_input.py; docs/benchmarks.md, "Profile load"). regopy 1.5 keeps the
    escapes of a term's strings literally (``"a\\tb"`` is four characters to it, ``"\\u793e"``
    six), so the text is written with ``ensure_ascii=False`` and an input whose text still
    needs an escape (a quote, a backslash, a control character) is built node by node, as
    every input was before; the hub's own inputs (ids, paths, purposes, field names) never
    need one.
    """
    try:
        term = json.dumps(given, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return None if "\\" in term else term


def _value(out: Any) -> Any:
    if not out.ok():
        raise EngineError("regopy could not evaluate the policy (runtime error)")
    if len(out) == 0 or not out[0].expressions:
        return UNDEFINED
    return out[0].expressions[0]


class EmbeddedRego:
    """One policy version compiled into a regopy bundle; evaluations are serialised."""

    name = "embedded"

    def __init__(self, bundle: PolicyBundle) -> None:
        self._bundle = bundle
        modules = bundle.rego_modules
        if not modules:
            raise PolicyLoadError([])
        self._interp = _interpreter(modules)
        try:
            self._compiled = self._interp.build(None, [f"{_PKG_PATH}/{e}" for e in ENTRYPOINTS])
        except regopy.RegoError as exc:
            raise PolicyLoadError(parse_regopy_error(str(exc), modules)) from None
        if not self._compiled.ok():
            raise PolicyLoadError(parse_regopy_error("", modules))
        self._lock = threading.Lock()

    def evaluate(self, entrypoint: str, input: Mapping[str, Any]) -> Any:
        if entrypoint not in ENTRYPOINTS:
            raise EngineError(f"unknown entrypoint {entrypoint!r}")
        term = _input_term(input)
        with self._lock:
            try:
                if term is not None:
                    self._interp.set_input_term(term)
                else:
                    self._interp.set_input(regopy.Input(dict(input)))
                out = self._interp.query_bundle_entrypoint(self._compiled, f"{_PKG_PATH}/{entrypoint}")
            except regopy.RegoError as exc:
                raise EngineError(f"regopy error: {str(exc).splitlines()[0][:200]}") from None
            except ValueError:  # regopy 1.5 renders a string with a quote or control character unescaped
                raise EngineError("regopy could not render the policy's output (a string it cannot escape)") from None
            return _value(out)

    def run_tests(self) -> list[TestOutcome]:
        tests = self._bundle.rego_tests
        modules = {**self._bundle.rego_modules, **tests}
        interp = _interpreter(modules)
        cases = discover_tests(tests)
        with_case = {c.name: has_case(tests, c) for c in cases}
        entrypoints = [f"{c.package.replace('.', '/')}/{r}" for c in cases for r in ((c.case_rule, c.rule) if with_case[c.name] else (c.rule,))]
        if not entrypoints:
            return []
        try:
            compiled = interp.build(None, entrypoints)  # compile once, run every test from the bundle
        except regopy.RegoError as exc:
            raise PolicyLoadError(parse_regopy_error(str(exc), modules)) from None
        outcomes: list[TestOutcome] = []
        for case in cases:
            pkg = case.package.replace(".", "/")
            try:
                given: Any = {}
                if with_case[case.name]:
                    interp.set_input(regopy.Input({}))
                    given = _value(interp.query_bundle_entrypoint(compiled, f"{pkg}/{case.case_rule}"))
                    if given is UNDEFINED:
                        outcomes.append(TestOutcome(case.name, False, f"{case.case_rule} is undefined"))
                        continue
                interp.set_input(regopy.Input(given))
                result = _value(interp.query_bundle_entrypoint(compiled, f"{pkg}/{case.rule}"))
            except (EngineError, regopy.RegoError) as exc:
                outcomes.append(TestOutcome(case.name, False, str(exc).splitlines()[0][:200]))
                continue
            if result is True:
                outcomes.append(TestOutcome(case.name, True))
            elif result is UNDEFINED:
                outcomes.append(TestOutcome(case.name, False, "undefined: an assertion failed (or a variable is unsafe)"))
            else:
                outcomes.append(TestOutcome(case.name, False, f"expected true, got {json.dumps(result)[:120]}"))
        return outcomes

    def close(self) -> None:
        pass
