"""Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519.

Body (c2sp.org/tlog-checkpoint)::

    <origin>\\n<tree size, decimal>\\n<base64 root hash>\\n

Signed note (c2sp.org/signed-note): the body, an empty line, then one line per
signature ``\\u2014 <key name> <base64(key hash[4] || signature)>\\n``. The key
hash is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key), 0x01
being the Ed25519 signature type; the signature is Ed25519 over the body bytes.

Key files use the note key encodings (golang.org/x/mod/sumdb/note):
verifier key ``<name>+<hex key hash>+<base64(0x01 || public key)>`` and signer
key ``PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 || private seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from audit.errors import CheckpointError, KeyFileError

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "


def key_hash(name: str, public_key: bytes) -> bytes:
    """c2sp.org/signed-note: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint commits to."""

    origin: str
    size: int
    root_hash: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode('ascii')}\n"

    @classmethod
    def parse_body(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("checkpoint body needs origin, size and root lines, each ending in a newline")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not origin:
            raise CheckpointError("checkpoint origin line is empty")
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise CheckpointError(f"checkpoint size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error as exc:
            raise CheckpointError("checkpoint root hash is not base64") from exc
        if len(root) != 32:
            raise CheckpointError(f"checkpoint root hash is {len(root)} bytes, not 32")
        return cls(origin, int(size_text), root)


class NoteSigner:
    """An Ed25519 signed-note signer."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        self.verifier = NoteVerifier(name, private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.generate())

    def sign(self, body: str) -> str:
        """Return the signed note: body, blank line, signature line."""
        if not body.endswith("\n"):
            raise CheckpointError("note body must end with a newline")
        sig = self._key.sign(body.encode("utf-8"))
        blob = base64.b64encode(self.verifier.key_id + sig).decode("ascii")
        return f"{body}\n{SIG_PREFIX}{self.name} {blob}\n"

    def to_skey(self) -> str:
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        enc = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{enc}"

    @classmethod
    def from_skey(cls, text: str, source: str = "signer key") -> NoteSigner:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise KeyFileError(f"{source}: not a note signer key (PRIVATE+KEY+name+hash+key)")
        try:
            raw = base64.b64decode(parts[4], validate=True)
        except binascii.Error as exc:
            raise KeyFileError(f"{source}: key part is not base64") from exc
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise KeyFileError(f"{source}: not an Ed25519 key")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_id.hex() != parts[3]:
            raise KeyFileError(f"{source}: key hash {parts[3]} does not match the key")
        return signer

    @classmethod
    def load(cls, path: Path) -> NoteSigner:
        try:
            return cls.from_skey(path.read_text(encoding="ascii"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"{path}: cannot read signer key ({exc})") from exc

    def save(self, directory: Path) -> tuple[Path, Path]:
        """Write ``<name>.skey`` (0600) and ``<name>.vkey``; return their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        skey, vkey = directory / f"{self.name}.skey", directory / f"{self.name}.vkey"
        if skey.exists():
            raise KeyFileError(f"{skey}: already exists; refusing to overwrite a signing key")
        fd = os.open(skey, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(self.to_skey() + "\n")
        vkey.write_text(self.verifier.to_vkey() + "\n", encoding="ascii")
        return skey, vkey


class NoteVerifier:
    """An Ed25519 signed-note verifier (the public key auditors hold)."""

    def __init__(self, name: str, public_key: bytes) -> None:
        _check_name(name)
        if len(public_key) != 32:
            raise CheckpointError("an Ed25519 public key is 32 bytes")
        self.name = name
        self.public_key = public_key
        self.key_id = key_hash(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    def to_vkey(self) -> str:
        enc = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{enc}"

    @classmethod
    def from_vkey(cls, text: str, source: str = "verifier key") -> NoteVerifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise KeyFileError(f"{source}: not a note verifier key (name+hash+key)")
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error as exc:
            raise KeyFileError(f"{source}: key part is not base64") from exc
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise KeyFileError(f"{source}: not an Ed25519 verifier key")
        verifier = cls(parts[0], raw[1:])
        if verifier.key_id.hex() != parts[1]:
            raise KeyFileError(f"{source}: key hash {parts[1]} does not match the key")
        return verifier

    @classmethod
    def load(cls, path: Path) -> NoteVerifier:
        try:
            return cls.from_vkey(path.read_text(encoding="ascii"), str(path))
        except FileNotFoundError as exc:
            raise KeyFileError(f"{path}: no such verifier key file") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"{path}: cannot read verifier key ({exc})") from exc

    def open(self, note: str) -> str:
        """Return the note's body if it carries a valid signature by this key."""
        sep = note.rfind("\n\n")
        if sep < 0 or not note.endswith("\n"):
            raise CheckpointError("signed note lacks the blank line before its signatures")
        body, sig_lines = note[: sep + 1], note[sep + 2 :].splitlines()
        if not sig_lines:
            raise CheckpointError("signed note has no signature lines")
        seen_ours = False
        for line in sig_lines:
            if not line.startswith(SIG_PREFIX):
                raise CheckpointError(f"malformed signature line {line[:40]!r}")
            name, _, blob_text = line[len(SIG_PREFIX) :].partition(" ")
            try:
                blob = base64.b64decode(blob_text, validate=True)
            except binascii.Error as exc:
                raise CheckpointError("signature is not base64") from exc
            if name != self.name or blob[:4] != self.key_id:
                continue  # someone else's signature (a witness): not ours to check
            seen_ours = True
            try:
                self._key.verify(blob[4:], body.encode("utf-8"))
            except InvalidSignature as exc:
                raise CheckpointError(f"signature by {self.name} does not verify") from exc
        if not seen_ours:
            raise CheckpointError(f"no signature by key {self.name}+{self.key_id.hex()}")
        return body


def sign_checkpoint(signer: NoteSigner, checkpoint: Checkpoint) -> str:
    return signer.sign(checkpoint.body())


def verify_checkpoint(verifier: NoteVerifier, note: str, origin: str | None = None) -> Checkpoint:
    """Check the signature and parse the body; optionally require an origin."""
    cp = Checkpoint.parse_body(verifier.open(note))
    if origin is not None and cp.origin != origin:
        raise CheckpointError(f"checkpoint origin {cp.origin!r} is not the expected {origin!r}")
    return cp


def parse_unverified(note: str) -> Checkpoint:
    """Parse a checkpoint note's body without checking signatures (for display only)."""
    sep = note.rfind("\n\n")
    if sep < 0:
        raise CheckpointError("signed note lacks the blank line before its signatures")
    return Checkpoint.parse_body(note[: sep + 1])
