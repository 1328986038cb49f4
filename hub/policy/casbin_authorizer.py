"""Casbin check of role x jurisdiction x object, run before Rego.

The model (policies/casbin/model.conf) calls ``within(user, role, path)``; it is
answered from a :class:`ScopeIndex` of the user's (role, scope) assignments. By
default that is the index of every stored assignment; replay of a recorded
decision supplies the assignments recorded with it (``index=``), through a
context variable, so one compiled enforcer serves both.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterable

import casbin
from casbin import persist
from casbin.model import Model

from hub.policy.bundle import CASBIN_MODEL, CASBIN_RULES
from hub.policy.errors import Diagnostic, PolicyLoadError
from hub.policy.jurisdiction import RoleAssignment, ScopeIndex, is_valid_path

_INDEX: contextvars.ContextVar[ScopeIndex | None] = contextvars.ContextVar("policy_scope_index", default=None)

READ = "read"
_WITHIN_CALL = "within(r.sub, p.sub, r.dom)"


def parse_rules(text: str) -> tuple[list[list[str]], list[RoleAssignment], list[Diagnostic]]:
    """Split policy.csv into p rules and g assignments; diagnose malformed lines."""
    p_rules: list[list[str]] = []
    assignments: list[RoleAssignment] = []
    problems: list[Diagnostic] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        if cells[0] == "p":
            if len(cells) != 5 or cells[4] not in ("allow", "deny") or not all(cells[1:4]):
                problems.append(Diagnostic(CASBIN_RULES, lineno, 1, "expected: p, role, object-regex, action, allow|deny"))
                continue
            p_rules.append(cells[1:])
        elif cells[0] == "g":
            if len(cells) != 4 or not all(cells[1:]) or not is_valid_path(cells[3]):
                problems.append(Diagnostic(CASBIN_RULES, lineno, 1, "expected: g, user, role, scope (district[/street[/community[/grid]]])"))
                continue
            assignments.append(RoleAssignment(cells[1], cells[2], cells[3]))
        else:
            problems.append(Diagnostic(CASBIN_RULES, lineno, 1, f"unknown rule type {cells[0]!r} (p or g)"))
    return p_rules, assignments, problems


def load_model(text: str) -> Model:
    model = Model()
    try:
        model.load_model_from_text(text)
        for sec in ("r", "p", "e", "m"):
            if sec not in model.model:
                raise ValueError(f"section [{ {'r': 'request_definition', 'p': 'policy_definition', 'e': 'policy_effect', 'm': 'matchers'}[sec] }] missing")
    except Exception as exc:  # noqa: BLE001 - casbin raises plain exceptions for a bad model
        raise PolicyLoadError([Diagnostic(CASBIN_MODEL, 0, 0, f"Casbin model does not load: {exc}")]) from None
    return model


class CasbinAuthorizer:
    """A compiled Casbin enforcer plus the scope index its ``within`` function reads."""

    def __init__(self, model_text: str, rules_text: str, assignments: Iterable[RoleAssignment] = ()) -> None:
        if not model_text.strip():
            raise PolicyLoadError([Diagnostic(CASBIN_MODEL, 0, 0, "the bundle has no Casbin model")])
        p_rules, csv_assignments, problems = parse_rules(rules_text)
        if problems:
            raise PolicyLoadError(problems)
        model = load_model(model_text)
        self._enforcer = casbin.Enforcer(model)
        self._enforcer.enable_auto_build_role_links(False)
        self._enforcer.add_function("within", self._within)
        for rule in p_rules:
            persist.load_policy_line("p, " + ", ".join(rule), self._enforcer.get_model())
        self.p_rules = tuple(tuple(r) for r in p_rules)
        self.index = ScopeIndex([*csv_assignments, *assignments])
        self.bundle_assignments = tuple(csv_assignments)
        # When the matcher sees the user and the path only through within(), the
        # outcome depends only on the roles the user holds at scopes covering the
        # path, so it is memoised per (roles, object) for this compiled version.
        matcher = str(model.model["m"]["m"].value).replace(" ", "").replace("r_", "r.").replace("p_", "p.")
        call = _WITHIN_CALL.replace(" ", "")
        residue = matcher.replace(call, "")
        self.memoised = call in matcher and "r.sub" not in residue and "r.dom" not in residue
        self._by_roles = functools.lru_cache(maxsize=4096)(self._enforce_roles)

    def with_assignments(self, assignments: Iterable[RoleAssignment]) -> CasbinAuthorizer:
        """A new authorizer with the same rules and a fresh assignment set."""
        clone = object.__new__(CasbinAuthorizer)
        clone._enforcer = self._enforcer
        clone.p_rules = self.p_rules
        clone.bundle_assignments = self.bundle_assignments
        clone.index = ScopeIndex([*self.bundle_assignments, *assignments])
        clone.memoised = self.memoised
        clone._by_roles = self._by_roles
        return clone

    def index_assignments(self) -> tuple[RoleAssignment, ...]:
        """The database assignments in the index (without the bundle's own g lines)."""
        bundle = set(self.bundle_assignments)
        return tuple(
            RoleAssignment(u, r, s) for u in self.index.users() for r, s in self.index.held(u) if RoleAssignment(u, r, s) not in bundle
        )

    def _enforce_roles(self, roles: frozenset[str], obj: str) -> bool:
        # A synthetic user holding exactly ``roles`` at the root of the path.
        index = ScopeIndex(RoleAssignment("\x00roles", r, "\x00") for r in roles)
        token = _INDEX.set(index)
        try:
            return bool(self._enforcer.enforce("\x00roles", "\x00", obj, READ))
        except Exception:  # noqa: BLE001 - fail closed
            return False
        finally:
            _INDEX.reset(token)

    def _within(self, user: str, role: str, path: str) -> bool:
        index = _INDEX.get()
        return (index if index is not None else ScopeIndex(())).has_role_within(user, role, path)

    def allows(self, user_id: str, path: str, obj: str, index: ScopeIndex | None = None) -> bool:
        """May ``user_id`` read ``obj`` ("department/dataset/Lg") about a person at ``path``?"""
        idx = index if index is not None else self.index
        if self.memoised:
            roles = frozenset(r for r, _s in idx.covering(user_id, path))
            return bool(roles) and self._by_roles(roles, obj)
        token = _INDEX.set(index if index is not None else self.index)
        try:
            return bool(self._enforcer.enforce(user_id, path, obj, READ))
        except Exception:  # noqa: BLE001 - a failing matcher is a deny (fail closed)
            return False
        finally:
            _INDEX.reset(token)
