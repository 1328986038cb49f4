"""Optional strict compile of proposed Rego with the real OPA compiler.

regopy treats an unsafe variable as silently undefined; OPA's compiler rejects it
with a located error. When the ``opa-golib-python-bindings`` wheel is installed
(development and CI), proposals are also compiled with it; without it this check
is skipped and an unsafe variable shows up as a failing test or an undefined
decision, which the decision point treats as a deny.
"""

from __future__ import annotations

from hub.policy.bundle import PolicyBundle
from hub.policy.diagnostics import parse_opa_message
from hub.policy.errors import Diagnostic


def available() -> bool:
    try:
        import opa_bindings  # noqa: F401
    except ImportError:
        return False
    return True


def strict_diagnostics(bundle: PolicyBundle) -> list[Diagnostic]:
    """OPA compile errors of every Rego module (tests included); [] when OPA is not installed."""
    try:
        from opa_bindings import OpaEngine
    except ImportError:
        return []
    modules = {p: c for p, c in bundle.files.items() if p.endswith(".rego")}
    engine = OpaEngine()
    try:
        for path, src in sorted(modules.items()):
            engine.add_policy(path, src)
        engine.eval_query("true")
    except Exception as exc:  # noqa: BLE001 - any compile error becomes diagnostics
        return parse_opa_message(getattr(exc, "message", str(exc)))
    finally:
        engine.close()
    return []
