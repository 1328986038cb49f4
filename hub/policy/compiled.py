"""An immutable compiled policy version: bundle, hash, Rego engine and Casbin enforcer.

The decision point holds one reference to a :class:`CompiledPolicy`; activation
replaces that reference, so a decision that already read it finishes on the
version it started with (issue 4: atomic, hot activation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hub.policy.bundle import PolicyBundle
from hub.policy.casbin_authorizer import CasbinAuthorizer
from hub.policy.engine import RegoEngine
from hub.policy.input_reads import InputReads, analyse
from hub.policy.jurisdiction import RoleAssignment

EngineFactory = Callable[[PolicyBundle], RegoEngine]


@dataclass(frozen=True)
class CompiledPolicy:
    """Everything needed to decide under one policy version."""

    bundle: PolicyBundle
    hash: str
    rego: RegoEngine
    casbin: CasbinAuthorizer
    # What the Rego modules can observe of the input; the rest is left out of the
    # decision memo key (hub/policy/memo.py).
    reads: InputReads

    @property
    def engine(self) -> str:
        return self.rego.name

    def with_assignments(self, assignments: Iterable[RoleAssignment]) -> CompiledPolicy:
        """Same version, new role assignments (they are not part of a version)."""
        return CompiledPolicy(
            self.bundle, self.hash, self.rego, self.casbin.with_assignments(assignments), self.reads)


def compile_policy(
    bundle: PolicyBundle, engine_factory: EngineFactory, assignments: Iterable[RoleAssignment] = ()
) -> CompiledPolicy:
    """Parse and compile ``bundle``; raises PolicyLoadError with located diagnostics."""
    casbin = CasbinAuthorizer(bundle.casbin_model, bundle.casbin_rules, assignments)
    rego = engine_factory(bundle)
    modules = bundle.rego_modules.values()
    return CompiledPolicy(
        bundle=bundle,
        hash=bundle.content_hash,
        rego=rego,
        casbin=casbin,
        reads=analyse(modules),
    )
