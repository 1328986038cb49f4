"""The audit package's error types: one base class, one subclass per failure kind."""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error raised by ``audit``."""


class ProofError(AuditError):
    """A Merkle proof (RFC 9162 section 2.1.3 / 2.1.4) does not verify; the message says why."""


class EntryError(AuditError):
    """An entry cannot be encoded or decoded canonically (bad field, float, unknown kind)."""


class SealError(AuditError):
    """A sealed (AES-GCM) field cannot be created or opened: unknown key id, bad ciphertext."""


class CheckpointError(AuditError):
    """A checkpoint or signed note is malformed, badly signed, or inconsistent with its predecessor."""


class KeyFileError(AuditError):
    """A key file is missing or malformed; the message names the file."""


class StoreError(AuditError):
    """The log's storage refused or failed an operation (append not durable, bad range)."""


class VerificationError(AuditError):
    """An export failed offline verification; ``where`` names the first bad entry or checkpoint."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason
