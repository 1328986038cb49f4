"""Verifiable append-only audit log (RFC 9162 Merkle tree, signed checkpoints).

Imports neither ``hub`` nor ``adapters``: an auditor can install and run the
verifier without the rest of the system.
"""
