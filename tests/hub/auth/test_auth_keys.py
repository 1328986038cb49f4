"""Key generation and the JWKS key set: rotation, and refusal of unusable key files."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.auth.errors import KeySetError
from hub.auth.keys import GeneratedKey, generate_signing_key, load_private_key, public_jwk
from hub.auth.keyset import KeySet, load_key_set


def test_keygen_writes_owner_only_private_key_and_public_jwks(signing_key: GeneratedKey) -> None:
    assert stat.S_IMODE(signing_key.private_key_file.stat().st_mode) == 0o600
    document = json.loads(signing_key.jwks_file.read_text())
    [jwk] = document["keys"]
    assert (
        jwk["kid"] == signing_key.kid and jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    )
    key = load_private_key(signing_key.private_key_file)
    assert public_jwk(key.public_key()) == jwk  # the kid is the key's own thumbprint


def test_rfc8037_thumbprint_example() -> None:
    # RFC 8037 Appendix A.3: thumbprint of the example Ed25519 public key.
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    jwk = public_jwk(Ed25519PublicKey.from_public_bytes(raw))
    assert jwk["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert jwk["kid"] == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_second_keygen_adds_a_key_for_rotation(key_dir: Path, signing_key: GeneratedKey) -> None:
    second = generate_signing_key(key_dir, kid="2026-12")
    assert load_key_set(second.jwks_file).key_ids == (signing_key.kid, "2026-12")
    with pytest.raises(KeySetError, match="already present"):
        generate_signing_key(key_dir, kid="2026-12")


def _jwks(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _ed_jwk(kid: str = "k1") -> dict[str, str]:
    return public_jwk(Ed25519PrivateKey.generate().public_key(), kid)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ({"nokeys": []}, "'keys' list"),
        ({"keys": []}, "'keys' is empty"),
        ({"keys": ["x"]}, "keys[0]: expected a JSON object"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "only kty 'OKP'"),
        ({"keys": [{**_ed_jwk(), "alg": "HS256"}]}, "'alg' must be 'EdDSA'"),
        ({"keys": [{**_ed_jwk(), "use": "enc"}]}, "'use' must be 'sig'"),
        ({"keys": [{**_ed_jwk(), "d": "AAAA"}]}, "private key material"),
        ({"keys": [{k: v for k, v in _ed_jwk().items() if k != "kid"}]}, "'kid' is missing"),
        ({"keys": [_ed_jwk("same"), _ed_jwk("same")]}, "keys[1]: kid 'same' appears twice"),
        ({"keys": [{**_ed_jwk(), "x": "short"}]}, "not a valid Ed25519 public key"),
    ],
)
def test_unusable_jwks_files_are_refused_naming_file_and_key(
    tmp_path: Path, document: Any, fragment: str
) -> None:
    path = _jwks(tmp_path, document)
    with pytest.raises(KeySetError) as info:
        load_key_set(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_missing_jwks_file(tmp_path: Path) -> None:
    with pytest.raises(KeySetError, match="JWKS file not found"):
        load_key_set(tmp_path / "absent.json")


def test_keyset_is_read_only(signing_key: GeneratedKey) -> None:
    keys = load_key_set(signing_key.jwks_file)
    with pytest.raises(TypeError):
        keys.keys["extra"] = None  # type: ignore[index]
    assert isinstance(keys, KeySet)


def test_private_key_must_be_ed25519_pem(tmp_path: Path) -> None:
    ec = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "ec.pem").write_bytes(ec)
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(KeySetError, match="not an Ed25519 private key"):
        load_private_key(tmp_path / "ec.pem")
    with pytest.raises(KeySetError, match="not an unencrypted PEM"):
        load_private_key(tmp_path / "junk.pem")
    with pytest.raises(KeySetError, match="cannot read"):
        load_private_key(tmp_path / "absent.pem")
