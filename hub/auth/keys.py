"""Ed25519 signing keys for the stand-in identity provider (``pingan token keygen``).

Writes the private key as PKCS#8 PEM (owner-only permissions) and adds its
public half to a JWKS file. The key id is the RFC 7638 JWK thumbprint, so the
same key always gets the same ``kid`` and rotation is just "generate another key
into the same directory": the JWKS then lists both until the old one is removed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.auth.errors import KeySetError
from hub.auth.keyset import KeySet

JWKS_FILE_NAME = "jwks.json"


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    """Where ``generate_signing_key`` put things."""

    kid: str
    private_key_file: Path
    jwks_file: Path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    """The public JWK (RFC 8037 section 2) with ``kid`` defaulting to the RFC 7638 thumbprint."""
    x = _b64url(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    # RFC 7638 section 3.2: required members only, lexicographic order, no whitespace.
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    thumbprint = _b64url(hashlib.sha256(canonical.encode("ascii")).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid or thumbprint, "alg": "EdDSA", "use": "sig"}


def generate_signing_key(out_dir: str | Path, *, kid: str | None = None) -> GeneratedKey:
    """Create a new Ed25519 key in ``out_dir`` and add its public JWK to ``out_dir/jwks.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    private_key = Ed25519PrivateKey.generate()
    jwk = public_jwk(private_key.public_key(), kid)
    jwks_path = out / JWKS_FILE_NAME
    document: dict[str, list[dict[str, str]]] = {"keys": []}
    if jwks_path.exists():
        existing = KeySet.from_jwks(
            _read_json(jwks_path), source=str(jwks_path)
        )  # validates before we append
        if jwk["kid"] in existing.keys:
            raise KeySetError(f"{jwks_path}: kid {jwk['kid']!r} already present; choose another --kid")
        document = _read_json(jwks_path)
    key_path = out / f"{_safe_file_stem(jwk['kid'])}.key.pem"
    if key_path.exists():
        raise KeySetError(f"{key_path}: already exists; refusing to overwrite a private key")
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    document["keys"].append(jwk)
    tmp = jwks_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(jwks_path)
    return GeneratedKey(kid=jwk["kid"], private_key_file=key_path, jwks_file=jwks_path)


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read a PEM (PKCS#8) Ed25519 private key; anything else is a :class:`KeySetError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeySetError(f"{path}: cannot read private key ({exc.__class__.__name__})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeySetError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeySetError(f"{path}: not an Ed25519 private key (caller tokens are EdDSA only)")
    return key


def _read_json(path: Path) -> dict[str, list[dict[str, str]]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except json.JSONDecodeError as exc:
        raise KeySetError(f"{path}: not valid JSON (line {exc.lineno})") from None


def _safe_file_stem(kid: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in kid)[:80]
