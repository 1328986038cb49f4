"""Tiered access policy: Casbin (role x jurisdiction x object) then Rego (obligations).

Entry points: :class:`hub.policy.decision_point.PolicyDecisionPoint` (decisions),
:class:`hub.policy.administration.PolicyAdministration` (versions, proposals,
approval, rollback) and :class:`hub.policy.admin_service.PolicyAdminService` (gRPC).
See docs/policy.md.
"""
