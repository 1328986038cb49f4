"""The ``[audit]`` configuration table, validated with errors naming file and key.

Keys (all optional except ``database_url`` and ``signing_key``)::

    [audit]
    database_url = "sqlite:///var/pingan/audit.db"    # or postgresql+psycopg://...
    origin = "pingan-hub.example/audit"               # checkpoint origin line
    signing_key = "keys/pingan-hub-audit.skey"        # note signer key (pingan audit keygen)
    sealing_keyring = "keys/sealing.json"             # AES-GCM keyring for sealed fields
    checkpoint_every_entries = 1000
    checkpoint_every_seconds = 60
    max_batch = 512

Relative paths are resolved against the configuration file's directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.checkpoint import NoteSigner
from audit.errors import AuditError, KeyFileError
from audit.sealed import Keyring
from audit.store import AuditLog, CheckpointPolicy

_KNOWN = {
    "database_url",
    "origin",
    "signing_key",
    "sealing_keyring",
    "checkpoint_every_entries",
    "checkpoint_every_seconds",
    "max_batch",
}


class SettingsError(AuditError):
    """A bad ``[audit]`` configuration value; the message names the file and key."""


@dataclass(frozen=True)
class AuditSettings:
    """Validated audit configuration."""

    database_url: str
    signing_key: Path
    origin: str = "pingan-hub/audit"
    sealing_keyring: Path | None = None
    checkpoint_every_entries: int = 1000
    checkpoint_every_seconds: float = 60.0
    max_batch: int = 512

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], source: str, base_dir: Path | None = None) -> AuditSettings:
        """Validate the ``[audit]`` table read from ``source`` (a file name for messages)."""

        def bad(key: str, why: str) -> SettingsError:
            return SettingsError(f"{source}: [audit] {key} {why}")

        unknown = sorted(set(table) - _KNOWN)
        if unknown:
            raise bad(unknown[0], f"is not a known key (known: {', '.join(sorted(_KNOWN))})")
        base = base_dir or Path(".")

        def text(key: str, required: bool = False, default: str | None = None) -> str | None:
            value = table.get(key, default)
            if value is None:
                if required:
                    raise bad(key, "is required")
                return None
            if not isinstance(value, str) or not value.strip():
                raise bad(key, "must be a non-empty string")
            return value

        def integer(key: str, default: int, low: int) -> int:
            value = table.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise bad(key, f"must be an integer >= {low}")
            return value

        url = text("database_url", required=True)
        key = text("signing_key", required=True)
        keyring = text("sealing_keyring")
        seconds = table.get("checkpoint_every_seconds", 60)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise bad("checkpoint_every_seconds", "must be a positive number")
        origin = text("origin", default="pingan-hub/audit")
        assert url is not None and key is not None and origin is not None
        if "\n" in origin:
            raise bad("origin", "must be one line")
        return cls(
            database_url=url,
            signing_key=base / key,
            origin=origin,
            sealing_keyring=base / keyring if keyring else None,
            checkpoint_every_entries=integer("checkpoint_every_entries", 1000, 1),
            checkpoint_every_seconds=float(seconds),
            max_batch=integer("max_batch", 512, 1),
        )

    def open_log(self) -> AuditLog:
        """Load the signing key and open (and migrate) the log."""
        try:
            signer = NoteSigner.load(self.signing_key)
        except KeyFileError as exc:
            raise SettingsError(f"[audit] signing_key: {exc}") from exc
        return AuditLog(
            self.database_url,
            origin=self.origin,
            signer=signer,
            policy=CheckpointPolicy(self.checkpoint_every_entries, self.checkpoint_every_seconds),
        )

    def load_keyring(self) -> Keyring | None:
        if self.sealing_keyring is None:
            return None
        try:
            return Keyring.load(self.sealing_keyring)
        except KeyFileError as exc:
            raise SettingsError(f"[audit] sealing_keyring: {exc}") from exc
