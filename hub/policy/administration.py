"""Policy administration: list versions, propose, approve (a second owner), roll back.

A proposal is parsed and compiled (errors come back as path:line:column), its Rego
tests run, and the inputs of the last N recorded decisions are replayed under the
active version and under the proposal; every decision that would change
(allow->deny, deny->allow, obligations) is reported, grouped by role and
department. Only a proposal that compiles and passes every test can be approved,
by a policy owner other than the proposer; activation is one database transaction
plus one reference swap in the decision point (hot, no restart).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from hub.policy import strict_check
from hub.policy.bundle import PolicyBundle
from hub.policy.compiled import CompiledPolicy, EngineFactory, compile_policy
from hub.policy.decision_point import (
    HEADER_KIND,
    PolicyDecisionPoint,
    SectionInputs,
    evaluate_header,
    evaluate_section,
    header_outcome,
    section_outcome,
)
from hub.policy.engine import TestOutcome
from hub.policy.errors import AdministrationError, Diagnostic, PolicyLoadError
from hub.policy.model import Subject
from hub.policy.store import ACTIVE, PROPOSED, REJECTED, SUPERSEDED, PolicyStore, StoredVersion

log = logging.getLogger(__name__)

POLICY_OWNER = "policy_owner"
AUDITOR = "auditor"
DEFAULT_REPLAY = 200
MAX_REPLAY = 10_000


class CallerNotAllowed(AdministrationError):
    """The caller's role or identity does not permit this action."""


@dataclass(frozen=True)
class DecisionChange:
    request_id: str
    role: str
    department: str
    dataset: str
    change: str  # "allow->deny", "deny->allow", "obligations", "header"
    detail: str


@dataclass(frozen=True)
class ImpactReport:
    replayed: int
    changes: tuple[DecisionChange, ...] = ()

    def grouped(self) -> dict[tuple[str, str], list[DecisionChange]]:
        """Changes grouped by (role, department), groups in sorted order."""
        groups: dict[tuple[str, str], list[DecisionChange]] = {}
        for c in sorted(self.changes, key=lambda c: (c.role, c.department, c.dataset, c.request_id)):
            groups.setdefault((c.role, c.department), []).append(c)
        return groups


@dataclass(frozen=True)
class ProposalResult:
    version: StoredVersion
    errors: tuple[Diagnostic, ...]
    tests: tuple[TestOutcome, ...]
    impact: ImpactReport = field(default_factory=lambda: ImpactReport(0))

    @property
    def accepted(self) -> bool:
        return self.version.state == PROPOSED


def _diff(before: dict, after: dict) -> tuple[str, str] | None:
    if before.get("allow") != after.get("allow"):
        return ("allow->deny" if before.get("allow") else "deny->allow", "; ".join(after.get("reasons", []))[:300])
    if not after.get("allow"):
        return None
    bf, af = before.get("fields", {}), after.get("fields", {})
    bo, ao = before.get("obligations", {}), after.get("obligations", {})
    if bf == af and bo == ao:
        return None
    parts = []
    for name in sorted(set(bf) | set(af)):
        if name not in af:
            parts.append(f"{name}: now withheld")
        elif name not in bf:
            parts.append(f"{name}: now shown ({af[name] or 'clear'})")
        elif bo.get(name) != ao.get(name):
            parts.append(f"{name}: {bo.get(name, {}).get('operator', 'clear')} -> {ao.get(name, {}).get('operator', 'clear')}")
    return ("obligations", "; ".join(parts)[:500])


def _header_diff(before: dict, after: dict) -> tuple[str, str] | None:
    if before.get("allow") != after.get("allow"):
        return ("allow->deny" if before.get("allow") else "deny->allow", "header; " + "; ".join(after.get("reasons", []))[:300])
    keys = ("name", "risk_level", "responsible_helper", "groups", "household")
    changed = [f"{k}: {before.get(k)} -> {after.get(k)}" for k in keys if before.get(k) != after.get(k)]
    return ("header", "; ".join(changed)) if changed else None


def _roles_of(inputs: SectionInputs) -> str:
    roles = sorted({r for r, _ in inputs.assignments if r in inputs.claimed_roles})
    return ",".join(roles) or ",".join(inputs.claimed_roles) or "(none)"


class PolicyAdministration:
    """Versions and proposals on a :class:`PolicyStore`, activating into a decision point."""

    def __init__(
        self,
        store: PolicyStore,
        engine_factory: EngineFactory,
        pdp: PolicyDecisionPoint | None = None,
        *,
        default_replay: int = DEFAULT_REPLAY,
        warm_decisions: int = 0,
    ) -> None:
        self.store = store
        self.engine_factory = engine_factory
        self.pdp = pdp
        self.default_replay = default_replay
        self.warm_decisions = warm_decisions

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _require(caller: Subject, *roles: str) -> None:
        if not caller.user_id or not set(caller.roles) & set(roles):
            raise CallerNotAllowed(f"this needs the role {' or '.join(roles)}")

    def compile(self, bundle: PolicyBundle) -> CompiledPolicy:
        """Compile with the configured engine and the stored role assignments."""
        compiled = compile_policy(bundle, self.engine_factory, self.store.assignments())
        strict = strict_check.strict_diagnostics(bundle)
        if strict:
            compiled.rego.close()
            raise PolicyLoadError(strict)
        return compiled

    def load_active(self) -> CompiledPolicy:
        active = self.store.active()
        if active is None:
            raise AdministrationError("no active policy version: bootstrap one first (pingan policy bootstrap)")
        return self.compile(active.bundle)

    def bootstrap(self, bundle: PolicyBundle, by: str = "bootstrap") -> StoredVersion:
        """Make ``bundle`` the first active version (only when none is active); it must pass its tests."""
        if self.store.active() is not None:
            raise AdministrationError("a policy version is already active; propose a change instead")
        compiled = self.compile(bundle)
        try:
            failed = [t for t in compiled.rego.run_tests() if not t.passed]
        finally:
            compiled.rego.close()
        if failed:
            raise AdministrationError(f"{len(failed)} policy test(s) fail, first: {failed[0].name}: {failed[0].detail}")
        return self.store.add_version(bundle, state=ACTIVE, by=by, description="initial policy", report={})

    def list_versions(self, caller: Subject) -> list[StoredVersion]:
        self._require(caller, POLICY_OWNER, AUDITOR)
        return self.store.versions()

    # ------------------------------------------------------------------ propose

    def propose(
        self,
        caller: Subject,
        files: Mapping[str, str],
        removed: Sequence[str] = (),
        description: str = "",
        replay_last: int = 0,
    ) -> ProposalResult:
        self._require(caller, POLICY_OWNER)
        active = self.store.active()
        if active is None:
            raise AdministrationError("no active policy version to change")
        n = replay_last or self.default_replay
        if not 0 < n <= MAX_REPLAY:
            raise AdministrationError(f"replay_last must be between 1 and {MAX_REPLAY}")
        errors: list[Diagnostic] = []
        tests: list[TestOutcome] = []
        impact = ImpactReport(0)
        try:
            bundle = active.bundle.changed(files, removed)
        except PolicyLoadError as exc:
            raise AdministrationError("; ".join(str(d) for d in exc.diagnostics)) from None
        if bundle.content_hash == active.hash:
            raise AdministrationError("the proposal does not change the active version")
        compiled: CompiledPolicy | None = None
        try:
            compiled = self.compile(bundle)
        except PolicyLoadError as exc:
            errors = list(exc.diagnostics) or [Diagnostic("<bundle>", 0, 0, "does not compile")]
        if compiled is not None:
            try:
                tests = compiled.rego.run_tests()
                if not tests:
                    errors.append(Diagnostic("rego", 0, 0, "the bundle has no Rego tests (test_* rules)"))
                impact = self.replay(compiled, n)
            finally:
                compiled.rego.close()
        ok = not errors and all(t.passed for t in tests)
        report = {
            "errors": [asdict(d) for d in errors],
            "tests": [asdict(t) for t in tests],
            "impact": {"replayed": impact.replayed, "changes": [asdict(c) for c in impact.changes]},
        }
        version = self.store.add_version(
            bundle, state=PROPOSED if ok else REJECTED, by=caller.user_id, description=description, report=report
        )
        log.info("policy proposal %s by %s: %s", version.hash[:12], caller.user_id, version.state)
        return ProposalResult(version, tuple(errors), tuple(tests), impact)

    def replay(self, proposal: CompiledPolicy, last: int) -> ImpactReport:
        """Replay the last ``last`` recorded decisions under the active version and ``proposal``."""
        recorded = self.store.recent_decisions(last)
        if not recorded:
            return ImpactReport(0)
        active = self.pdp.policy if self.pdp is not None else None
        active_hash = self.store.active().hash if self.store.active() else ""  # type: ignore[union-attr]
        if active is not None and active.hash != active_hash:
            active = None
        own_active: CompiledPolicy | None = None
        changes: list[DecisionChange] = []
        try:
            for inputs, outcome, policy_hash in recorded:
                if policy_hash == active_hash:
                    before = outcome
                else:
                    if active is None:
                        own_active = own_active or self.load_active()
                        active = own_active
                    before = (header_outcome(evaluate_header(active, inputs)) if inputs.kind == HEADER_KIND
                              else section_outcome(evaluate_section(active, inputs)))
                if inputs.kind == HEADER_KIND:
                    diff = _header_diff(before, header_outcome(evaluate_header(proposal, inputs)))
                else:
                    diff = _diff(before, section_outcome(evaluate_section(proposal, inputs)))
                if diff:
                    changes.append(DecisionChange(inputs.request_id, _roles_of(inputs), inputs.department or "(header)",
                                                  inputs.dataset, diff[0], diff[1]))
        finally:
            if own_active is not None:
                own_active.rego.close()
        return ImpactReport(len(recorded), tuple(changes))

    # ------------------------------------------------------------------ approve, rollback

    def _activate(self, version: StoredVersion, *, approved_by: str | None, expect: tuple[str, ...]) -> StoredVersion:
        compiled = self.compile(version.bundle)
        failed = [t for t in compiled.rego.run_tests() if not t.passed]
        if failed:
            compiled.rego.close()
            raise AdministrationError(f"version {version.hash[:12]} fails {len(failed)} test(s) now; not activated")
        self.warm(compiled)
        stored = self.store.activate(version.hash, approved_by=approved_by, expect_states=expect)
        if self.pdp is not None:
            old = self.pdp.activate(compiled)
            log.info("policy %s active (was %s)", compiled.hash[:12], old.hash[:12])
        return stored

    def sync_active(self) -> bool:
        """Activate in the decision point whatever version the database says is active.

        For several hub replicas on one database: the replica that served an approval
        activates at once; the others call this periodically. Returns True on a swap.
        Role assignments are reloaded too.
        """
        if self.pdp is None:
            return False
        active = self.store.active()
        if active is None:
            return False
        if active.hash == self.pdp.policy.hash:
            current = self.pdp.policy
            assignments = self.store.assignments()
            if set(current.casbin.index_assignments()) != set(assignments):
                self.pdp.activate(current.with_assignments(assignments))
                return True
            return False
        compiled = self.compile(active.bundle)
        self.warm(compiled)
        self.pdp.activate(compiled)
        return True

    def warm(self, compiled: CompiledPolicy) -> int:
        """Fill the decision memo for ``compiled`` from the last recorded decisions (docs/policy.md).

        A cache fill: a failure is logged and never stops a start or an activation.
        """
        if self.pdp is None or self.warm_decisions <= 0:
            return 0
        try:
            recorded = self.store.recent_decisions(self.warm_decisions)
            added = self.pdp.warm((inputs for inputs, _, _ in recorded), compiled)
        except Exception:  # noqa: BLE001 - the memo is an optimisation; deciding still works without it
            log.exception("policy %s: could not warm the decision memo", compiled.hash[:12])
            return 0
        log.info("policy %s: %d decision memo entries warmed from %d recorded decisions", compiled.hash[:12], added, len(recorded))
        return added

    def approve(self, caller: Subject, content_hash: str) -> StoredVersion:
        self._require(caller, POLICY_OWNER)
        version = self.store.get(content_hash)
        if version.state != PROPOSED:
            raise AdministrationError(f"version {content_hash[:12]} is {version.state}, not proposed")
        if version.proposed_by == caller.user_id:
            raise CallerNotAllowed("the approver must be a different policy owner than the proposer")
        return self._activate(version, approved_by=caller.user_id, expect=(PROPOSED,))

    def rollback(self, caller: Subject, content_hash: str) -> StoredVersion:
        """Make an earlier (previously active, now superseded) version active again."""
        self._require(caller, POLICY_OWNER)
        version = self.store.get(content_hash)
        if version.state != SUPERSEDED:
            raise AdministrationError(
                f"version {content_hash[:12]} is {version.state}; only an earlier active (superseded) version can be restored"
            )
        return self._activate(version, approved_by=None, expect=(SUPERSEDED,))
