"""Errors of the policy package; every one carries a message a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    """A located problem in a policy file (1-based line and column; 0 when unknown)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class PolicyError(Exception):
    """Base of every error raised by hub.policy."""


class PolicyLoadError(PolicyError):
    """A policy bundle does not parse or compile; ``diagnostics`` locate each problem."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("; ".join(str(d) for d in self.diagnostics) or "policy does not load")


class EngineError(PolicyError):
    """A Rego engine failed to evaluate (the decision is then a deny)."""


class MemoMiss(PolicyError):
    """A decision asked for from the memo only needs a Rego evaluation (``memo_only=True``).

    Raised before anything is recorded, so the caller can decide the same request again
    where an evaluation may block: off the event loop (hub.profile.assembly). ``fills``
    are the missing evaluations, one callable each: run off the loop, each evaluates its
    decision into the memo and returns whether it is stored there (an engine error or an
    undefined output is not), so the caller can then decide again from the memo alone.
    """

    def __init__(self, message: str, fills: tuple[Callable[[], bool], ...] = ()) -> None:
        super().__init__(message)
        self.fills = fills


class AdministrationError(PolicyError):
    """A policy-administration request cannot be carried out (bad state, bad caller)."""


class NotFoundError(AdministrationError):
    """The named policy version does not exist."""


class ConfigError(PolicyError):
    """Policy configuration is invalid; the message names the file and key."""
