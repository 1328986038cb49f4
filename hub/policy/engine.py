"""The Rego engine interface shared by the embedded (regopy) and OPA engines.

Policies are tested with a convention both engines can run (docs/policy.md):
``test_<name>`` rules in a ``*_test.rego`` module assert over ``data.pingan.authz``
evaluated with the input ``case_<name>`` from the same package; the runner sets
that input (no ``with``: regopy 1.5.2 aborts on it). A test without a case runs
with an empty input. An undefined test is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# Entrypoints of package pingan.authz evaluated by the decision point.
DECISION = "decision"
HEADER = "header"
ENTRYPOINTS = (DECISION, HEADER)
POLICY_PACKAGE = "pingan.authz"


class _Undefined:
    """The value of a Rego document that is not defined (a deny for the decision point)."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED = _Undefined()


@dataclass(frozen=True)
class TestOutcome:
    """Result of one Rego unit test on one engine."""

    name: str  # "<package>.<rule>", e.g. "pingan.authz_test.test_minor"
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class TestCase:
    """A ``test_`` rule and its package, found in a test module."""

    package: str
    rule: str

    @property
    def case_rule(self) -> str:
        return "case_" + self.rule[len("test_") :]

    @property
    def name(self) -> str:
        return f"{self.package}.{self.rule}"


_PACKAGE = re.compile(r"^package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_TEST = re.compile(r"^(test_\w+)\b", re.MULTILINE)
_CASE = re.compile(r"^(case_\w+)\b", re.MULTILINE)


def discover_tests(test_modules: Mapping[str, str]) -> list[TestCase]:
    """Every ``test_`` rule (deduplicated, in file order) of the given modules."""
    cases: list[TestCase] = []
    for _path, src in sorted(test_modules.items()):
        pkg = _PACKAGE.search(src)
        if not pkg:
            continue
        seen: set[str] = set()
        for m in _TEST.finditer(src):
            if m.group(1) not in seen:
                seen.add(m.group(1))
                cases.append(TestCase(pkg.group(1), m.group(1)))
    return cases


def has_case(test_modules: Mapping[str, str], case: TestCase) -> bool:
    return any(
        (pkg := _PACKAGE.search(src)) and pkg.group(1) == case.package and case.case_rule in _CASE.findall(src)
        for src in test_modules.values()
    )


class RegoEngine(Protocol):
    """One compiled policy version on one engine."""

    name: str

    def evaluate(self, entrypoint: str, input: Mapping[str, Any]) -> Any:
        """Value of ``data.pingan.authz.<entrypoint>`` or UNDEFINED; raises EngineError."""
        ...

    def run_tests(self) -> list[TestOutcome]:
        """Run the bundle's Rego unit tests."""
        ...

    def close(self) -> None:
        ...
