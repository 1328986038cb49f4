"""The caller-token verification keys: a JWKS file of Ed25519 public keys.

A JSON Web Key Set (RFC 7517 section 5) holding OKP/Ed25519 keys (RFC 8037),
each with a ``kid``. Several keys may be present so the identity provider can
rotate: tokens name their key in the ``kid`` header and old keys stay valid
until removed from the file. Only public keys are accepted: the hub verifies,
it never signs caller tokens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.auth.errors import KeySetError

_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


@dataclass(frozen=True, slots=True)
class KeySet:
    """Verification keys by key id."""

    keys: Mapping[str, Ed25519PublicKey]

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self.keys.get(kid)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self.keys)

    @classmethod
    def from_jwks(cls, document: Any, *, source: str = "JWKS") -> KeySet:
        """Build from a parsed JWKS document; every key must be a usable Ed25519 public key."""
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise KeySetError(f"{source}: expected a JSON object with a 'keys' list (RFC 7517 section 5)")
        if not document["keys"]:
            raise KeySetError(f"{source}: 'keys' is empty; add at least one Ed25519 public key")
        keys: dict[str, Ed25519PublicKey] = {}
        for i, jwk in enumerate(document["keys"]):
            where = f"{source}: keys[{i}]"
            if not isinstance(jwk, dict):
                raise KeySetError(f"{where}: expected a JSON object")
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                raise KeySetError(
                    f"{where}: only kty 'OKP' with crv 'Ed25519' keys are accepted (EdDSA, RFC 8037)"
                )
            if jwk.get("alg", "EdDSA") != "EdDSA":
                raise KeySetError(f"{where}: 'alg' must be 'EdDSA' when present")
            if jwk.get("use", "sig") != "sig":
                raise KeySetError(f"{where}: 'use' must be 'sig' when present")
            if any(m in jwk for m in _PRIVATE_MEMBERS):
                raise KeySetError(f"{where}: holds private key material; the hub must only get public keys")
            kid = jwk.get("kid")
            if not isinstance(kid, str) or not kid:
                raise KeySetError(
                    f"{where}: 'kid' is missing; every key needs a key id so tokens can name it"
                )
            if kid in keys:
                raise KeySetError(f"{where}: kid {kid!r} appears twice")
            try:
                key = jwt.PyJWK(jwk, algorithm="EdDSA").key
            except jwt.PyJWTError as exc:
                raise KeySetError(f"{where}: not a valid Ed25519 public key ({type(exc).__name__})") from None
            if not isinstance(key, Ed25519PublicKey):
                raise KeySetError(f"{where}: not an Ed25519 public key")
            keys[kid] = key
        return cls(MappingProxyType(keys))


def load_key_set(path: str | Path) -> KeySet:
    """Read a JWKS file (e.g. exported from the organisation's identity provider)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeySetError(f"{path}: JWKS file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeySetError(f"{path}: cannot read JWKS file ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise KeySetError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    return KeySet.from_jwks(document, source=str(path))
