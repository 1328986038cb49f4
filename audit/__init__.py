"""Verifiable append-only audit log (RFC 9162 Merkle tree, signed checkpoints).

Imports neither ``hub`` nor ``adapters``: an auditor can install and run the
verifier without the rest of the system. Map (docs/audit.md has the formats):
``merkle`` (RFC 9162 hashing and proofs), ``entry`` (entry kinds, canonical
JSON), ``sealed`` (AES-GCM fields), ``checkpoint`` (C2SP signed notes),
``store`` (``AuditLog``), ``appender`` (``BatchingAppender``), ``export`` and
``verify`` (offline verification), ``service`` (gRPC AuditService),
``settings`` (the ``[audit]`` configuration table), ``errors``.
"""
