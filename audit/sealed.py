"""AES-GCM sealed text fields (justification, query terms) with rotating keys.

A sealed value is the string ``aesgcm:<key id>:<base64url nonce||ciphertext>``.
The key id travels with the ciphertext so keys can rotate: the hub seals with
the active key, the auditors' tooling opens with whichever key the value
names. The associated data is the field name, so a ciphertext cannot be moved
to another field unnoticed. The Merkle leaf covers the sealed string, so
verifying the log never needs the key (NIST SP 800-38D for GCM; 96-bit random
nonces).

Keyring file (JSON, mode 0600): ``{"active": "k1", "keys": {"k1": "<base64 32 bytes>"}}``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit.errors import KeyFileError, SealError

PREFIX = "aesgcm"
NONCE_SIZE = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Sealed:
    """An encrypted text value as it appears in an entry."""

    key_id: str
    blob: bytes  # nonce || ciphertext+tag

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise SealError(f"key id {self.key_id!r} must match {_KEY_ID.pattern}")
        if len(self.blob) < NONCE_SIZE + 16:
            raise SealError("sealed value is too short to hold a nonce and a GCM tag")

    def to_text(self) -> str:
        return f"{PREFIX}:{self.key_id}:{base64.urlsafe_b64encode(self.blob).decode('ascii')}"

    @classmethod
    def from_text(cls, text: str) -> Sealed:
        parts = text.split(":")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise SealError("sealed value must look like 'aesgcm:<key id>:<base64url>'")
        try:
            blob = base64.urlsafe_b64decode(parts[2].encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise SealError("sealed value is not valid base64url") from exc
        return cls(parts[1], blob)


class Keyring:
    """AES-256-GCM keys by id; seals with the active one, opens with any."""

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if active not in keys:
            raise SealError(f"active key id {active!r} is not among the keys")
        for kid, key in keys.items():
            if not _KEY_ID.match(kid):
                raise SealError(f"key id {kid!r} must match {_KEY_ID.pattern}")
            if len(key) != 32:
                raise SealError(f"key {kid!r} is {len(key)} bytes; AES-256 needs 32")
        self._keys = dict(keys)
        self.active = active

    @classmethod
    def generate(cls, key_id: str = "k1") -> Keyring:
        return cls({key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    def seal(self, plaintext: str, field: str) -> Sealed:
        nonce = os.urandom(NONCE_SIZE)
        ct = AESGCM(self._keys[self.active]).encrypt(nonce, plaintext.encode("utf-8"), field.encode("utf-8"))
        return Sealed(self.active, nonce + ct)

    def open(self, sealed: Sealed, field: str) -> str:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise SealError(f"no key with id {sealed.key_id!r} in the keyring")
        nonce, ct = sealed.blob[:NONCE_SIZE], sealed.blob[NONCE_SIZE:]
        try:
            return AESGCM(key).decrypt(nonce, ct, field.encode("utf-8")).decode("utf-8")
        except InvalidTag as exc:
            raise SealError(f"sealed {field} does not open: wrong key or altered ciphertext") from exc

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def rotated(self, new_id: str | None = None) -> Keyring:
        """A keyring with a fresh active key; every old key stays so old entries still open."""
        if new_id is None:
            n = len(self._keys) + 1
            while f"k{n}" in self._keys:
                n += 1
            new_id = f"k{n}"
        if new_id in self._keys:
            raise SealError(f"key id {new_id!r} is already in the keyring")
        return Keyring({**self._keys, new_id: AESGCM.generate_key(bit_length=256)}, new_id)

    def save(self, path: Path) -> None:
        """Write atomically with mode 0600 (a crash leaves the old file, never half a keyring)."""
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def to_json(self) -> str:
        keys = {kid: base64.b64encode(k).decode("ascii") for kid, k in sorted(self._keys.items())}
        return json.dumps({"active": self.active, "keys": keys}, indent=2) + "\n"

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a keyring file; errors name the file and the key."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise KeyFileError(f"{path}: no such keyring file") from exc
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"{path}: not a JSON keyring ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
            raise KeyFileError(f"{path}: key 'keys' must be an object of id -> base64 key")
        if not isinstance(data.get("active"), str):
            raise KeyFileError(f"{path}: key 'active' must name one of the keys")
        try:
            keys = {kid: base64.b64decode(v, validate=True) for kid, v in data["keys"].items()}
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"{path}: key 'keys' holds a value that is not base64") from exc
        try:
            return cls(keys, data["active"])
        except SealError as exc:
            raise KeyFileError(f"{path}: {exc}") from exc
